"""Workers of a fleet as the tests run them: each a `chalco_crawler.run` process, with the
shared servers of the machine (Redis, PostgreSQL) or private ones (tests/private_services)."""

from __future__ import annotations

import json
import os
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from archive.cli import main
from replica.server import ReplicaServer
from tests.conftest import REDIS_URL, crawl_command, skip_without

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
