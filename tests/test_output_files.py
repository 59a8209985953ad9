"""No cut-off output under a final name: every file a verb writes (export in each format,
report, package, snapshot -o) on a real full filesystem fails with one line naming the
file, leaves the file that was there as it was, and leaves nothing new behind."""

from __future__ import annotations

import hashlib
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import run_crawl
from tests.full_disk import fill, left_in, small_filesystem

# verb -> its arguments, the output file's name in {out}
WRITERS = {
    "export-jsonl": ["export", "--format", "jsonl", "-o", "{out}"],
    "export-csv": ["export", "--format", "csv", "-o", "{out}"],
    "export-parquet": ["export", "--format", "parquet", "-o", "{out}"],
    "report": ["report", "-o", "{out}"],
    "package": ["package", "--since", "2000-01-01", "-o", "{out}"],
    "snapshot": ["snapshot", "{url}", "-o", "{out}"],
}
NAMES = {
    "export-jsonl": "articles.jsonl",
    "export-csv": "articles.csv",
    "export-parquet": "articles.parquet",
    "report": "report.html",
    "package": "articles.wacz",
    "snapshot": "page.html",
}


@pytest.fixture(scope="module")
def home(replica, tmp_path_factory) -> Path:
    home = tmp_path_factory.mktemp("outputs") / "home"
    result = run_crawl(home, replica.base_url, "--sections", "tzzgx/thygg")
    assert result.exit_code == 0, result.stderr
    return home


def run_verb(home: Path, name: str, out: Path) -> subprocess.CompletedProcess[str]:
    """The verb in a process of its own: what Python prints at exit (a stray traceback of an
    object collected late) is seen too."""
    with sqlite3.connect(home / "archive.sqlite3") as db:
        (url,) = db.execute(
            "select url from captures where status = 200 and media_type like 'text/html%'"
            " order by id limit 1"
        ).fetchone()
    arguments = [part.format(out=out, url=url) for part in WRITERS[name]]
    return subprocess.run(
        [sys.executable, "-m", "archive.cli", *arguments, "--home", str(home)],
        capture_output=True,
        text=True,
        timeout=120,
    )


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("name", list(WRITERS))
def test_a_full_disk_leaves_the_old_file_whole_and_nothing_new(home, tmp_path, name):
    with small_filesystem(tmp_path / "disk", "2m") as disk:
        target = disk / NAMES[name]
        written = run_verb(home, name, target)
        assert written.returncode == 0, written.stderr
        assert left_in(disk) == [target.name]
        before = digest(target)
        assert target.stat().st_size > 0

        fill(disk)
        failed = run_verb(home, name, target)
        assert failed.returncode == 1, failed.stderr
        assert failed.stderr.splitlines() == [f"Error: No space left on device: {target}"]
        assert digest(target) == before  # the old file, whole
        assert left_in(disk) == [target.name]  # no temporary file left beside it

        target.unlink()
        fill(disk)  # what the old file held is free again: taken too
        failed = run_verb(home, name, target)
        assert failed.returncode == 1, failed.stderr
        assert len(failed.stderr.splitlines()) == 1, failed.stderr
        assert "No space left on device" in failed.stderr and str(target) in failed.stderr
        assert left_in(disk) == []  # nothing new under any name
