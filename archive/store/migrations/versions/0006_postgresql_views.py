"""The analysts' views on PostgreSQL (SQLite got them in 0004): the same names and columns.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25

Differences from the SQLite text, frozen here: string_agg for group_concat, jsonb ->> for
json_extract.
"""

import importlib

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

SECTIONS_SQLITE = """(
        SELECT group_concat(s.section, ',')
        FROM (
            SELECT l.section FROM listings AS l WHERE l.article_url = a.url ORDER BY l.section
        ) AS s
    )"""
SECTIONS_POSTGRESQL = """(
        SELECT string_agg(l.section, ',' ORDER BY l.section)
        FROM listings AS l WHERE l.article_url = a.url
    )"""
COUNTS = ("new", "updated", "unchanged", "gone", "failed")


def _views() -> dict[str, str]:
    sqlite_views = importlib.import_module("archive.store.migrations.versions.0004_views").VIEWS
    views = dict(sqlite_views)
    views["latest_articles"] = views["latest_articles"].replace(
        SECTIONS_SQLITE, SECTIONS_POSTGRESQL
    )
    counts = ",\n    ".join(
        f"(r.summary_json::jsonb ->> '{name}')::integer AS {name}" for name in COUNTS
    )
    views["crawl_run_summary"] = f"""
CREATE VIEW crawl_run_summary AS
SELECT
    r.id, r.site, r.mode, r.status, r.exit_code, r.started_at, r.finished_at,
    {counts}
FROM crawl_runs AS r
"""
    return views


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    views = _views()
    assert SECTIONS_POSTGRESQL in views["latest_articles"], "0004's text changed"
    for sql in views.values():
        op.execute(sql)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for name in reversed(list(_views())):
        op.execute(f"DROP VIEW IF EXISTS {name}")
