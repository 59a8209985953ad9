"""Shared fixtures: a replica site served over real HTTP, and crawls of it into real homes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from archive.store.warcstore import HttpExchange
from archive.store.writer.values import ArticleContent, FileLink
from replica.server import ReplicaServer
from replica.site import ReplicaSite
from replica.site.build import build_site

# No politeness delay against our own loopback replica: tests must stay fast.
FAST = [
    "-s",
    "DOWNLOAD_DELAY=0",
    "-s",
    "AUTOTHROTTLE_ENABLED=False",
    "-s",
    "RETRY_TIMES=2",
    "-s",
    "RETRY_BACKOFF_BASE=0.05",
]


@dataclass
class CrawlResult:
    exit_code: int
    summary: dict[str, Any]
    stdout: str
    stderr: str
    peak_rss: int = 0
    """The crawl process's peak resident memory, bytes (its ru_maxrss)."""


# Runs the command and writes its peak RSS (KiB) to the file descriptor it is given. A
# child's ru_maxrss counts the memory of the process it was forked from (Linux records the
# old image's peak at exec), so the command is started from this small interpreter rather
# than from the test process, which may hold a replica of hundreds of megabytes.
_MEASURER = """
import os, signal, subprocess, sys
process = subprocess.Popen(sys.argv[2:])
_pid, status, usage = os.wait4(process.pid, 0)
os.write(int(sys.argv[1]), str(usage.ru_maxrss).encode())
if os.WIFSIGNALED(status):
    signal.signal(os.WTERMSIG(status), signal.SIG_DFL)
    os.kill(os.getpid(), os.WTERMSIG(status))
sys.exit(os.waitstatus_to_exitcode(status))
"""


def run_measured(command: list[str], timeout: float) -> tuple[int, str, str, int]:
    """Run a command; its exit code, stdout, stderr and peak RSS in bytes: the command's
    own, taken by a small measuring process (see _MEASURER)."""
    with (
        tempfile.TemporaryFile() as out,
        tempfile.TemporaryFile() as err,
        tempfile.TemporaryFile() as peak,
    ):
        measurer = [sys.executable, "-c", _MEASURER, str(peak.fileno()), *command]
        process = subprocess.Popen(
            measurer, stdout=out, stderr=err, pass_fds=(peak.fileno(),), start_new_session=True
        )
        expired = threading.Event()

        def expire() -> None:
            expired.set()
            os.killpg(process.pid, signal.SIGKILL)  # the measurer and the command

        timer = threading.Timer(timeout, expire)
        timer.start()
        try:
            process.wait()
        finally:
            timer.cancel()
        if expired.is_set():
            raise subprocess.TimeoutExpired(command, timeout)
        out.seek(0)
        err.seek(0)
        peak.seek(0)
        stdout = out.read().decode("utf-8", "replace")
        stderr = err.read().decode("utf-8", "replace")
        peak_kib = int(peak.read() or 0)
    return process.returncode, stdout, stderr, peak_kib * 1024  # Linux: kilobytes


def crawl_command(home: Path, base_url: str, *extra: str) -> list[str]:
    """`chalco_crawler.run` (what `chalco-archive crawl` runs) with the test settings."""
    return [
        sys.executable,
        "-m",
        "chalco_crawler.run",
        "--home",
        str(home),
        "--base-url",
        base_url,
        "--json",
        *FAST,
        *extra,
    ]


def run_crawl(home: Path, base_url: str, *extra: str, timeout: float = 300) -> CrawlResult:
    """Run `chalco_crawler.run` in its own process, as `chalco-archive crawl` does."""
    code, stdout, stderr, peak = run_measured(crawl_command(home, base_url, *extra), timeout)
    summary: dict[str, Any] = {}
    if stdout.strip().startswith("{"):
        summary = json.loads(stdout)
    return CrawlResult(code, summary, stdout, stderr, peak)


def page_exchange(number: int) -> HttpExchange:
    """A small news page's exchange, the `number`th, as a writer records it in tests."""
    return HttpExchange(
        url=f"http://127.0.0.1:8000/xwdt/gsyw/202602/t2026020{number}_1.html",
        method="GET",
        request_headers=[("User-Agent", "test")],
        status=200,
        protocol="HTTP/1.1",
        response_headers=[("Content-Type", "text/html")],
        payload=f"<html>page {number}</html>".encode(),
        fetched_at=datetime(2026, 2, 4, 1, 2, number, tzinfo=UTC),
    )


def article_content(
    url: str,
    body: str,
    *,
    title: str = "标题",
    published: str | None = None,
    files: tuple[FileLink, ...] = (),
) -> ArticleContent:
    """An article page's record as the pipeline hands it to the writer, for writer tests."""
    return ArticleContent(
        url=url,
        site="chalco",
        docid=None,
        title=title,
        source=None,
        source_raw=None,
        author=None,
        author_raw=None,
        published=published,
        published_raw=None,
        info_raw=None,
        body=body,
        body_html=None,
        files=list(files),
    )


POSTGRESQL_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432"
REDIS_URL = "redis://127.0.0.1:6379/0"


def skip_without(service: str, error: Exception) -> None:
    """Skip a test that needs a server this machine lacks; CI (CHALCO_REQUIRE_SERVICES)
    turns that into a failure."""
    if os.environ.get("CHALCO_REQUIRE_SERVICES"):
        raise error
    pytest.skip(f"no {service} ({error})")


@contextmanager
def postgresql_database() -> Iterator[str]:
    """A new, empty database on the real PostgreSQL of 127.0.0.1:5432, dropped after."""
    psycopg = pytest.importorskip("psycopg")
    name = f"chalco_test_{uuid.uuid4().hex[:12]}"
    try:
        admin = psycopg.connect(
            "host=127.0.0.1 port=5432 user=postgres dbname=postgres",
            autocommit=True,
            connect_timeout=3,
        )
    except psycopg.OperationalError as error:
        skip_without("PostgreSQL on 127.0.0.1:5432", error)
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{POSTGRESQL_SERVER}/{name}"
    finally:
        admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        admin.close()


@pytest.fixture(scope="session")
def replica_site() -> ReplicaSite:
    return build_site()


@pytest.fixture(scope="session")
def replica(replica_site: ReplicaSite) -> Iterator[ReplicaServer]:
    with ReplicaServer(replica_site) as server:
        yield server


@dataclass
class CrawledArchive:
    home: Path
    first: CrawlResult
    second: CrawlResult
    requests_first: list[Any]
    requests_second: list[Any]


@pytest.fixture(scope="session")
def crawled(replica: ReplicaServer, tmp_path_factory: pytest.TempPathFactory) -> CrawledArchive:
    """The replica crawled into one home, then again with --full (which must change nothing)."""
    home = tmp_path_factory.mktemp("home")
    start = len(replica.requests)
    first = run_crawl(home, replica.base_url)
    middle = len(replica.requests)
    second = run_crawl(home, replica.base_url, "--full")
    return CrawledArchive(
        home=home,
        first=first,
        second=second,
        requests_first=list(replica.requests[start:middle]),
        requests_second=list(replica.requests[middle:]),
    )
