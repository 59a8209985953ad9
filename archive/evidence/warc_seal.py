"""A closed WARC file's seal: read once when the writer closes it, it holds how many records
the file has and a digest of its record index (`warc_files.record_count`, `index_sha256`,
migration 0020, covered by the ledger as kind `warc_seal`).

The writer seals a file only when the fast pass (archive.evidence.warc_check) vouches for
every record in it: framing, block and payload digests. From then on `verify` need not
read the records again to know them. The file's SHA-256, taken in the same read and covered
by the ledger since, says its bytes are the ones that passed. The index digest made from
the capture rows, equal to the seal's, says the rows point at those records one for one,
as `verify`'s record-by-record check would find. When either differs, `verify` reads the
file record by record, as without a seal, and names what is wrong.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path
from typing import Any, NamedTuple

from archive.evidence.warc_check import StoredRecord, scan_warc
from archive.store.ledger import row_digest
from archive.store.warc_names import file_sha256

INDEXED_TYPES = ("response", "revisit")
"""The records a capture row stands for: every one of them must have its row."""


class ClosedFile(NamedTuple):
    """What the writer stores of a WARC file it closes."""

    size: int
    sha256: str
    record_count: int | None
    """None when the file is not sealed: `verify` reads its records every time."""
    index_sha256: str | None


def _line(offset: int, record_id: Any, record_type: Any, payload_sha256: Any) -> bytes:
    payload = payload_sha256 if record_type == "response" else ""
    return f"{offset} {record_id} {record_type} {payload}\n".encode()


def index_digest(index: Iterable[tuple[int, Any, Any, Any]]) -> str:
    """SHA-256 of a file's record index: (offset, record id, type, payload SHA-256) of each
    response and revisit record in the order of their offsets, the payload digest a
    response's alone (a revisit's payload is its referent's)."""
    digest = hashlib.sha256()
    for entry in sorted(index, key=lambda e: e[0]):
        digest.update(_line(*entry))
    return digest.hexdigest()


EMPTY_INDEX = index_digest(())
"""The index of a file no capture row points into."""


def records_index(records: dict[int, StoredRecord]) -> str:
    """The index of a file's records: its response and revisit records, those a capture row
    must stand for (warcinfo and request records have none)."""
    return index_digest(
        (offset, record.record_id, record.record_type, record.payload_sha256)
        for offset, record in records.items()
        if record.record_type in INDEXED_TYPES
    )


def close_file(path: Path) -> ClosedFile:
    """The size, SHA-256 and, where the fast pass vouches for every record, the seal of a
    file being closed, in one read of it."""
    scan = scan_warc(path, being_written=False)
    if scan is None or scan.valid != scan.size:
        return ClosedFile(path.stat().st_size, file_sha256(path), None, None)
    return ClosedFile(scan.size, scan.sha256, len(scan.records), records_index(scan.records))


INDEX_OF_ROWS = (
    'SELECT c.warc_file_id, c."offset", c.record_id, c.record_type, c.payload_sha256'
    " FROM captures c JOIN warc_files w ON w.id = c.warc_file_id"
    ' WHERE w.index_sha256 IS NOT NULL{since} ORDER BY c.warc_file_id, c."offset", c.id'
)


def indexes_of_rows(raw: Any, since: str | None = None) -> dict[int, str | None]:
    """The index of each sealed file (closed at or after `since`, a stored time, if given)
    made from the capture rows that point into it, by the file's id; None for a file a row
    of another type points into (no record of the file's index stands for it). Streamed, a
    file's digest made as its rows come: an archive holds millions. `raw`: a RawRows."""
    sql = INDEX_OF_ROWS.format(since="" if since is None else " AND w.closed_at >= :since")
    indexes: dict[int, str | None] = {}
    current: int | None = None
    digest: Any = None
    for file_id, offset, record_id, record_type, payload_sha256 in raw.stream(
        sql, None if since is None else {"since": since}
    ):
        if file_id != current:
            if current is not None:
                indexes[current] = None if digest is None else digest.hexdigest()
            current, digest = file_id, hashlib.sha256()
        if record_type not in INDEXED_TYPES:
            digest = None  # the file is read record by record, which names the row
        if digest is not None:
            digest.update(_line(offset, record_id, record_type, payload_sha256))
    if current is not None:
        indexes[current] = None if digest is None else digest.hexdigest()
    return indexes


def entered_digests(raw: Any) -> dict[tuple[str, int], str]:
    """The digest the ledger holds for each WARC file's row and seal, by (kind, file id):
    the latest entry of each."""
    sql = (
        "SELECT kind, ref_id, digest FROM ledger WHERE kind IN ('warc_file', 'warc_seal')"
        " ORDER BY id"
    )
    return {(kind, file_id): digest for kind, file_id, digest in raw.stream(sql)}


def seal_holds(
    row: dict[str, Any],
    entered: dict[tuple[str, int], str],
    rows_index: dict[int, str | None],
) -> bool:
    """Whether a file's records need not be read again: it has a seal, the ledger holds the
    file's row (its size and SHA-256) and its seal as they stand (a seal rewritten to match
    edited rows, or a SHA-256 rewritten to match edited bytes, is not taken), and the
    capture rows that point into the file give its index."""
    if row.get("index_sha256") is None:
        return False
    file_row = {key: row[key] for key in ("id", "name", "size", "sha256")}
    seal = {key: row[key] for key in ("id", "record_count", "index_sha256")}
    return (
        entered.get(("warc_file", row["id"])) == row_digest("warc_file", file_row)
        and entered.get(("warc_seal", row["id"])) == row_digest("warc_seal", seal)
        and rows_index.get(row["id"], EMPTY_INDEX) == row["index_sha256"]
    )
