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


def index_digest(index: Iterable[tuple[int, Any, Any, Any]]) -> str:
    """SHA-256 of a file's record index: (offset, record id, type, payload SHA-256) of each
    response and revisit record, the payload digest a response's alone (a revisit's payload
    is its referent's). The same whether made from the records or from the capture rows."""
    digest = hashlib.sha256()
    for offset, record_id, record_type, payload_sha256 in sorted(index, key=lambda e: e[0]):
        if record_type not in INDEXED_TYPES:
            continue
        payload = payload_sha256 if record_type == "response" else ""
        digest.update(f"{offset} {record_id} {record_type} {payload}\n".encode())
    return digest.hexdigest()


EMPTY_INDEX = index_digest(())
"""The index of a file no capture row points into."""


def records_index(records: dict[int, StoredRecord]) -> str:
    return index_digest(
        (offset, record.record_id, record.record_type, record.payload_sha256)
        for offset, record in records.items()
    )


def close_file(path: Path) -> ClosedFile:
    """The size, SHA-256 and, where the fast pass vouches for every record, the seal of a
    file being closed, in one read of it."""
    scan = scan_warc(path, being_written=False)
    if scan is None or scan.valid != scan.size:
        return ClosedFile(path.stat().st_size, file_sha256(path), None, None)
    return ClosedFile(scan.size, scan.sha256, len(scan.records), records_index(scan.records))


INDEX_OF_ROWS = (
    'SELECT w.name, c."offset", c.record_id, c.record_type, c.payload_sha256'
    " FROM captures c JOIN warc_files w ON w.id = c.warc_file_id"
    " WHERE w.index_sha256 IS NOT NULL"
)


def indexes_of_rows(raw: Any) -> dict[str, str]:
    """The index digest of every sealed file, made from the capture rows that point into it.
    `raw`: an archive.evidence.raw_rows.RawRows."""
    by_file: dict[str, list[tuple[int, Any, Any, Any]]] = {}
    for name, *entry in raw.stream(INDEX_OF_ROWS):
        by_file.setdefault(name, []).append(tuple(entry))  # type: ignore[arg-type]
    return {name: index_digest(index) for name, index in by_file.items()}


def entered_seals(raw: Any) -> dict[int, str]:
    """The digest the ledger holds for each file's seal, by the file's id."""
    sql = "SELECT ref_id, digest FROM ledger WHERE kind = 'warc_seal' ORDER BY id"
    return {file_id: digest for file_id, digest in raw.stream(sql)}


def seal_holds(row: dict[str, Any], entered: dict[int, str], rows_index: dict[str, str]) -> bool:
    """Whether a file's records need not be read again: it has a seal, the ledger holds that
    seal as it stands (a seal rewritten to match edited rows is not taken), and the capture
    rows that point into the file give its index."""
    if row.get("index_sha256") is None:
        return False
    seal = {key: row[key] for key in ("id", "record_count", "index_sha256")}
    return entered.get(row["id"]) == row_digest("warc_seal", seal) and (
        rows_index.get(row["name"], EMPTY_INDEX) == row["index_sha256"]
    )
