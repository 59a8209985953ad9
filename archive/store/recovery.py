"""Recovery after a crawl was killed: interrupted runs are marked, and WARC files left open
are cut back to their last whole record (the cut-off tail is set aside, never indexed) and
closed with their digest."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Connection, func, insert, select, text, update

from archive.evidence.warc_seal import close_file
from archive.store.home import ArchiveHome
from archive.store.models import utc_now
from archive.store.tables import CAPTURES, RUNS, WARC_FILES
from archive.store.warc_names import (  # noqa: F401  (their home before; here for its users)
    QUARANTINE_DIR,
    file_sha256,
    run_file_prefix,
)
from archive.store.warc_records import whole_record_ends

# Recovery by workers of a distributed crawl: one at a time (PostgreSQL advisory lock key).
RECOVERY_LOCK = 0x63680003


def runs_file_prefixes(connection: Connection, run_ids: Iterable[int]) -> tuple[str, ...]:
    """The file name prefixes of these runs (for str.startswith)."""
    runs = select(RUNS.c.id, RUNS.c.started_at).where(RUNS.c.id.in_(list(run_ids)))
    return tuple(run_file_prefix(run_id, started) for run_id, started in connection.execute(runs))


def safe_name(name: str) -> str:
    """A worker's name as it may appear in a file name."""
    return re.sub(r"[^A-Za-z0-9_.@]+", "_", name)[:64] or "_"


@dataclass
class RecoveryReport:
    interrupted_runs: list[int] = field(default_factory=list)
    closed_files: list[str] = field(default_factory=list)
    set_aside: list[dict[str, object]] = field(default_factory=list)
    """One entry per file cut back: `file`, `offset` of the cut, `bytes` moved, `to`."""
    foreign: list[str] = field(default_factory=list)
    """WARC files in the home that neither this database nor its interrupted runs know (those
    of another database of the same home, after migrate-db): left as they are."""

    def __bool__(self) -> bool:
        return bool(self.interrupted_runs or self.closed_files or self.set_aside or self.foreign)

    def as_dict(self) -> dict[str, object]:
        return {
            "interrupted_runs": self.interrupted_runs,
            "closed_files": self.closed_files,
            "set_aside": self.set_aside,
            "foreign": self.foreign,
        }


def _set_aside_tail(path: Path, valid_end: int, quarantine: Path) -> dict[str, object]:
    """Move the bytes after `valid_end` to the quarantine folder, then truncate."""
    quarantine.mkdir(exist_ok=True)
    size = path.stat().st_size
    target = quarantine / f"{path.name}.{valid_end}.tail"
    with open(path, "r+b") as handle:
        handle.seek(valid_end)
        with open(target, "xb") as tail:
            tail.write(handle.read())
            tail.flush()
            os.fsync(tail.fileno())
        handle.truncate(valid_end)
        handle.flush()
        os.fsync(handle.fileno())
    return {"file": path.name, "offset": valid_end, "bytes": size - valid_end, "to": str(target)}


def _committed_end(connection: Connection, path: Path) -> int:
    """Where the file's last record that a committed row points at ends (at least its
    warcinfo record): what follows was cut off, or written for rows that never committed."""
    ends = whole_record_ends(path)
    if not ends:
        return 0
    indexed = connection.scalar(
        select(func.max(CAPTURES.c.offset + CAPTURES.c.length))
        .join(WARC_FILES, WARC_FILES.c.id == CAPTURES.c.warc_file_id)
        .where(WARC_FILES.c.name == path.name)
    )
    keep = max(ends[0], indexed or 0)
    return max(end for end in ends if end <= keep)


def recover(
    connection: Connection,
    home: ArchiveHome,
    *,
    worker_gone: Callable[[str], bool] | None = None,
) -> RecoveryReport:
    """Run under the home's lock, before a new crawl writes anything.

    A one-process crawl (no `worker_gone`) holds the home alone: every run left running
    was interrupted, and every WARC file left open is cut back and closed. A worker of a
    distributed crawl recovers only the runs of workers that `worker_gone` says are gone
    (and of one-process crawls, which cannot run beside workers), and only their files.
    """
    report = RecoveryReport()
    running = select(RUNS.c.id, RUNS.c.worker).where(RUNS.c.status == "running")
    if worker_gone is not None and connection.dialect.name == "postgresql":
        # Two workers starting together must not cut back the same file twice.
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": RECOVERY_LOCK})
    report.interrupted_runs = [
        run_id
        for run_id, worker in connection.execute(running.order_by(RUNS.c.id))
        if worker_gone is None or worker is None or worker_gone(worker)
    ]
    if report.interrupted_runs:
        connection.execute(
            update(RUNS)
            .where(RUNS.c.id.in_(report.interrupted_runs))
            .values(status="interrupted", exit_code=None)
        )
        # When it was found interrupted: a later incremental crawl walks every list page
        # until a crawl that started after this finishes (archive.read.frontier).
        connection.execute(
            update(RUNS)
            .where(RUNS.c.id.in_(report.interrupted_runs), RUNS.c.finished_at.is_(None))
            .values(finished_at=utc_now())
        )
    closed = set(
        connection.scalars(select(WARC_FILES.c.name).where(WARC_FILES.c.closed_at.is_not(None)))
    )
    known = set(connection.scalars(select(WARC_FILES.c.name)))
    interrupted_prefixes = runs_file_prefixes(connection, report.interrupted_runs)
    for path in sorted(home.warc_dir.glob("*.warc.gz")):
        if path.name in closed:
            continue
        of_interrupted_run = path.name.startswith(interrupted_prefixes)
        if worker_gone is not None and not of_interrupted_run:
            continue  # a live worker's file, still being written
        if path.name not in known and not of_interrupted_run:
            # Not this database's: cutting it back would damage another's evidence.
            report.foreign.append(path.name)
            continue
        valid_end = _committed_end(connection, path)
        if valid_end < path.stat().st_size:
            report.set_aside.append(
                _set_aside_tail(path, valid_end, home.warc_dir / QUARANTINE_DIR)
            )
        values = {**close_file(path)._asdict(), "closed_at": utc_now()}
        if path.name in known:
            connection.execute(
                update(WARC_FILES).where(WARC_FILES.c.name == path.name).values(**values)
            )
        else:
            connection.execute(
                insert(WARC_FILES).values(name=path.name, created_at=utc_now(), **values)
            )
        report.closed_files.append(path.name)
    return report
