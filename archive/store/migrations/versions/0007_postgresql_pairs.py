"""Search on PostgreSQL for words of any length: each version's character pairs (the SQLite
index's form) as a tsvector with a GIN index; a word is a phrase query over its pairs.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    from archive.store.search_index import reindex_postgresql  # the writer's own rule

    op.execute("ALTER TABLE article_versions ADD COLUMN search_pairs tsvector")
    reindex_postgresql(bind)
    op.execute(
        "CREATE INDEX ix_article_versions_search_pairs ON article_versions USING gin (search_pairs)"
    )
    op.execute(
        "CREATE INDEX IF NOT EXISTS ix_article_versions_published ON article_versions (published)"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP INDEX IF EXISTS ix_article_versions_published")
    op.execute("DROP INDEX IF EXISTS ix_article_versions_search_pairs")
    op.execute("ALTER TABLE article_versions DROP COLUMN search_pairs")
