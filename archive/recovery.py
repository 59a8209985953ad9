"""Recovery after a crawl was killed: interrupted runs are marked, and WARC files left open
are cut back to their last whole record (the cut-off tail is set aside, never indexed) and
closed with their digest."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Connection, Table, insert, select, update

from archive.home import ArchiveHome
from archive.models import CrawlRun, WarcFile, utc_now
from archive.warcstore import complete_prefix

RUNS: Table = CrawlRun.__table__  # type: ignore[assignment]
WARC_FILES: Table = WarcFile.__table__  # type: ignore[assignment]
QUARANTINE_DIR = "quarantine"


@dataclass
class RecoveryReport:
    interrupted_runs: list[int] = field(default_factory=list)
    closed_files: list[str] = field(default_factory=list)
    set_aside: list[dict[str, object]] = field(default_factory=list)
    """One entry per file cut back: `file`, `offset` of the cut, `bytes` moved, `to`."""

    def __bool__(self) -> bool:
        return bool(self.interrupted_runs or self.closed_files or self.set_aside)

    def as_dict(self) -> dict[str, object]:
        return {
            "interrupted_runs": self.interrupted_runs,
            "closed_files": self.closed_files,
            "set_aside": self.set_aside,
        }


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


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


def recover(connection: Connection, home: ArchiveHome) -> RecoveryReport:
    """Run under the home's lock, before a new crawl writes anything."""
    report = RecoveryReport()
    report.interrupted_runs = list(
        connection.scalars(select(RUNS.c.id).where(RUNS.c.status == "running"))
    )
    if report.interrupted_runs:
        connection.execute(
            update(RUNS)
            .where(RUNS.c.id.in_(report.interrupted_runs))
            .values(status="interrupted", exit_code=None)
        )
    closed = set(
        connection.scalars(select(WARC_FILES.c.name).where(WARC_FILES.c.closed_at.is_not(None)))
    )
    known = set(connection.scalars(select(WARC_FILES.c.name)))
    for path in sorted(home.warc_dir.glob("*.warc.gz")):
        if path.name in closed:
            continue
        valid_end = complete_prefix(path)
        if valid_end < path.stat().st_size:
            report.set_aside.append(
                _set_aside_tail(path, valid_end, home.warc_dir / QUARANTINE_DIR)
            )
        values = {"size": path.stat().st_size, "sha256": file_sha256(path), "closed_at": utc_now()}
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
