"""The tamper-evidence ledger: a hash chain over captures, versions and closed WARC files.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

import hashlib
import json
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# Frozen copies of archive.store.ledger's rules as they were when this migration was written:
# a migration must not change meaning when the code later does.
GENESIS = "0" * 64
COVERED = {
    "captures": (
        "capture",
        (
            "id",
            "run_id",
            "url",
            "method",
            "status",
            "fetched_at",
            "media_type",
            "location",
            "etag",
            "last_modified",
            "warc_file_id",
            "record_type",
            "record_id",
            "offset",
            "length",
            "request_offset",
            "request_length",
            "payload_sha256",
            "payload_size",
            "content_sha256",
            "content_size",
            "refers_to_id",
        ),
    ),
    "article_versions": (
        "version",
        (
            "id",
            "article_id",
            "number",
            "content_sha256",
            "capture_id",
            "title",
            "source",
            "source_raw",
            "author",
            "author_raw",
            "published",
            "published_raw",
            "info_raw",
            "body",
            "body_html",
            "meta_json",
            "encoding",
            "template",
            "problems_json",
            "first_seen_at",
        ),
    ),
    "warc_files": ("warc_file", ("id", "name", "size", "sha256")),
}


def upgrade() -> None:
    op.create_table(
        "ledger",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("ref_id", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("entry_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger")),
    )
    # Archives made before the ledger: enter what they hold, in the order it was written.
    connection = op.get_bind()
    head = GENESIS
    now = datetime.now(UTC).isoformat(timespec="microseconds")
    for table, (kind, columns) in COVERED.items():
        where = " where sha256 is not null" if table == "warc_files" else ""
        quoted = ", ".join(f'"{c}"' for c in columns)
        rows = connection.execute(sa.text(f"select {quoted} from {table}{where} order by id"))
        for row in rows:
            canonical = dict(zip(columns, row, strict=True))
            encoded = json.dumps(canonical, ensure_ascii=False, sort_keys=True).encode("utf-8")
            digest = hashlib.sha256(encoded).hexdigest()
            head = hashlib.sha256((head + digest).encode("ascii")).hexdigest()
            connection.execute(
                sa.text(
                    "insert into ledger (kind, ref_id, digest, entry_hash, created_at)"
                    " values (:kind, :ref_id, :digest, :entry_hash, :created_at)"
                ),
                {
                    "kind": kind,
                    "ref_id": canonical["id"],
                    "digest": digest,
                    "entry_hash": head,
                    "created_at": now,
                },
            )


def downgrade() -> None:
    op.drop_table("ledger")
