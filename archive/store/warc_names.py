"""What the WARC files of a home are called and how a whole file is digested, without a
database library: `verify` on SQLite reads them without SQLAlchemy (archive.store.recovery
uses the same)."""

from __future__ import annotations

import hashlib
from datetime import datetime
from pathlib import Path

QUARANTINE_DIR = "quarantine"


def run_file_prefix(run_id: int, started_at: datetime) -> str:
    """How the names of a run's WARC files begin: chalco-<start>-run<id>-<worker or pid>-
    <sequence>.warc.gz. The start time as well as the id, so that a run of another database
    of the same home with the same id does not match."""
    return f"chalco-{started_at:%Y%m%d%H%M%S}-run{run_id:05d}-"


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
