"""A version names the bytes of its files, not only their URLs: `version_files.capture_id`
is the capture holding the bytes this version names when they are not the file's own
(`files.capture_id`, its first fetch). A revisit that finds an attachment or image changed
at the same URL makes a new version of each article naming it; the older versions keep the
bytes they named. The `article_files` view shows each version's own bytes.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

FOREIGN_KEY = "fk_version_files_capture_id_captures"
ARTICLE_FILES = """
CREATE VIEW article_files AS
SELECT
    a.url AS article_url,
    v.number AS version,
    vf.role,
    vf.name,
    f.url,
    coalesce(c.content_sha256, f.sha256) AS sha256,
    coalesce(c.content_size, f.size) AS size,
    coalesce(c.media_type, f.media_type) AS media_type,
    coalesce(c.status, f.status) AS status,
    f.problem
FROM version_files AS vf
JOIN article_versions AS v ON v.id = vf.version_id
JOIN articles AS a ON a.id = v.article_id
JOIN files AS f ON f.id = vf.file_id
LEFT JOIN captures AS c ON c.id = vf.capture_id
"""


def _previous_view() -> str:
    import importlib

    return importlib.import_module("archive.store.migrations.versions.0004_views").VIEWS[
        "article_files"
    ]


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # SQLite adds a column with its reference in place; Alembic would rebuild the table.
        op.execute(
            "ALTER TABLE version_files ADD COLUMN capture_id INTEGER REFERENCES captures (id)"
        )
    else:
        op.add_column(
            "version_files",
            sa.Column(
                "capture_id",
                sa.Integer(),
                sa.ForeignKey("captures.id", name=FOREIGN_KEY),
                nullable=True,
            ),
        )
    # A revisited file's articles are found by file_id; the primary key starts with the version.
    op.create_index("ix_version_files_file_id", "version_files", ["file_id"])
    op.execute("DROP VIEW IF EXISTS article_files")
    op.execute(ARTICLE_FILES)


def downgrade() -> None:
    op.drop_index("ix_version_files_file_id", "version_files")
    op.execute("DROP VIEW IF EXISTS article_files")
    op.execute(_previous_view())
    # Not a batch (copy-and-rename) operation: the views of 0004 name version_files.
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"ALTER TABLE version_files DROP CONSTRAINT {FOREIGN_KEY}")
    op.execute("ALTER TABLE version_files DROP COLUMN capture_id")
