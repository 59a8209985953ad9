"""Fixity audit: WARC files against their digests and framing, database rows against the
records they point at, every record indexed, and the ledger's hash chain."""

from __future__ import annotations

import hashlib
import io
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy import Row, Table, func, select
from sqlalchemy.orm import Session
from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed

from archive.errors import SnapshotCorrupt
from archive.evidence.warc_check import StoredRecord, scan_warc
from archive.store.home import ArchiveHome
from archive.store.ledger import (
    COVERED_COLUMNS,
    GENESIS,
    HISTORY_KINDS,
    chain,
    named_files_row,
    row_digest,
    version_files_row,
)
from archive.store.models import (
    Article,
    ArticleVersion,
    Capture,
    CrawlRun,
    File,
    LedgerEntry,
    VersionFile,
    WarcFile,
)
from archive.store.recovery import QUARANTINE_DIR, file_sha256, runs_file_prefixes
from archive.store.warcstore import complete_prefix, read_record

LEDGER: Table = LedgerEntry.__table__  # type: ignore[assignment]
TABLES: dict[str, Any] = {
    "capture": Capture.__table__,
    "version": ArticleVersion.__table__,
    "warc_file": WarcFile.__table__,
    "file": File.__table__,
    "article": Article.__table__,
}
# How problems name a ledger kind that is not one row of a table.
LABELS = {
    "version_files": "the files named by version",
    "named_files": "the files named by version",
    "version_cause": "the cause and extractor of version",
}
# Kinds whose entries are checked where they exist, but that no row must have: written
# before migration 0012, whose `named_files` cover the same rows.
SUPERSEDED = frozenset({"version_files"})


@dataclass(frozen=True)
class Problem:
    """One thing found wrong, with where it is."""

    what: str
    file: str | None = None
    offset: int | None = None
    url: str | None = None

    def line(self) -> str:
        where = []
        if self.file:
            where.append(self.file + (f" @ {self.offset}" if self.offset is not None else ""))
        if self.url:
            where.append(self.url)
        return self.what + (f" [{'; '.join(where)}]" if where else "")


@dataclass
class VerifyReport:
    problems: list[Problem] = field(default_factory=list)
    files: int = 0
    records: int = 0
    captures: int = 0
    ledger_entries: int = 0
    bytes_read: int = 0
    ledger_head: str = GENESIS
    notes: list[str] = field(default_factory=list)
    """Things worth knowing that are not damage (bytes set aside after a killed crawl)."""
    files_read_by_warcio: int = 0
    """Files the fast pass did not vouch for (damaged, or not of the writer's shape)."""

    @property
    def ok(self) -> bool:
        return not self.problems


class Progress:
    """What verify says of its progress as it goes: nothing, unless a terminal shows it."""

    def files(self, done: int, total: int, name: str | None = None) -> None:
        """`done` of `total` bytes of WARC files checked; `name` the file just checked."""

    def rows(self, done: int, total: int) -> None:
        """`done` of about `total` rows and ledger entries checked."""


class _Prefix(io.RawIOBase):
    """The first `length` bytes of a file: a crawl may be appending to the rest."""

    def __init__(self, handle: BinaryIO, length: int):
        self._handle = handle
        self._left = length

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer)[: self._left]
        count = self._handle.readinto(view)  # type: ignore[attr-defined]
        self._left -= count
        return count


def _stream_sha256(stream: BinaryIO) -> str:
    """SHA-256 of a record's payload as stored (never content-decoded), read a slice at a
    time: an attachment may be hundreds of megabytes."""
    digest = hashlib.sha256()
    for chunk in iter(lambda: stream.read(1 << 20), b""):
        digest.update(chunk)
    return digest.hexdigest()


@dataclass
class FileCheck:
    """What reading one WARC file found: made in a worker process under `--jobs`."""

    name: str
    records: dict[int, StoredRecord]
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    size: int = 0
    read_by_warcio: bool = False
    """The fast pass did not vouch for the file: warcio read it and named what is wrong."""


def check_warc_file(
    path: Path,
    closed: tuple[int | None, str] | None,
    being_written: bool,
    on_read: Callable[[int], None] | None = None,
) -> FileCheck:
    """Check one WARC file: against its `closed` (size, SHA-256) when it has them, its
    framing and every record's digests. One fast pass (archive.evidence.warc_check) for a file
    of the writer's shape; for any other, or anything irregular, the careful reading with warcio."""
    scan = scan_warc(path, being_written, on_read)
    if scan is not None and (closed is None or closed == (scan.size, scan.sha256)):
        check = FileCheck(path.name, scan.records, size=path.stat().st_size)
        if check.size > scan.valid:  # only a file being written: scan_warc sees to that
            check.notes.append(_open_tail_note(path.name, scan.valid, check.size))
        return check
    check = FileCheck(path.name, {}, read_by_warcio=True)
    if closed is not None and (path.stat().st_size != closed[0] or file_sha256(path) != closed[1]):
        check.problems.append(
            Problem("WARC file altered or replaced: SHA-256 differs from the record", path.name)
        )
    _read_warc(path, check, being_written)
    return check


def _open_tail_note(name: str, valid: int, size: int) -> str:
    return (
        f"open WARC file, {size - valid} bytes after its last whole record not checked"
        f" (a record being written, or a killed crawl's tail its next crawl sets aside):"
        f" {name} @ {valid}"
    )


def _read_warc(path: Path, check: FileCheck, being_written: bool) -> None:
    """Every record of a WARC file by offset, checking digests with warcio; problems go to
    the check.

    A file `being_written` is read only up to its last whole record: what follows is the
    record a running crawl is writing (or, after a kill, the tail its next crawl sets aside).
    """
    records = check.records
    name = path.name
    offset = 0
    valid = complete_prefix(path)
    size = path.stat().st_size  # after: a crawl may have written more meanwhile
    try:
        with open(path, "rb") as handle:
            source: Any = _Prefix(handle, valid) if being_written else handle
            iterator = ArchiveIterator(source, check_digests=True)
            for record in iterator:
                payload_sha256 = _stream_sha256(record.raw_stream)
                iterator.read_to_end(record)
                offset = iterator.get_record_offset()
                url = record.rec_headers.get_header("WARC-Target-URI")
                for problem in record.digest_checker.problems:
                    check.problems.append(Problem(f"digest mismatch: {problem}", name, offset, url))
                records[offset] = StoredRecord(
                    record_id=record.rec_headers.get_header("WARC-Record-ID"),
                    record_type=record.rec_type,
                    url=url,
                    payload_sha256=payload_sha256 if record.rec_type == "response" else None,
                )
    # AttributeError: warcio's loader on an exchange record without its WARC-Target-URI.
    except (ArchiveLoadFailed, OSError, EOFError, zlib.error, ValueError, AttributeError) as error:
        reason = repr(str(error).splitlines()[0][:80]) if str(error) else type(error).__name__
        check.problems.append(Problem(f"unreadable from here on: {reason}", name, offset))
    if valid < size and being_written:
        check.notes.append(_open_tail_note(name, valid, size))
    elif valid < size:
        check.problems.append(Problem("record cut off or damaged gzip framing", name, valid))
    check.size = size


def _check_files(
    session: Session,
    home: ArchiveHome,
    since: datetime | None,
    report: VerifyReport,
    progress: Progress,
    jobs: int,
) -> dict[str, dict[int, StoredRecord]]:
    rows = session.scalars(select(WarcFile).order_by(WarcFile.id)).all()
    known = {row.name for row in rows}
    running = session.scalars(select(CrawlRun.id).where(CrawlRun.status == "running"))
    of_running_runs = runs_file_prefixes(session.connection(), running.all())
    for path in sorted(home.warc_dir.glob("*.warc.gz")):
        if path.name in known:
            continue
        if path.name.startswith(of_running_runs):
            # A running crawl makes the file before the rows that name it commit.
            report.notes.append(f"WARC file of running crawl not indexed yet: {path.name}")
        else:
            report.problems.append(Problem("WARC file not in the database", path.name))
    missing: set[str] = set()
    work: list[tuple[Path, tuple[int | None, str] | None, bool]] = []
    for row in rows:
        path = home.warc_dir / row.name
        if since is not None and row.closed_at is not None and row.closed_at < since:
            continue
        if not path.exists():
            missing.add(row.name)
            continue
        closed = (row.size, row.sha256) if row.sha256 is not None else None
        work.append((path, closed, row.closed_at is None))
    total = sum(_size(path) for path, _, _ in work)
    done = read = 0
    progress.files(done, total)

    def reading(count: int) -> None:
        nonlocal read
        read += count
        progress.files(min(done + read, total), total)

    checks: dict[str, FileCheck] = {}
    if jobs > 1 and len(work) > 1:
        results = _in_workers(work, jobs)
    else:
        results = (check_warc_file(*item, on_read=reading) for item in work)
    for check in results:
        checks[check.name] = check
        done, read = done + check.size, 0
        progress.files(min(done, total), total, check.name)
    contents: dict[str, dict[int, StoredRecord]] = {}
    for row in rows:  # the problems in the order of the files, whatever order they came in
        if row.name in missing:
            report.problems.append(Problem("WARC file missing", row.name))
        if row.name not in checks:
            continue
        check = checks[row.name]
        report.files += 1
        report.records += len(check.records)
        report.bytes_read += check.size
        report.files_read_by_warcio += check.read_by_warcio
        report.problems.extend(check.problems)
        report.notes.extend(check.notes)
        contents[row.name] = check.records
    return contents


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0  # gone since: its check says so


def _in_workers(
    work: list[tuple[Path, tuple[int | None, str] | None, bool]], jobs: int
) -> Iterator[FileCheck]:
    """The files' checks in worker processes (they are CPU-bound), as each one finishes."""
    # Imported here: multiprocessing would add to the start-up of every command.
    from concurrent.futures import ProcessPoolExecutor, as_completed

    with ProcessPoolExecutor(max_workers=min(jobs, len(work))) as executor:
        futures = [executor.submit(check_warc_file, *item) for item in work]
        for future in as_completed(futures):
            yield future.result()


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


@dataclass(frozen=True)
class _RowDigest:
    """What the ledger check keeps of a row: not the row (the versions' bodies would all be
    in memory at once), its digest and what names it in a problem's line."""

    digest: str
    name: str | None
    needs_entry: bool = True
    """False for a WARC file still open and a file without bytes: their entries come later."""


def _row_digests(session: Session, counter: _Counter) -> dict[str, dict[int, _RowDigest]]:
    """The digest of every row the ledger covers, by kind and id, the rows read in batches."""
    # The article URL that names a version in a problem's line.
    version_urls: dict[int, str] = {
        version_id: url
        for version_id, url in session.execute(
            select(ArticleVersion.id, Article.url).join(
                Article, Article.id == ArticleVersion.article_id
            )
        )
    }
    digests: dict[str, dict[int, _RowDigest]] = {}
    for kind, table in TABLES.items():
        by_id = digests[kind] = {}
        rows = session.execute(select(table).execution_options(yield_per=1000))
        for row in rows.mappings():
            name = row.get("url") or row.get("name") or version_urls.get(row["id"])
            needs_entry = kind not in ("warc_file", "file") or row["sha256"] is not None
            by_id[row["id"]] = _RowDigest(row_digest(kind, dict(row)), name, needs_entry)
            counter.step()
    digests["version_cause"] = {
        row.id: _RowDigest(
            row_digest("version_cause", dict(row._mapping)), version_urls.get(row.id)
        )
        for row in session.execute(
            select(ArticleVersion.id, ArticleVersion.cause, ArticleVersion.extractor_version)
        )
    }
    for kind, canonical in (
        ("version_files", _versions_naming_later_bytes(session)),
        ("named_files", _named_files(session)),
    ):
        digests[kind] = {
            version_id: _RowDigest(row_digest(kind, row), version_urls.get(version_id))
            for version_id, row in canonical.items()
        }
    return digests


class _Counter:
    """Rows and entries checked, told to the progress every thousand."""

    def __init__(self, session: Session, progress: Progress):
        self.progress = progress
        self.done = 0
        # About what the pass reads: each covered row, then each ledger entry. The highest
        # id of each table for its count: count(*) would read the versions' bodies.
        self.total = sum(
            session.scalar(select(func.max(table.c.id))) or 0
            for table in (*TABLES.values(), LEDGER)
        )
        progress.rows(0, self.total)

    def step(self) -> None:
        self.done += 1
        if self.done % 1000 == 0:
            self.progress.rows(min(self.done, self.total), self.total)

    def finish(self) -> None:
        self.progress.rows(self.total, self.total)


def _check_ledger(session: Session, report: VerifyReport, progress: Progress) -> None:
    counter = _Counter(session, progress)
    rows = _row_digests(session, counter)
    covered: dict[str, set[int]] = {kind: set() for kind in rows}
    # A row whose kind keeps a history answers to its latest entry only.
    latest: dict[tuple[str, int], Row[Any]] = {}
    head = GENESIS
    # Plain rows, read in batches: ORM objects for every entry would all stay in the session.
    entries = session.execute(
        select(LEDGER).order_by(LEDGER.c.id).execution_options(yield_per=1000)
    )
    for entry in entries:
        report.ledger_entries += 1
        counter.step()
        head = chain(head, entry.digest)
        if head != entry.entry_hash:
            report.problems.append(
                Problem(f"ledger broken at entry {entry.id}: an entry was edited or removed")
            )
            head = entry.entry_hash
        if entry.kind not in COVERED_COLUMNS:
            report.problems.append(Problem(f"ledger entry {entry.id} of unknown kind"))
            continue
        if entry.kind in HISTORY_KINDS:
            latest[entry.kind, entry.ref_id] = entry
        else:
            _check_entry(entry, rows, report)
        covered[entry.kind].add(entry.ref_id)
    for entry in latest.values():
        _check_entry(entry, rows, report)
    for kind, by_id in rows.items():
        if kind in SUPERSEDED:
            continue
        for row_id in sorted(set(by_id) - covered[kind]):
            if by_id[row_id].needs_entry:
                report.problems.append(
                    Problem(f"{LABELS.get(kind, kind)} {row_id} is not in the ledger")
                )
    report.ledger_head = head
    counter.finish()


def _check_entry(
    entry: Row[Any], rows: dict[str, dict[int, _RowDigest]], report: VerifyReport
) -> None:
    row = rows[entry.kind].get(entry.ref_id)
    if row is not None and row.digest == entry.digest:
        return  # the rule: nothing to say (and nothing to build) for the rows as written
    what = f"{LABELS.get(entry.kind, entry.kind)} {entry.ref_id}"
    if row is None:
        report.problems.append(Problem(f"{what} was deleted"))
    else:
        report.problems.append(Problem(f"{what} was edited", url=row.name))


def _named_files(session: Session) -> dict[int, dict[str, Any]]:
    """The canonical files rows of every version (an empty list for one naming none)."""
    files: dict[int, list[tuple[int, str, str | None, int, int | None]]] = {
        version_id: [] for version_id in session.scalars(select(ArticleVersion.id))
    }
    for row in session.execute(
        select(
            VersionFile.version_id,
            VersionFile.file_id,
            VersionFile.role,
            VersionFile.name,
            VersionFile.position,
            VersionFile.capture_id,
        )
    ):
        files.setdefault(row.version_id, []).append(
            (row.file_id, row.role, row.name, row.position, row.capture_id)
        )
    return {version_id: named_files_row(version_id, named) for version_id, named in files.items()}


def _versions_naming_later_bytes(session: Session) -> dict[int, dict[str, Any]]:
    """The canonical files rows of the versions that name a capture's bytes of a file."""
    naming = select(VersionFile.version_id).where(VersionFile.capture_id.is_not(None))
    files: dict[int, list[tuple[int, str, int, int | None]]] = {}
    for row in session.execute(
        select(
            VersionFile.version_id,
            VersionFile.file_id,
            VersionFile.role,
            VersionFile.position,
            VersionFile.capture_id,
        ).where(VersionFile.version_id.in_(naming))
    ):
        files.setdefault(row.version_id, []).append(
            (row.file_id, row.role, row.position, row.capture_id)
        )
    return {version_id: version_files_row(version_id, named) for version_id, named in files.items()}


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
    contents = _check_files(session, home, since, report, progress, jobs)
    _check_captures(session, home, contents, since, report)
    _check_ledger(session, report, progress)
    _check_file_rows(session, report)
    quarantine = home.warc_dir / QUARANTINE_DIR
    if quarantine.exists():
        for tail in sorted(quarantine.iterdir()):
            report.notes.append(f"set aside after an interrupted crawl: {tail}")
    return report
