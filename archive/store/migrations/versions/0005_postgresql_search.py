"""Trigram indexes for search on PostgreSQL (a no-op on SQLite, which has its FTS5 index).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for column in ("title", "body"):
        op.execute(
            f"CREATE INDEX IF NOT EXISTS ix_article_versions_{column}_trgm"
            f" ON article_versions USING gin ({column} gin_trgm_ops)"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for column in ("title", "body"):
        op.execute(f"DROP INDEX IF EXISTS ix_article_versions_{column}_trgm")
