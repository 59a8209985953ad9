"""Checking WARC files: each file's SHA-256 and gzip framing and every record's digests, by
the fast pass (archive.evidence.warc_check) or, for anything it does not vouch for, warcio;
several files at a time in worker processes under `--jobs`."""

from __future__ import annotations

import hashlib
import io
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

from archive.errors import readable_reason
from archive.evidence.findings import Problem, Progress, VerifyReport
from archive.evidence.raw_rows import RawRows
from archive.evidence.warc_check import StoredRecord, scan_warc
from archive.evidence.warc_halves import scan_in_halves
from archive.evidence.warc_seal import entered_digests, indexes_of_rows, seal_holds
from archive.read.sql import Reader
from archive.store.home import ArchiveHome
from archive.store.times import read_time, stored_time
from archive.store.warc_names import file_sha256, run_file_prefix
from archive.store.warc_records import complete_prefix


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


def _file_sha256(path: Path, on_read: Callable[[int], None] | None) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
            if on_read is not None:
                on_read(len(chunk))
    return digest.hexdigest()


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
    sealed_records: int | None = None
    """The file is its seal's, byte for byte: this many records, not read one by one."""


def check_warc_file(
    path: Path,
    closed: tuple[int | None, str] | None,
    being_written: bool,
    on_read: Callable[[int], None] | None = None,
    halves: bool = False,
    sealed_records: int | None = None,
) -> FileCheck:
    """Check one WARC file: against its `closed` (size, SHA-256) when it has them, its
    framing and every record's digests. One fast pass (archive.evidence.warc_check) for a file
    of the writer's shape; for any other, or anything irregular, the careful reading with warcio.
    `halves`: a large closed file's fast pass in two processes (archive.evidence.warc_halves).
    `sealed_records`: the file has a seal its capture rows match (archive.evidence.warc_seal),
    of this many records; its SHA-256 alone is checked, and its records are read only where
    that differs."""
    if sealed_records is not None and closed is not None:
        size = path.stat().st_size
        if size == closed[0] and _file_sha256(path, on_read) == closed[1]:
            return FileCheck(path.name, {}, size=size, sealed_records=sealed_records)
        # Not the bytes closed: what the fast pass would find comes to the same, the careful
        # reading and the file named altered, so that reading is done at once.
        return _altered(path, being_written)
    if halves and not being_written:
        scan = scan_in_halves(path, on_read)
    else:
        scan = scan_warc(path, being_written, on_read)
    if scan is not None and (closed is None or closed == (scan.size, scan.sha256)):
        check = FileCheck(path.name, scan.records, size=path.stat().st_size)
        if check.size > scan.valid:  # only a file being written: scan_warc sees to that
            check.notes.append(_open_tail_note(path.name, scan.valid, check.size))
        return check
    if closed is not None and (path.stat().st_size != closed[0] or file_sha256(path) != closed[1]):
        return _altered(path, being_written)
    check = FileCheck(path.name, {}, read_by_warcio=True)
    read_with_warcio(path, check, being_written)
    return check


def _altered(path: Path, being_written: bool) -> FileCheck:
    """A closed file whose bytes are not those recorded when it was closed, read with warcio."""
    check = FileCheck(path.name, {}, read_by_warcio=True)
    check.problems.append(
        Problem("WARC file altered or replaced: SHA-256 differs from the record", path.name)
    )
    read_with_warcio(path, check, being_written)
    return check


def _open_tail_note(name: str, valid: int, size: int) -> str:
    return (
        f"open WARC file, {size - valid} bytes after its last whole record not checked"
        f" (a record being written, or a killed crawl's tail its next crawl sets aside):"
        f" {name} @ {valid}"
    )


def read_with_warcio(path: Path, check: FileCheck, being_written: bool) -> None:
    """Every record of a WARC file by offset, checking digests with warcio; problems go to
    the check.

    A file `being_written` is read only up to its last whole record: what follows is the
    record a running crawl is writing (or, after a kill, the tail its next crawl sets aside).
    """
    # Imported here: a file the fast pass vouches for never needs warcio (a tenth of
    # verify's start-up on a small archive).
    from warcio.archiveiterator import ArchiveIterator
    from warcio.exceptions import ArchiveLoadFailed

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
        reason = readable_reason(str(error)) if str(error) else type(error).__name__
        check.problems.append(Problem(f"unreadable from here on: {reason}", name, offset))
    if valid < size and being_written:
        check.notes.append(_open_tail_note(name, valid, size))
    elif valid < size:
        check.problems.append(Problem("record cut off or damaged gzip framing", name, valid))
    check.size = size


def check_files(
    reader: Reader,
    home: ArchiveHome,
    since: datetime | None,
    report: VerifyReport,
    progress: Progress,
    jobs: int,
    deep: bool = False,
) -> dict[str, dict[int, StoredRecord]]:
    """Check every WARC file (those closed after `since`, if given); the records read, by
    file and offset, for the capture rows to be matched against. A sealed file whose rows
    match its seal is checked by its SHA-256 alone and gives no records (nothing is left to
    match); `deep` reads every file's records all the same."""
    raw = RawRows(reader)
    sealing = raw.has_column("warc_files", "index_sha256")
    seal_columns = ", record_count, index_sha256" if sealing else ""
    rows = reader.rows(
        f"SELECT id, name, size, sha256, closed_at{seal_columns} FROM warc_files ORDER BY id"
    )
    seals_read = sealing and not deep
    after = None if since is None else stored_time(since)
    rows_index = indexes_of_rows(raw, after) if seals_read else {}
    entered = entered_digests(raw) if seals_read else {}
    for row in rows:
        row["closed_at"] = read_time(row["closed_at"]) if row["closed_at"] else None
    known = {row["name"] for row in rows}
    of_running_runs = tuple(
        run_file_prefix(run["id"], read_time(run["started_at"]))
        for run in reader.rows("SELECT id, started_at FROM crawl_runs WHERE status = 'running'")
    )
    for path in sorted(home.warc_dir.glob("*.warc.gz")):
        if path.name in known:
            continue
        if path.name.startswith(of_running_runs):
            # A running crawl makes the file before the rows that name it commit.
            report.notes.append(f"WARC file of running crawl not indexed yet: {path.name}")
        else:
            report.problems.append(Problem("WARC file not in the database", path.name))
    missing: set[str] = set()
    work: list[tuple[Path, tuple[int | None, str] | None, bool, int | None]] = []
    for row in rows:
        path = home.warc_dir / row["name"]
        if since is not None and row["closed_at"] is not None and row["closed_at"] < since:
            continue
        if not path.exists():
            missing.add(row["name"])
            continue
        closed = (row["size"], row["sha256"]) if row["sha256"] is not None else None
        sealed = seals_read and seal_holds(row, entered, rows_index)
        sealed_records = row["record_count"] if sealed else None
        work.append((path, closed, row["closed_at"] is None, sealed_records))
    total = sum(_size(path) for path, *_ in work)
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
        # One file at a time here: a large one is read in two halves at once instead.
        results = (
            check_warc_file(path, closed, being_written, reading, True, sealed_records)
            for path, closed, being_written, sealed_records in work
        )
    for check in results:
        checks[check.name] = check
        done, read = done + check.size, 0
        progress.files(min(done, total), total, check.name)
    contents: dict[str, dict[int, StoredRecord]] = {}
    for row in rows:  # the problems in the order of the files, whatever order they came in
        name = row["name"]
        if name in missing:
            report.problems.append(Problem("WARC file missing", name))
        if name not in checks:
            continue
        check = checks[name]
        report.files += 1
        if check.sealed_records is None:
            report.records += len(check.records)
            contents[name] = check.records
        else:
            report.records += check.sealed_records
            report.files_checked_by_seal += 1
        report.bytes_read += check.size
        report.files_read_by_warcio += check.read_by_warcio
        report.problems.extend(check.problems)
        report.notes.extend(check.notes)
    return contents


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0  # gone since: its check says so


def _in_workers(
    work: list[tuple[Path, tuple[int | None, str] | None, bool, int | None]], jobs: int
) -> Iterator[FileCheck]:
    """The files' checks in worker processes (they are CPU-bound), as each one finishes."""
    # Imported here: multiprocessing would add to the start-up of every command.
    from concurrent.futures import ProcessPoolExecutor, as_completed

    with ProcessPoolExecutor(max_workers=min(jobs, len(work))) as executor:
        futures = [
            executor.submit(check_warc_file, path, closed, written, None, False, sealed)
            for path, closed, written, sealed in work
        ]
        for future in as_completed(futures):
            yield future.result()
