"""A capture whose payload decodes past the crawl's size limit (a decompression bomb) is
flagged `oversize`: its wire bytes are archived as they came, it is never inflated, and its
content digest and size are those of the payload as on the wire. capture_log shows the flag,
and crawl_run_summary the run's dead links (404/410 answers, counted apart from failures).

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-27
"""

import importlib

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

# The views as 0004 (SQLite) and 0006 (PostgreSQL) froze them, and what this revision adds.
CONTENT_SIZE = "    c.content_size,\n"
SQLITE_FAILED = """    CASE WHEN json_valid(r.summary_json) THEN json_extract(r.summary_json, '$.failed') END
        AS failed
"""
SQLITE_DEAD = """,
    CASE WHEN json_valid(r.summary_json) THEN json_extract(r.summary_json, '$.dead') END
        AS dead
"""
POSTGRESQL_FAILED = "(r.summary_json::jsonb ->> 'failed')::integer AS failed\n"
POSTGRESQL_DEAD = ",\n    (r.summary_json::jsonb ->> 'dead')::integer AS dead\n"


def _views(dialect: str) -> tuple[dict[str, str], dict[str, str]]:
    """(the two views as they were, as they are from here on)."""
    if dialect == "postgresql":
        frozen = importlib.import_module("archive.store.migrations.versions.0006_postgresql_views")
        old = frozen._views()
        failed, dead = POSTGRESQL_FAILED, POSTGRESQL_DEAD
    else:
        old = importlib.import_module("archive.store.migrations.versions.0004_views").VIEWS
        failed, dead = SQLITE_FAILED, SQLITE_DEAD
    old = {name: old[name] for name in ("capture_log", "crawl_run_summary")}
    assert CONTENT_SIZE in old["capture_log"] and failed in old["crawl_run_summary"]
    new = {
        "capture_log": old["capture_log"].replace(CONTENT_SIZE, CONTENT_SIZE + "    c.oversize,\n"),
        "crawl_run_summary": old["crawl_run_summary"].replace(failed, failed.rstrip("\n") + dead),
    }
    return old, new


def _replace_views(views: dict[str, str]) -> None:
    for name, sql in views.items():
        op.execute(f"DROP VIEW IF EXISTS {name}")
        op.execute(sql)


def upgrade() -> None:
    # A plain ADD COLUMN (not a batch copy): the views of 0004 name captures.
    op.add_column(
        "captures",
        sa.Column("oversize", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    _replace_views(_views(op.get_bind().dialect.name)[1])


def downgrade() -> None:
    _replace_views(_views(op.get_bind().dialect.name)[0])
    op.execute("ALTER TABLE captures DROP COLUMN oversize")
