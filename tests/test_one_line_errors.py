"""One line, never a traceback: a crawl on an archive from a newer release, on a truncated or
random `archive.sqlite3`; and every verb that finds its home in use exits 3, as `crawl` does.
(A full disk under `report` and `package`: tests/test_output_files.py.)"""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from archive.store.home import ArchiveHome
from archive.store.schema import HEAD_REVISION
from archive.store.writer.durability import HomeLock
from tests.conftest import run_crawl

NEWER = "0999"


@pytest.fixture(scope="module")
def pristine(replica, tmp_path_factory) -> Path:
    home = tmp_path_factory.mktemp("errors") / "home"
    result = run_crawl(home, replica.base_url, "--sections", "tzzgx/thygg")
    assert result.exit_code == 0, result.stderr
    return home


@pytest.fixture
def home(pristine, tmp_path) -> Path:
    copy = tmp_path / "home"
    shutil.copytree(pristine, copy)
    return copy


def database_digest(home: Path) -> str:
    return hashlib.sha256((home / "archive.sqlite3").read_bytes()).hexdigest()


def captures(home: Path) -> int:
    with sqlite3.connect(home / "archive.sqlite3") as db:
        return db.execute("select count(*) from captures").fetchone()[0]


def chalco_archive(*arguments: str) -> subprocess.CompletedProcess[str]:
    """The command as a user runs it, in a process of its own (a crawl replaces it with the
    crawler's: what that prints is seen too)."""
    return subprocess.run(
        [sys.executable, "-m", "archive.cli", *arguments],
        capture_output=True,
        text=True,
        timeout=120,
    )


def crawl(home: Path, base_url: str) -> subprocess.CompletedProcess[str]:
    return chalco_archive(
        "crawl", "--home", str(home), "--base-url", base_url, "-s", "DOWNLOAD_DELAY=0"
    )


def test_a_crawl_on_an_archive_from_a_newer_release_says_so_in_one_line(home, replica):
    with sqlite3.connect(home / "archive.sqlite3") as db:
        db.execute("update alembic_version set version_num = ?", (NEWER,))
    count = captures(home)
    done = crawl(home, replica.base_url)
    assert done.returncode == 1, done.stderr
    assert done.stderr.splitlines() == [
        f"Error: the archive's database is at schema revision {NEWER}, which this"
        f" chalco-archive does not know (its newest is {HEAD_REVISION}): it was written by a"
        " newer release; upgrade chalco-archive to use it"
    ]
    with sqlite3.connect(home / "archive.sqlite3") as db:  # nothing was written
        assert db.execute("select version_num from alembic_version").fetchall() == [(NEWER,)]
    assert captures(home) == count


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        (lambda data: data[: len(data) // 3], "database disk image is malformed"),
        (lambda data: hashlib.sha512(data).digest() * 1000, "file is not a database"),
    ],
    ids=["truncated", "random"],
)
def test_a_crawl_on_a_damaged_database_says_so_in_one_line(home, replica, damage, reason):
    path = home / "archive.sqlite3"
    for extra in home.glob("archive.sqlite3-*"):  # -wal, -shm: the file alone, as damaged
        extra.unlink()
    path.write_bytes(damage(path.read_bytes()))
    before = database_digest(home)
    done = crawl(home, replica.base_url)
    assert done.returncode == 5, done.stderr
    assert done.stderr.splitlines() == [f"Error: cannot use the database of {home}: {reason}"]
    assert database_digest(home) == before  # left as found, for whoever mends it


WRITING_VERBS = {
    "crawl": ["crawl", "--base-url", "{base_url}"],
    "reextract": ["reextract"],
    "reindex": ["reindex"],
    "migrate-db": ["migrate-db", "--to", "sqlite:///{target}"],
    "repair": ["repair"],
}


@pytest.mark.parametrize("verb", list(WRITING_VERBS))
def test_every_verb_that_finds_its_home_in_use_exits_3(home, replica, tmp_path, verb):
    arguments = [
        part.format(base_url=replica.base_url, target=tmp_path / "copy.sqlite3")
        for part in WRITING_VERBS[verb]
    ]
    lock = HomeLock(ArchiveHome.at(home))  # as a running crawl holds it
    try:
        done = chalco_archive(*arguments, "--home", str(home))
    finally:
        lock.release()
    assert done.returncode == 3, done.stderr
    assert len(done.stderr.splitlines()) == 1 and "is in use by pid" in done.stderr
    assert not (tmp_path / "copy.sqlite3").exists()
    assert not (home / "archive.moved").exists()
