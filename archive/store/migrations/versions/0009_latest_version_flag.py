"""Each article's newest version is flagged, so that search on PostgreSQL filters by an
index condition instead of a correlated max(number) per candidate; the pair index and a
`published` index cover the newest versions only. pg_trgm's indexes of 0005 go: search uses
the pairs of 0007, and every version written entered them twice (insert, then the pairs).

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "article_versions",
        sa.Column("is_latest", sa.Boolean(), nullable=False, server_default=sa.true()),
    )
    op.execute(
        "UPDATE article_versions SET is_latest = (number = (SELECT max(v.number)"
        " FROM article_versions AS v WHERE v.article_id = article_versions.article_id))"
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE INDEX ix_article_versions_latest_pairs ON article_versions"
            " USING gin (search_pairs) WHERE is_latest"
        )
        op.execute(
            "CREATE INDEX ix_article_versions_latest_published ON article_versions"
            " (published DESC NULLS LAST, id DESC) WHERE is_latest"
        )
        # Pairs are many: with the default statistics PostgreSQL knows too few of them and
        # guesses 1% of rows for the rest, then gathers thousands of candidates it meant to
        # walk past (BENCHMARKS.md).
        op.execute("ALTER TABLE article_versions ALTER COLUMN search_pairs SET STATISTICS 2000")
        op.execute("DROP INDEX IF EXISTS ix_article_versions_title_trgm")
        op.execute("DROP INDEX IF EXISTS ix_article_versions_body_trgm")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE article_versions ALTER COLUMN search_pairs SET STATISTICS -1")
        op.execute(
            "CREATE INDEX ix_article_versions_title_trgm ON article_versions"
            " USING gin (title gin_trgm_ops)"
        )
        op.execute(
            "CREATE INDEX ix_article_versions_body_trgm ON article_versions"
            " USING gin (body gin_trgm_ops)"
        )
        op.execute("DROP INDEX ix_article_versions_latest_published")
        op.execute("DROP INDEX ix_article_versions_latest_pairs")
    op.execute("ALTER TABLE article_versions DROP COLUMN is_latest")
