"""views for analysts: latest_articles, article_sections, article_files, capture_log,
crawl_run_summary

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26

Plain SQLite SQL, frozen here as it was at this revision; the README documents every column.
PostgreSQL, when it comes, gets its own definitions (string_agg, ->> …) in a later revision.

A later migration that batch-alters a table these views read (articles, article_versions,
listings, version_captures, version_files, files, captures, warc_files, crawl_runs) must
drop the views first and create them again after: batch mode renames a copy of the table
into place, and SQLite refuses the rename while a view names a table that is gone.
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

VIEWS = {
    # Correlated subqueries rather than joins and GROUP BY: each is an index lookup
    # (article_versions (article_id, number), version_captures and version_files by
    # version_id, listings by article_url), and a filter on url or site reaches the base
    # tables before any of them runs.
    # The sections are ordered in a subquery: SQLite before 3.44 has no ORDER BY inside
    # group_concat, and it keeps a subquery's order when the outer query aggregates.
    "latest_articles": """
CREATE VIEW latest_articles AS
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
    v.body,
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
""",
    "article_sections": """
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
""",
    "article_files": """
CREATE VIEW article_files AS
SELECT
    a.url AS article_url,
    v.number AS version,
    vf.role,
    vf.name,
    f.url,
    f.sha256,
    f.size,
    f.media_type,
    f.status,
    f.problem
FROM version_files AS vf
JOIN article_versions AS v ON v.id = vf.version_id
JOIN articles AS a ON a.id = v.article_id
JOIN files AS f ON f.id = vf.file_id
""",
    "capture_log": """
CREATE VIEW capture_log AS
SELECT
    c.id,
    c.url,
    c.fetched_at,
    c.status,
    c.record_type,
    c.media_type,
    c.payload_sha256,
    c.content_sha256,
    c.content_size,
    w.name AS warc_file,
    c."offset",
    c.length,
    c.run_id
FROM captures AS c
JOIN warc_files AS w ON w.id = c.warc_file_id
""",
    # json_valid first: one malformed summary must not make the whole view fail.
    "crawl_run_summary": """
CREATE VIEW crawl_run_summary AS
SELECT
    r.id,
    r.site,
    r.mode,
    r.status,
    r.exit_code,
    r.started_at,
    r.finished_at,
    CASE WHEN json_valid(r.summary_json) THEN json_extract(r.summary_json, '$.new') END AS new,
    CASE WHEN json_valid(r.summary_json) THEN json_extract(r.summary_json, '$.updated') END
        AS updated,
    CASE WHEN json_valid(r.summary_json) THEN json_extract(r.summary_json, '$.unchanged') END
        AS unchanged,
    CASE WHEN json_valid(r.summary_json) THEN json_extract(r.summary_json, '$.gone') END
        AS gone,
    CASE WHEN json_valid(r.summary_json) THEN json_extract(r.summary_json, '$.failed') END
        AS failed
FROM crawl_runs AS r
""",
}


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for sql in VIEWS.values():
        op.execute(sql)


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for name in reversed(VIEWS):
        op.execute(f"DROP VIEW IF EXISTS {name}")
