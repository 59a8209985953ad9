"""The `article_sections` view shows the sections of archived articles only. A list page may
link a URL that was never archived (it answered 404, robots.txt forbids it): `listings` keeps
that link as seen, but counting sections from the view disagreed with `stats` and exports.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-25
"""

import importlib

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

ARTICLE_SECTIONS = """
CREATE VIEW article_sections AS
SELECT
    l.article_url,
    l.site,
    l.section,
    l.section_name,
    l.list_url,
    l.first_seen_at,
    l.last_seen_at
FROM listings AS l
JOIN articles AS a ON a.url = l.article_url
"""


def upgrade() -> None:
    op.execute("DROP VIEW IF EXISTS article_sections")
    op.execute(ARTICLE_SECTIONS)


def downgrade() -> None:
    previous = importlib.import_module("archive.store.migrations.versions.0004_views").VIEWS
    op.execute("DROP VIEW IF EXISTS article_sections")
    op.execute(previous["article_sections"])
