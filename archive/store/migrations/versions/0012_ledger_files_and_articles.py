"""The ledger covers what exports and `show` read beside the versions: the files each version
names (with their link texts), each archived file's capture, and each article's URL and
status. Archives made before this get an entry for each such row as it stands now.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-26
"""

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

# Frozen copies of archive.store.ledger's rules as they were when this migration was written:
# a migration must not change meaning when the code later does.
GENESIS = "0" * 64
LEDGER_LOCK = 0x63680002
ARTICLE = ("id", "url", "site", "docid", "status", "gone_at")
FILE = ("id", "url", "kind", "capture_id", "sha256", "size", "media_type")
NAMED = ("file_id", "role", "name", "position", "capture_id")


def _digest(canonical: dict[str, Any]) -> str:
    encoded = json.dumps(canonical, ensure_ascii=False, sort_keys=True).encode("utf-8")
    return hashlib.sha256(encoded).hexdigest()


def _select(columns: tuple[str, ...], table: str, where: str = "") -> str:
    quoted = ", ".join(f'"{c}"' for c in columns)
    return f"select {quoted} from {table}{where} order by id"


def _entries(connection: sa.Connection) -> list[tuple[str, int, str]]:
    """(kind, ref_id, digest) of every row the ledger did not cover before, in id order."""
    entries = []
    for row in connection.execute(sa.text(_select(ARTICLE, "articles"))):
        entries.append(("article", row.id, _digest(dict(zip(ARTICLE, row, strict=True)))))
    for row in connection.execute(sa.text(_select(FILE, "files", " where sha256 is not null"))):
        entries.append(("file", row.id, _digest(dict(zip(FILE, row, strict=True)))))
    named: dict[int, list[list[Any]]] = {
        version_id: []
        for (version_id,) in connection.execute(sa.text(_select(("id",), "article_versions")))
    }
    quoted = ", ".join(f'"{c}"' for c in NAMED)
    for row in connection.execute(sa.text(f"select version_id, {quoted} from version_files")):
        named[row.version_id].append(list(row)[1:])
    for version_id, files in named.items():
        entries.append(
            ("named_files", version_id, _digest({"version_id": version_id, "files": sorted(files)}))
        )
    return entries


def upgrade() -> None:
    connection = op.get_bind()
    if connection.dialect.name == "postgresql":
        connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": LEDGER_LOCK})
    head = connection.scalar(sa.text("select entry_hash from ledger order by id desc limit 1"))
    head = head or GENESIS
    now = datetime.now(UTC).isoformat(timespec="microseconds")
    rows = []
    for kind, ref_id, digest in _entries(connection):
        head = hashlib.sha256((head + digest).encode("ascii")).hexdigest()
        rows.append(
            {
                "kind": kind,
                "ref_id": ref_id,
                "digest": digest,
                "entry_hash": head,
                "created_at": now,
            }
        )
    if rows:
        connection.execute(
            sa.text(
                "insert into ledger (kind, ref_id, digest, entry_hash, created_at)"
                " values (:kind, :ref_id, :digest, :entry_hash, :created_at)"
            ),
            rows,
        )


def downgrade() -> None:
    # Entries are appended to a hash chain and never taken out: the chain stays valid, and
    # the older code's verify reports the kinds it does not know.
    pass
