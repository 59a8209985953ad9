"""Each version says why it exists (`cause`: crawl, file, reextract) and which extraction read
its fields (`extractor_version`), and the ledger covers both. Older versions get `crawl`, or
`file` where a revisit made them because a file they name changed (such a version keeps the
digest of the one before it), and an unknown extractor; the ledger gets an entry for each as
it stands now. Run again after a downgrade, it enters only the versions written meanwhile.

Revision ID: 0014
Revises: 0012 (the lead chains it after 0013 at merge)
Create Date: 2026-12-03
"""

import hashlib
import json
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

# Frozen copies of archive.store.ledger's rules as they were when this migration was written:
# a migration must not change meaning when the code later does.
GENESIS = "0" * 64
LEDGER_LOCK = 0x63680002
KIND = "version_cause"
COVERED = ("id", "cause", "extractor_version")
BATCH = 5000


def _digest(canonical: dict[str, object]) -> str:
    encoded = json.dumps(canonical, ensure_ascii=False, sort_keys=True).encode("utf-8")
    return hashlib.sha256(encoded).hexdigest()


def upgrade() -> None:
    connection = op.get_bind()
    columns = {column["name"] for column in sa.inspect(connection).get_columns("article_versions")}
    # Present when the archive was brought down past this migration and up again (the
    # downgrade keeps them, see below).
    if "cause" not in columns:
        op.add_column(
            "article_versions",
            sa.Column("cause", sa.String(16), nullable=False, server_default="crawl"),
        )
    if "extractor_version" not in columns:
        op.add_column("article_versions", sa.Column("extractor_version", sa.String(64)))
    entered = f"(SELECT ref_id FROM ledger WHERE kind = '{KIND}')"
    # A version a changed file made copies the fields, and so the digest, of the one before.
    op.execute(
        "UPDATE article_versions SET cause = 'file' WHERE EXISTS (SELECT 1 FROM article_versions"
        " AS p WHERE p.article_id = article_versions.article_id"
        " AND p.number = article_versions.number - 1"
        " AND p.content_sha256 = article_versions.content_sha256)"
        f" AND id NOT IN {entered}"
    )
    if connection.dialect.name == "postgresql":
        connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": LEDGER_LOCK})
    head = connection.scalar(sa.text("select entry_hash from ledger order by id desc limit 1"))
    head = head or GENESIS
    now = datetime.now(UTC).isoformat(timespec="microseconds")
    rows = []
    for row in connection.execute(
        sa.text(
            "select id, cause, extractor_version from article_versions"
            f" where id not in {entered} order by id"
        )
    ):
        digest = _digest(dict(zip(COVERED, row, strict=True)))
        head = hashlib.sha256((head + digest).encode("ascii")).hexdigest()
        rows.append(
            {
                "kind": KIND,
                "ref_id": row.id,
                "digest": digest,
                "entry_hash": head,
                "created_at": now,
            }
        )
    insert = sa.text(
        "insert into ledger (kind, ref_id, digest, entry_hash, created_at)"
        " values (:kind, :ref_id, :digest, :entry_hash, :created_at)"
    )
    for start in range(0, len(rows), BATCH):
        connection.execute(insert, rows[start : start + BATCH])


def downgrade() -> None:
    # The columns stay: the older code never reads them (a version it writes gets `crawl`
    # and no extractor), and the ledger's entries of them stay valid (a hash chain is never
    # cut). Upgrading again enters only the versions written meanwhile.
    pass
