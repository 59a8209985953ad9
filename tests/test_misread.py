"""A site the profile misreads, over real HTTP (the replica's redesigned template,
replica/site/redesign.py): a first crawl into an empty home probes the sections first and
archives nothing when the profile does not fit; past the probe (--no-probe), or later in an
archive's life, a run whose new articles are mostly flagged ends with exit 7 and a line
pointing at `probe` and `reextract`, never `ok`."""

from __future__ import annotations

import sqlite3
import subprocess

import pytest

from replica.server import ReplicaServer
from replica.site.build import build_site
from tests.conftest import crawl_command, run_crawl

EXIT_MISREAD = 7


@pytest.fixture(scope="module")
def redesigned():
    with ReplicaServer(build_site(template="redesign")) as server:
        yield server


def test_a_first_crawl_of_a_misfit_site_archives_nothing(redesigned, tmp_path):
    home = tmp_path / "home"
    result = run_crawl(home, redesigned.base_url)
    assert result.exit_code == EXIT_MISREAD, result.stderr
    assert result.summary["status"] == "misfit"
    assert result.summary["misfit"].startswith("chalco: ")
    assert "sampled articles are misread" in result.summary["misfit"]
    assert not (home / "archive.sqlite3").exists()
    assert not (home / "warc").exists() or not list((home / "warc").iterdir())


def test_the_misfit_is_one_line_pointing_at_probe(redesigned, tmp_path):
    command = crawl_command(tmp_path / "home", redesigned.base_url)
    command.remove("--json")
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == EXIT_MISREAD
    assert done.stdout == ""
    (line,) = done.stderr.splitlines()
    assert line.startswith("Error: the site profile does not fit the site, nothing archived:")
    assert "chalco-archive probe" in line and "--no-probe" in line


@pytest.fixture(scope="module")
def misread(redesigned, tmp_path_factory):
    """The redesign crawled past the probe: every article archived, every one misread."""
    home = tmp_path_factory.mktemp("misread") / "home"
    command = crawl_command(home, redesigned.base_url, "--no-probe")
    command.remove("--json")
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    return home, done


def test_a_mostly_misread_run_ends_with_its_own_exit_code(misread):
    home, done = misread
    assert done.returncode == EXIT_MISREAD, done.stderr
    with sqlite3.connect(home / "archive.sqlite3") as db:
        (articles,) = db.execute("SELECT count(*) FROM articles").fetchone()
        (status, code) = db.execute("SELECT status, exit_code FROM crawl_runs").fetchone()
    assert articles > 5
    assert (status, code) == ("partial", EXIT_MISREAD)


def test_the_run_says_so_in_one_line_pointing_at_probe_and_reextract(misread):
    _home, done = misread
    first, *lines = done.stdout.splitlines()
    assert first.startswith("partial: incremental crawl, ")
    (line,) = [line for line in lines if "misread:" in line]
    assert " new articles (100%) flagged (MISREAD_SHARE)" in line
    assert "chalco-archive probe" in line and "chalco-archive reextract" in line


def test_the_next_crawl_of_a_home_with_articles_does_not_probe(misread, redesigned):
    home, _done = misread
    before = len(redesigned.requests)
    again = run_crawl(home, redesigned.base_url)
    assert again.exit_code == 0, again.stderr  # nothing new: nothing misread
    asked = [r.path for r in redesigned.requests[before:]]
    assert not [path for path in asked if path.endswith(".html") and "/t20" in path]


@pytest.mark.parametrize(
    ("setting", "code"),
    [
        ("MISREAD_SHARE=1.0", 0),  # never
        ("MISREAD_MIN_ARTICLES=1000", 0),  # too few articles to tell
        ("MISREAD_SHARE=0.5", EXIT_MISREAD),
    ],
)
def test_the_threshold_is_a_setting(redesigned, tmp_path, setting, code):
    result = run_crawl(tmp_path / "home", redesigned.base_url, "--no-probe", "-s", setting)
    assert result.exit_code == code, result.stderr
    assert result.summary["misread"] is (code == EXIT_MISREAD)
    assert result.summary["flagged_new"] == result.summary["new"] > 5


def test_the_probe_fits_the_ordinary_replica_and_asks_nothing_twice(replica, tmp_path):
    before = len(replica.requests)
    result = run_crawl(tmp_path / "home", replica.base_url)
    assert result.exit_code == 0, result.stderr
    assert result.summary["misfit"] is None and result.summary["new"] > 5
    asked = [r.path for r in replica.requests[before:] if r.status == 200]
    pages = [path for path in asked if path.endswith(".html") or path.endswith("/")]
    assert len(pages) == len(set(pages))
