"""Fixity audit: WARC files against their digests and framing, database rows against the
records they point at, every record indexed, and the ledger's hash chain."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.errors import SnapshotCorrupt
from archive.evidence.findings import Problem, Progress, VerifyReport
from archive.evidence.ledger_check import check_ledger
from archive.evidence.losses import acknowledge_losses
from archive.evidence.warc_check import StoredRecord
from archive.evidence.warc_files import check_files
from archive.store.home import ArchiveHome
from archive.store.ledger import (
    GENESIS,
)
from archive.store.models import (
    Capture,
    File,
    LedgerEntry,
    WarcFile,
)
from archive.store.recovery import QUARANTINE_DIR
from archive.store.warcstore import read_record


def _check_captures(
    session: Session,
    home: ArchiveHome,
    contents: dict[str, dict[int, StoredRecord]],
    since: datetime | None,
    report: VerifyReport,
) -> None:
    # Files the careful reading found damaged: after a damaged gzip member warcio may read on
    # (saying so on stderr) or stop, and a record it did not give back may be whole.
    damaged_files: set[str | None] = {p.file for p in report.problems if p.file is not None}
    missing = {p.file for p in report.problems if p.what == "WARC file missing"}
    open_files = set(session.scalars(select(WarcFile.name).where(WarcFile.closed_at.is_(None))))
    # Columns, not ORM objects: an object per capture costs more than the check of it.
    query = select(
        Capture.id,
        Capture.url,
        Capture.record_id,
        Capture.offset,
        Capture.length,
        Capture.payload_sha256,
        Capture.record_type,
        Capture.oversize,
        Capture.refers_to_id,
        WarcFile.name,
    ).join(WarcFile, WarcFile.id == Capture.warc_file_id)
    if since is not None:
        query = query.where(Capture.fetched_at >= since)
    indexed: dict[str, set[str]] = {}
    damaged: set[int] = set()  # captures whose record cannot be read back
    # In batches: the result would otherwise hold every capture of the archive at once.
    batches = query.order_by(Capture.id).execution_options(yield_per=1000)
    for capture in session.execute(batches):
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
    capture: Any,  # a row of the query above
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
        try:
            read_record(path, capture.offset, capture.length)
        except SnapshotCorrupt as error:
            return f"capture {capture.id}: {error}"
        return None
    if stored is None or stored.record_id != capture.record_id:
        return f"capture {capture.id} points at no record"
    if stored.payload_sha256 is not None and stored.payload_sha256 != capture.payload_sha256:
        return f"capture {capture.id}: payload does not match its SHA-256"
    return None


def _check_file_rows(session: Session, report: VerifyReport) -> None:
    """An attachment's or image's digest, size and type are copies of its capture's, which
    the ledger covers: a copy that differs was edited (exports and `show` read it)."""
    rows = session.execute(
        select(
            File.id,
            File.url,
            File.sha256,
            File.size,
            File.media_type,
            Capture.content_sha256,
            Capture.content_size,
            Capture.media_type.label("capture_media_type"),
        )
        .join(Capture, Capture.id == File.capture_id)
        .where(File.sha256.is_not(None))
        .execution_options(yield_per=1000)
    )
    for file_id, url, sha256, size, media_type, *of_capture in rows:
        if [sha256, size, media_type] != of_capture:
            report.problems.append(
                Problem(f"file {file_id} was edited: it no longer matches its capture", url=url)
            )


def ledger_head(session: Session) -> str:
    last = session.scalar(select(LedgerEntry.entry_hash).order_by(LedgerEntry.id.desc()).limit(1))
    return last or GENESIS


def verify(
    session: Session,
    home: ArchiveHome,
    since: datetime | None = None,
    progress: Progress | None = None,
    jobs: int = 1,
) -> VerifyReport:
    """Audit the archive; `since` reads only WARC files and captures written after it (the
    ledger chain is always checked whole: it is cheap). `jobs` worker processes check the
    WARC files, several at a time."""
    report = VerifyReport()
    progress = progress or Progress()
    contents = check_files(session, home, since, report, progress, jobs)
    _check_captures(session, home, contents, since, report)
    check_ledger(session, report, progress)
    _check_file_rows(session, report)
    acknowledge_losses(session, home, report)  # what `repair` made good: notes
    quarantine = home.warc_dir / QUARANTINE_DIR
    if quarantine.exists():
        for tail in sorted(quarantine.iterdir()):
            report.notes.append(f"set aside after an interrupted crawl: {tail}")
    return report
