"""Huge texts beside their row: `version_texts` holds, as UTF-8, a version's body or
body_html of more than 1,048,576 characters written on SQLite, whose column in
article_versions is then null (SQLite builds a row's whole record in memory: a 50 MB
paragraph in body and body_html cost some 200 MB there). The view `latest_articles` reads
the body wherever it is. Texts written before stay in their rows; PostgreSQL keeps every
text in its row, and gets the table only so that both schemas are one.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

# 0004's latest_articles with its body read wherever it is kept, frozen as at this revision.
LATEST_ARTICLES = """CREATE VIEW latest_articles AS
SELECT
    a.url,
    a.site,
    a.docid,
    a.status,
    a.gone_at,
    v.title,
    v.source,
    v.author,
    v.published,
    v.published_raw,
    coalesce(
        v.body,
        (SELECT CAST(t.body AS TEXT) FROM version_texts AS t WHERE t.version_id = v.id)
    ) AS body,
    (
        SELECT group_concat(s.section, ',')
        FROM (
            SELECT l.section FROM listings AS l WHERE l.article_url = a.url ORDER BY l.section
        ) AS s
    ) AS sections,
    (
        SELECT count(*) FROM version_files AS vf
        WHERE vf.version_id = v.id AND vf.role = 'attachment'
    ) AS attachment_count,
    (
        SELECT count(*) FROM version_files AS vf
        WHERE vf.version_id = v.id AND vf.role = 'image'
    ) AS image_count,
    v.number AS version,
    (SELECT count(*) FROM article_versions AS av WHERE av.article_id = a.id) AS versions,
    c.content_sha256 AS snapshot_sha256,
    c.fetched_at,
    a.first_seen_at,
    a.last_seen_at,
    v.problems_json
FROM articles AS a
JOIN article_versions AS v
    ON v.article_id = a.id
    AND v.number = (SELECT max(av.number) FROM article_versions AS av WHERE av.article_id = a.id)
LEFT JOIN captures AS c
    -- the newest capture behind the version, as the export's `snapshot`
    ON c.id = (SELECT max(vc.capture_id) FROM version_captures AS vc WHERE vc.version_id = v.id)
"""


def upgrade() -> None:
    connection = op.get_bind()
    if "version_texts" not in sa.inspect(connection).get_table_names():
        op.create_table(
            "version_texts",
            sa.Column("version_id", sa.Integer(), nullable=False),
            sa.Column("body_html", sa.LargeBinary(), nullable=True),
            sa.Column("body", sa.LargeBinary(), nullable=True),
            sa.ForeignKeyConstraint(
                ["version_id"],
                ["article_versions.id"],
                name="fk_version_texts_version_id_article_versions",
            ),
            sa.PrimaryKeyConstraint("version_id", name="pk_version_texts"),
        )
    if connection.dialect.name == "sqlite":
        op.execute("DROP VIEW IF EXISTS latest_articles")
        op.execute(LATEST_ARTICLES)


def downgrade() -> None:
    # The table stays (older code never reads it; dropping it would lose the texts it
    # holds), and so does the view that reads them.
    pass
