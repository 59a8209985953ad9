"""Workers of a fleet as the tests run them: each a `chalco_crawler.run` process, with the
shared servers of the machine (Redis, PostgreSQL) or private ones (tests/private_services)."""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from archive.cli import main
from replica.server import ReplicaServer
from tests.conftest import REDIS_URL, crawl_command, run_crawl, skip_without

# Workers of these tests lapse fast, so that a killed one is soon gone (not so fast that a
# worker slowed down by a busy machine seems gone).
FLEET_FAST = ["-s", "FLEET_HEARTBEAT_TTL=3"]


def shared_redis_url() -> str:
    """The machine's Redis (a fleet of its own per test: named after its database)."""
    redis = pytest.importorskip("redis")
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as error:
        skip_without("Redis on 127.0.0.1:6379", error)
    return REDIS_URL


def start_worker(
    home: Path,
    base_url: str,
    redis_url: str,
    database: str,
    worker: str,
    *extra: str,
    fleet: str | None = None,
    as_json: bool = True,
) -> subprocess.Popen[str]:
    """One worker process of the fleet (by default named after the test's database),
    printing its summary as JSON (or as an operator reads it)."""
    fleet = fleet or database.rsplit("/", 1)[1]
    command = crawl_command(
        home,
        base_url,
        "--workers-redis",
        redis_url,
        "--fleet",
        fleet,
        "--worker",
        worker,
        *FLEET_FAST,
        *extra,
    )
    return subprocess.Popen(
        [part for part in command if as_json or part != "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=os.environ | {"CHALCO_ARCHIVE_DB": database},
    )


def finish(process: subprocess.Popen[str], timeout: float = 240) -> dict[str, Any]:
    stdout, stderr = process.communicate(timeout=timeout)
    assert stdout.strip().startswith("{"), stderr
    return json.loads(stdout)


def cli(database: str, *args: str) -> Any:
    return CliRunner().invoke(main, ["--db", database, *args])


def export(home: Path, database: str) -> dict[str, dict[str, Any]]:
    result = CliRunner().invoke(main, ["--db", database, "export", "--home", str(home)])
    assert result.exit_code == 0, result.output
    return {r["url"]: r for r in map(json.loads, result.stdout.splitlines())}


def comparable(record: dict[str, Any]) -> dict[str, Any]:
    """An article as both crawls must agree on: all but the times of the crawls."""
    kept = {k: v for k, v in record.items() if k not in ("first_seen", "last_seen", "snapshot")}
    return kept | {"snapshot": record["snapshot"]["sha256"]}


def fetched_paths(server: ReplicaServer) -> Counter[str]:
    """What the site served, robots.txt aside (every worker reads it for itself)."""
    return Counter(r.path for r in server.requests if r.path != "/robots.txt")


# Paced so that the crawl lasts long enough for a fault to land in the middle of it; a
# worker that stops beating is gone after 3 s; Redis or the database may be away 20 s.
PACED = [
    "-s",
    "CONCURRENT_REQUESTS=2",
    "-s",
    "DOWNLOAD_DELAY=0.06",
    "-s",
    "DOWNLOAD_DELAY_JITTER=0",
    "-s",
    "FLEET_RETRY_SECONDS=20",
]


# Slower still, so that a worker started after a kill joins a crawl still going on.
SLOWER = [*PACED, "-s", "DOWNLOAD_DELAY=0.12"]


@dataclass
class Alone:
    """The one-process archive of a site: what every fleet must end up with."""

    records: dict[str, dict[str, Any]]
    """Its articles by URL, as comparable()."""
    fetches: Counter[str]
    """How often it fetched each HTML page (a page failing once is fetched twice)."""


def crawl_alone(server: ReplicaServer, home: Path) -> Alone:
    since = len(server.requests)
    result = run_crawl(home, server.base_url)
    assert result.exit_code == 0, result.stderr
    records = export(home, f"sqlite:///{home / 'archive.sqlite3'}")
    return Alone({url: comparable(r) for url, r in records.items()}, html_fetches(server, since))


def html_fetches(server: ReplicaServer, since: int) -> Counter[str]:
    return Counter(r.path for r in server.requests[since:] if r.path.endswith((".html", "/")))


def assert_whole(home: Path, database: str, alone: Alone) -> None:
    """Article for article the one-process archive, each once, and verify ok."""
    archived = export(home, database)
    assert set(archived) == set(alone.records), set(alone.records) ^ set(archived)
    for url, record in archived.items():
        assert comparable(record) == alone.records[url], url
        assert record["version"] == 1, url
    verified = cli(database, "verify", "--home", str(home))
    assert verified.exit_code == 0, verified.output


def fleet_rows(home: Path, database: str) -> list[dict[str, Any]]:
    result = cli(database, "runs", "--home", str(home), "--format", "jsonl")
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.stdout.splitlines()]


def wait_for_captures(home: Path, at_least: int, *workers: subprocess.Popen[str]) -> None:
    """Until the workers have archived this many responses between them (WARC records are
    written as they come), so that a fault lands mid-crawl."""
    deadline = time.monotonic() + 90
    while sum(p.stat().st_size for p in (home / "warc").glob("*.warc.gz")) < at_least * 4000:
        assert time.monotonic() < deadline, "the workers archived nothing in time"
        assert all(w.poll() is None for w in workers), "a worker ended before the fault"
        time.sleep(0.05)


def wait_for_articles(database: str, at_least: int, *workers: subprocess.Popen[str]) -> None:
    """Until the workers have committed this many articles between them: what a kill must
    find kept (WARC records are written before their rows commit)."""
    import psycopg

    deadline = time.monotonic() + 90
    while True:
        assert time.monotonic() < deadline, "the workers committed no article in time"
        assert all(w.poll() is None for w in workers), "a worker ended before the fault"
        try:
            with psycopg.connect(database.replace("+psycopg", "")) as connection:
                (count,) = connection.execute("SELECT count(*) FROM articles").fetchone() or (0,)
        except psycopg.Error:  # no such table yet: the first worker is making the schema
            count = 0
        if count >= at_least:
            return
        time.sleep(0.05)


def pages_fetched_twice(server: ReplicaServer, since: int, alone: Alone) -> list[str]:
    """HTML pages the site served more often since request `since` than to one process."""
    fetches = html_fetches(server, since)
    return sorted(path for path, count in fetches.items() if count > alone.fetches[path])


def one_line_error(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in stderr, stderr
    return lines[0]
