"""A page naming thousands of attachments, over real HTTP (replica/faults/fan_out.py), and a
crawl stopped by a real signal: the files past MAX_FILES_PER_PAGE are recorded as named but
not fetched (a page problem, a summary line, a partial run); a stop ends the crawl within
5 s and keeps every file fetched, and the next crawl fetches only the others; a second
signal ends it at once; a download from a server that never answers does not hold a stop."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from replica.faults import FaultServer
from replica.faults.pages import FAN_OUT
from tests.conftest import CrawlResult, crawl_command, run_crawl
from tests.test_faults import cli

NAMED = 2_000
CAP = 500  # MAX_FILES_PER_PAGE's default
STOP_WITHIN = 5.0


@dataclass
class Stopped:
    """A crawl stopped by a signal while it fetched the page's files."""

    returncode: int
    summary: dict
    seconds: float
    """From the signal to the process's end."""
    fetched_before: int
    """File answers the server sent before the signal."""


def file_requests(server: FaultServer) -> list[str]:
    return [r.path for r in server.requests if r.case == "fan_out"]


def stop_crawl(server: FaultServer, home: Path, after_files: int, *signals: int) -> Stopped:
    """Start a crawl of the fan-out section, send `signals` once it has asked for
    `after_files` files, and wait for it to end."""
    process = subprocess.Popen(
        crawl_command(home, server.base_url, "--sections", FAN_OUT),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while len(file_requests(server)) < after_files and time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()
        time.sleep(0.02)
    fetched_before = len(file_requests(server))
    sent = time.monotonic()
    for number in signals:
        process.send_signal(number)
        time.sleep(0.05)
    stdout, stderr = process.communicate(timeout=60)
    seconds = time.monotonic() - sent
    summary = json.loads(stdout) if stdout.strip().startswith("{") else {}
    assert summary, stderr
    return Stopped(process.returncode, summary, seconds, fetched_before)


def rows(home: Path, query: str, *args: object) -> list[tuple]:
    with sqlite3.connect(home / "archive.sqlite3") as db:
        return db.execute(query, args).fetchall()


@dataclass
class Resumed:
    server: FaultServer
    home: Path
    stopped: Stopped
    kept: int
    """Files with bytes in the archive after the stop."""
    articles_kept: int
    """Articles in the archive after the stop."""
    rerun: CrawlResult
    rerun_files: list[str]


@pytest.fixture(scope="module")
def resumed(tmp_path_factory) -> Resumed:
    with FaultServer(crawl_delay=None, fan_out=NAMED, fan_out_delay=0.005) as server:
        home = tmp_path_factory.mktemp("fan-out") / "home"
        stopped = stop_crawl(server, home, 100, signal.SIGINT)
        (kept,) = rows(home, "SELECT count(*) FROM files WHERE sha256 IS NOT NULL")[0]
        (articles_kept,) = rows(home, "SELECT count(*) FROM articles")[0]
        before = len(server.requests)
        rerun = run_crawl(home, server.base_url, "--sections", FAN_OUT)
        rerun_files = [r.path for r in server.requests[before:] if r.case == "fan_out"]
        yield Resumed(server, home, stopped, kept, articles_kept, rerun, rerun_files)


def test_a_stop_ends_the_crawl_within_seconds_and_says_interrupted(resumed):
    assert resumed.stopped.seconds <= STOP_WITHIN, resumed.stopped.seconds
    assert resumed.stopped.returncode == -signal.SIGINT
    assert resumed.stopped.summary["status"] == "interrupted"


def test_the_files_fetched_before_the_stop_are_kept(resumed):
    assert resumed.kept >= resumed.stopped.fetched_before - 2  # what was in flight may go
    assert resumed.kept < CAP
    # The article is not stored half-read: the next crawl reads it again.
    assert resumed.articles_kept == 0


def test_the_rerun_fetches_only_the_files_not_kept(resumed):
    assert resumed.rerun.summary["new"] == 1
    assert len(resumed.rerun_files) == CAP - resumed.kept
    assert len(set(resumed.rerun_files)) == len(resumed.rerun_files)
    first_crawl = set(file_requests(resumed.server)) - set(resumed.rerun_files)
    assert not first_crawl & set(resumed.rerun_files)


def test_past_the_cap_files_are_named_but_not_fetched(resumed):
    assert rows(resumed.home, "SELECT count(*), count(sha256) FROM files") == [(NAMED, CAP)]
    problems = rows(resumed.home, "SELECT DISTINCT problem FROM files WHERE sha256 IS NULL")
    assert problems == [
        (f"not fetched: the page names {NAMED:,} files, more than MAX_FILES_PER_PAGE ({CAP})",)
    ]
    named = rows(resumed.home, "SELECT count(*) FROM version_files")
    assert named == [(NAMED,)]  # the version names every one of them


def test_the_page_has_a_problem_and_the_run_a_line(resumed):
    (problems,) = rows(resumed.home, "SELECT problems_json FROM article_versions")[0]
    assert json.loads(problems) == [
        f"names {NAMED:,} files, more than MAX_FILES_PER_PAGE ({CAP}): the first {CAP}"
        f" fetched, the other {NAMED - CAP:,} named but not fetched"
    ]
    (capped,) = resumed.rerun.summary["capped"]
    assert (capped["named"], capped["fetched"]) == (NAMED, CAP)
    assert resumed.rerun.exit_code == 1 and resumed.rerun.summary["status"] == "partial"


def test_the_summary_line_says_it_in_words(resumed, tmp_path):
    with FaultServer(crawl_delay=None, fan_out=CAP + 1) as server:
        command = crawl_command(tmp_path / "home", server.base_url, "--sections", FAN_OUT)
        command.remove("--json")
        done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1, done.stderr
    assert (
        f"names {CAP + 1:,} files; the first {CAP} fetched (MAX_FILES_PER_PAGE), the other 1"
        " named but not fetched"
    ) in done.stdout


def test_a_download_that_never_answers_does_not_hold_a_stop(tmp_path):
    with FaultServer(crawl_delay=None, fan_out=10, fan_out_delay=60) as server:
        stopped = stop_crawl(server, tmp_path / "home", 1, signal.SIGTERM)
    assert stopped.seconds <= STOP_WITHIN, stopped.seconds
    assert stopped.returncode == -signal.SIGTERM
    reasons = [f["reason"] for f in stopped.summary["failures"]]
    assert reasons == ["cancelled: the crawl was told to stop (2 s DOWNLOAD_STOP_GRACE passed)"]


def test_a_second_signal_ends_the_crawl_at_once_and_the_archive_stays_whole(tmp_path):
    home = tmp_path / "home"
    with FaultServer(crawl_delay=None, fan_out=10, fan_out_delay=60) as server:
        stopped = stop_crawl(server, home, 1, signal.SIGINT, signal.SIGTERM)
    assert stopped.seconds <= 2, stopped.seconds
    assert stopped.returncode in (-signal.SIGINT, -signal.SIGTERM)
    assert stopped.summary["status"] == "interrupted"
    code, _out, err, _peak = cli(home, "verify")
    assert code == 0, err


def test_joining_a_plain_file_name_by_hand_is_what_urljoin_gives():
    """safe_join's fast path for `./name.pdf` (a page naming 100,000 files spent most of its
    reading in urljoin) against urljoin itself, on random bases and hrefs."""
    import random
    from urllib.parse import urljoin

    from pipelines.extraction.page import safe_join

    pick = random.Random(23)
    segments = ["a", "中", "..", ".", "", "x.html", "?q=1", "#f", "%2e", "a;p", "h:1", "a b"]
    characters = [*"ab./?#:%;@&=+ 中.-_~\\", "./", "../"]
    compared = 0
    for _ in range(30_000):
        base = pick.choice(["http://", "https://", "HTTP://"]) + pick.choice(
            ["h", "h:8080", "u@h", "[::1]"]
        )
        base += pick.choice(["", "/"]) + "/".join(
            pick.choice(segments) for _ in range(pick.randint(0, 4))
        )
        href = "".join(pick.choice(characters) for _ in range(pick.randint(1, 8))).strip()
        scheme = href.split(":", 1)[0].lower() if ":" in href else ""
        if not href or href.startswith("#") or scheme in ("data", "about", "tel"):
            continue
        assert safe_join(base, href) == urljoin(base, href), (base, href)
        compared += 1
    assert compared > 20_000
