"""Fixity audit: WARC files against their digests and framing, database rows against the
records they point at, every record indexed, the ledger's hash chain and its Merkle tree
against every recorded head and timestamp token.

It reads with SQL text (archive.evidence.raw_rows): on SQLite through the standard library's
sqlite3 alone, so that `chalco-archive verify` never loads SQLAlchemy there.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from archive.errors import SnapshotCorrupt
from archive.evidence.findings import Problem, Progress, VerifyReport
from archive.evidence.ledger_beside import LedgerPass
from archive.evidence.raw_rows import RawRows
from archive.read.sql import Reader, reader_for
from archive.store.home import ArchiveHome
from archive.store.ledger import GENESIS
from archive.store.times import stored_time
from archive.store.warc_names import QUARANTINE_DIR

if TYPE_CHECKING:
    from archive.evidence.warc_check import StoredRecord

CAPTURES = (
    'SELECT c.id, c.url, c.record_id, c."offset", c."length", c.payload_sha256, c.record_type,'
    " c.oversize, c.refers_to_id, w.name FROM captures c"
    " JOIN warc_files w ON w.id = c.warc_file_id"
)


class _Capture(NamedTuple):
    """A capture's columns as the check reads them (a tuple, not an ORM object)."""

    id: int
    url: str
    record_id: str
    offset: int
    length: int
    payload_sha256: str
    record_type: str
    oversize: Any
    refers_to_id: int | None
    name: str


def _check_captures(
    raw: RawRows,
    home: ArchiveHome,
    contents: dict[str, dict[int, StoredRecord]],
    since: datetime | None,
    report: VerifyReport,
) -> None:
    # Files the careful reading found damaged: after a damaged gzip member warcio may read on
    # (saying so on stderr) or stop, and a record it did not give back may be whole.
    damaged_files: set[str | None] = {p.file for p in report.problems if p.file is not None}
    missing = {p.file for p in report.problems if p.what == "WARC file missing"}
    open_files = {
        name for (name,) in raw.stream("SELECT name FROM warc_files WHERE closed_at IS NULL")
    }
    query, params = CAPTURES, {}
    if since is not None:
        query, params = query + " WHERE c.fetched_at >= :since", {"since": stored_time(since)}
    indexed: dict[str, set[str]] = {}
    damaged: set[int] = set()  # captures whose record cannot be read back
    # Streamed: the result would otherwise hold every capture of the archive at once.
    for row in raw.stream(query + " ORDER BY c.id", params):
        capture = _Capture(*row)
        name = capture.name
        report.captures += 1
        if capture.oversize and capture.record_type == "response":
            report.notes.append(
                f"capture {capture.id} is oversize (decodes past the crawl's size limit): its"
                f" bytes as received are checked, never inflated [{name} @ {capture.offset};"
                f" {capture.url}]"
            )
        indexed.setdefault(name, set()).add(capture.record_id)
        what = _capture_damage(home, capture, contents, damaged_files, missing)
        if what is None and capture.refers_to_id in damaged:
            # A revisit's payload is in the record it refers to (ids only ever grow).
            what = (
                f"capture {capture.id}: its payload is in capture {capture.refers_to_id},"
                " whose record is damaged"
            )
        if what is not None:
            damaged.add(capture.id)
            report.problems.append(Problem(what, name, capture.offset, capture.url, capture.id))
    for name, records in contents.items():
        if name in open_files:
            # A crawl is writing it (or was killed: its next run closes it); records are
            # written before their rows commit, so some are not indexed yet.
            report.notes.append(f"open WARC file, unindexed records not checked: {name}")
            continue
        for offset, stored in records.items():
            if stored.record_type in (
                "response",
                "revisit",
            ) and stored.record_id not in indexed.get(name, set()):
                if since is None:
                    report.problems.append(Problem("record not indexed", name, offset, stored.url))


def _capture_damage(
    home: ArchiveHome,
    capture: _Capture,
    contents: dict[str, dict[int, StoredRecord]],
    damaged_files: set[str | None],
    missing: set[str | None],
) -> str | None:
    """What is wrong with the capture's own record, if anything."""
    name = capture.name
    if name in missing:
        return f"capture {capture.id}: its WARC file is missing"
    if name not in contents:
        return None  # not read (--since), or its file's own problem says it all
    stored = contents[name].get(capture.offset)
    if stored is None and name in damaged_files:
        # The read-through did not give this record back; it may be whole all the same.
        path = home.warc_dir / name
        if path.stat().st_size < capture.offset + capture.length:
            return f"capture {capture.id} points at no record"  # cut off with the file
        from archive.store.warc_records import read_record  # where a file is damaged only

        try:
            read_record(path, capture.offset, capture.length)
        except SnapshotCorrupt as error:
            return f"capture {capture.id}: {error}"
        return None
    if stored is None or stored.record_id != capture.record_id:
        return f"capture {capture.id} points at no record"
    if stored.record_type != capture.record_type:
        return (
            f"capture {capture.id} points at a {stored.record_type} record, not the"
            f" {capture.record_type} its row says"
        )
    if stored.payload_sha256 is not None and stored.payload_sha256 != capture.payload_sha256:
        return f"capture {capture.id}: payload does not match its SHA-256"
    return None


def _check_file_rows(raw: RawRows, report: VerifyReport) -> None:
    """An attachment's or image's digest, size and type are copies of its capture's, which
    the ledger covers: a copy that differs was edited (exports and `show` read it)."""
    rows = raw.stream(
        "SELECT f.id, f.url, f.sha256, f.size, f.media_type, c.content_sha256, c.content_size,"
        " c.media_type FROM files f JOIN captures c ON c.id = f.capture_id"
        " WHERE f.sha256 IS NOT NULL"
    )
    for file_id, url, sha256, size, media_type, *of_capture in rows:
        if [sha256, size, media_type] != of_capture:
            report.problems.append(
                Problem(f"file {file_id} was edited: it no longer matches its capture", url=url)
            )


def ledger_head(database: Reader | Any) -> str:
    last = RawRows(reader_for(database)).scalar(
        "SELECT entry_hash FROM ledger ORDER BY id DESC LIMIT 1"
    )
    return last or GENESIS


def verify(
    database: Reader | Any,
    home: ArchiveHome,
    since: datetime | None = None,
    progress: Progress | None = None,
    jobs: int = 1,
    *,
    known_heads: list[tuple[int, str]] | None = None,
    ca_bundle: Path | None = None,
    deep: bool = False,
) -> VerifyReport:
    """Audit the archive; `since` reads only WARC files and captures written after it (the
    ledger chain and tree are always checked whole: they are cheap). `jobs` worker
    processes check the WARC files, several at a time. `known_heads`: (size, root hex) of
    tree heads held elsewhere, which the ledger must still match; `ca_bundle`: the CAs the
    heads' timestamp tokens must chain to; `deep`: read the records of sealed files too
    (archive.evidence.warc_seal). `database`: a reader (archive.read.sql), or a
    SQLAlchemy session or connection."""
    reader = reader_for(database)
    raw = RawRows(reader)
    report = VerifyReport()
    progress = progress or Progress()
    # The ledger pass reads the database while this process reads the WARC files. The WARC
    # pass's modules are loaded once it has started: on a small archive of sealed files,
    # loading them is a good part of this process's share of the time.
    ledger = LedgerPass(home, reader, known_heads, ca_bundle)
    from archive.evidence.losses import acknowledge_losses
    from archive.evidence.warc_files import check_files

    contents = check_files(reader, home, since, report, progress, jobs, deep)
    _check_captures(raw, home, contents, since, report)
    ledger.result(report, progress)
    _check_file_rows(raw, report)
    acknowledge_losses(raw, home, report)  # what `repair` made good: notes
    quarantine = home.warc_dir / QUARANTINE_DIR
    if quarantine.exists():
        for tail in sorted(quarantine.iterdir()):
            report.notes.append(f"set aside after an interrupted crawl: {tail}")
    return report
