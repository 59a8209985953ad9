"""Fixity audit: WARC files against their digests and framing, database rows against the
records they point at, every record indexed, the ledger's hash chain and its Merkle tree
against every recorded head and timestamp token."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.errors import SnapshotCorrupt
from archive.evidence.findings import Problem, Progress, VerifyReport
from archive.evidence.ledger_check import check_ledger
from archive.evidence.tree_check import TreeCheck
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
    unreadable = {p.file for p in report.problems if p.what.startswith("unreadable from")}
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
        WarcFile.name,
    ).join(WarcFile, WarcFile.id == Capture.warc_file_id)
    if since is not None:
        query = query.where(Capture.fetched_at >= since)
    indexed: dict[str, set[str]] = {}
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
        if name not in contents:
            continue  # the file's own problem is already reported
        stored = contents[name].get(capture.offset)
        if stored is None and name in unreadable:
            # The read-through stopped at a damaged record; this one may be intact.
            try:
                read_record(home.warc_dir / name, capture.offset, capture.length)
                continue
            except SnapshotCorrupt as error:
                report.problems.append(
                    Problem(f"capture {capture.id}: {error}", name, capture.offset, capture.url)
                )
                continue
        if stored is None or stored.record_id != capture.record_id:
            report.problems.append(
                Problem(
                    f"capture {capture.id} points at no record", name, capture.offset, capture.url
                )
            )
        elif stored.payload_sha256 is not None and stored.payload_sha256 != capture.payload_sha256:
            report.problems.append(
                Problem(
                    f"capture {capture.id}: payload does not match its SHA-256",
                    name,
                    capture.offset,
                    capture.url,
                )
            )
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
    *,
    known_heads: list[tuple[int, str]] | None = None,
    ca_bundle: Path | None = None,
) -> VerifyReport:
    """Audit the archive; `since` reads only WARC files and captures written after it (the
    ledger chain and tree are always checked whole: they are cheap). `jobs` worker
    processes check the WARC files, several at a time. `known_heads`: (size, root hex) of
    tree heads held elsewhere, which the ledger must still match; `ca_bundle`: the CAs the
    heads' timestamp tokens must chain to."""
    report = VerifyReport()
    progress = progress or Progress()
    contents = check_files(session, home, since, report, progress, jobs)
    _check_captures(session, home, contents, since, report)
    check_ledger(session, report, progress, TreeCheck(session, known_heads, ca_bundle))
    _check_file_rows(session, report)
    quarantine = home.warc_dir / QUARANTINE_DIR
    if quarantine.exists():
        for tail in sorted(quarantine.iterdir()):
            report.notes.append(f"set aside after an interrupted crawl: {tail}")
    return report
