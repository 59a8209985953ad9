"""A fleet that loses nothing (issue 22): each fault as an operator meets it, over real HTTP
against the replica, with a Redis and a PostgreSQL the test may kill (tests/private_services)
or a database of its own on the machine's server. After each, the archive is compared with
the one-process archive of the same site, article for article, `verify` is ok and no
article has a second version."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import psycopg
import pytest

from replica.server import ReplicaServer
from tests.conftest import postgresql_database, run_crawl
from tests.fleet_workers import cli, comparable, export, finish, shared_redis_url, start_worker
from tests.private_services import PrivateCluster, free_port, private_postgresql, private_redis

# Paced so that the crawl lasts long enough for a fault to land in the middle of it; a
# worker that stops beating is gone after 2 s; Redis or the database may be away 20 s.
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


@pytest.fixture(scope="module")
def site(replica_site):
    """The replica, served for the whole module at one address (pages name their URLs)."""
    with ReplicaServer(replica_site) as server:
        yield server


@pytest.fixture(scope="module")
def alone(site, tmp_path_factory) -> dict[str, dict[str, Any]]:
    """The one-process archive of the site: what every fleet must end up with."""
    home = tmp_path_factory.mktemp("alone")
    since = len(site.requests)
    result = run_crawl(home, site.base_url)
    assert result.exit_code == 0, result.stderr
    ALONE_FETCHES.update(html_fetches(site, since))
    return {
        url: comparable(record)
        for url, record in export(home, f"sqlite:///{home / 'archive.sqlite3'}").items()
    }


# How often the one-process crawl fetched each HTML page (a page failing once is fetched
# twice, by any crawl).
ALONE_FETCHES: Counter[str] = Counter()


def html_fetches(server: ReplicaServer, since: int) -> Counter[str]:
    return Counter(r.path for r in server.requests[since:] if r.path.endswith((".html", "/")))


def assert_whole(home: Path, database: str, alone: dict[str, dict[str, Any]]) -> None:
    """Article for article the one-process archive, each once, and verify ok."""
    archived = export(home, database)
    assert set(archived) == set(alone), set(alone) ^ set(archived)
    for url, record in archived.items():
        assert comparable(record) == alone[url], url
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


def pages_fetched_twice(server: ReplicaServer, since: int) -> list[str]:
    """HTML pages the site served more often since request `since` than to one process."""
    fetches = html_fetches(server, since)
    return sorted(path for path, count in fetches.items() if count > ALONE_FETCHES[path])


def test_a_worker_killed_mid_crawl_loses_nothing_in_the_same_run(tmp_path, site, alone):
    redis_url = shared_redis_url()
    home = tmp_path / "fleet"
    with postgresql_database() as database:
        since = len(site.requests)
        # The victim commits seldom: killed, it holds requests fetched and not committed.
        victim = start_worker(
            home,
            site.base_url,
            redis_url,
            database,
            "a",
            *SLOWER,
            "-s",
            "ARCHIVE_COMMIT_SECONDS=60",
            "-s",
            "ARCHIVE_COMMIT_EVERY=100000",
        )
        survivor = start_worker(home, site.base_url, redis_url, database, "b", *SLOWER)
        wait_for_captures(home, 20, victim, survivor)
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=30)
        # In its place, while the crawl goes on (it must join the same fleet run).
        stand_in = start_worker(home, site.base_url, redis_url, database, "c", *SLOWER)
        summaries = [finish(survivor), finish(stand_in)]

        assert [survivor.returncode, stand_in.returncode] == [0, 0], summaries
        assert all(s["status"] == "ok" and s["fleet"]["complete"] for s in summaries)
        requeued = sum(s["fleet"]["requeued_from"].get("a", 0) for s in summaries)
        assert requeued > 0, summaries  # the victim held uncommitted requests
        # Nothing was fetched twice but what the victim had in flight or uncommitted.
        twice = pages_fetched_twice(site, since)
        assert len(twice) <= requeued, twice
        assert_whole(home, database, alone)

        (row,) = fleet_rows(home, database)
        assert row["status"] == "partial", row  # the fleet run lost a worker (and nothing else)
        assert row["unfinished"] == 0 and row["requeued"] == {"a": requeued}
        endings = {w["worker"]: w["status"] for w in row["workers"]}
        # c found the victim gone when it started and recovered its run, or did not yet
        assert endings in ({"a": a, "b": "ok", "c": "ok"} for a in ("gone", "interrupted"))


def test_redis_killed_and_restarted_empty_loses_nothing(tmp_path, site, alone):
    home = tmp_path / "fleet"
    with private_redis() as redis, postgresql_database() as database:
        workers = [
            start_worker(home, site.base_url, redis.url, database, name, *PACED)
            for name in ("a", "b")
        ]
        wait_for_captures(home, 25, *workers)
        redis.kill()
        time.sleep(2)
        redis.start()  # empty: no persistence
        summaries = [finish(worker) for worker in workers]

        # The workers waited for Redis and rebuilt the queue from the archive: the same
        # run fetched everything, and neither says ok (the queue was lost on the way).
        assert [w.returncode for w in workers] == [1, 1], summaries
        assert all(s["status"] == "partial" and s["fleet"]["redis_lost"] for s in summaries)
        assert sum(s["fleet"]["recovered"] for s in summaries) > 0, summaries
        assert_whole(home, database, alone)

        # The next crawl, incremental as cron runs it, finds nothing missing.
        again = [
            start_worker(home, site.base_url, redis.url, database, name, *PACED)
            for name in ("a", "b")
        ]
        summaries = [finish(worker) for worker in again]
        assert all(s["status"] == "ok" for s in summaries), summaries
        assert sum(s["new"] for s in summaries) == 0
        assert_whole(home, database, alone)


def test_a_fleet_killed_whole_with_its_redis_is_finished_by_the_next_run(tmp_path, site, alone):
    """Every worker killed and Redis restarted empty: nothing in Redis says what was
    wanted. The archive does: the next fleet run queues again what the dead one left
    unfinished, and walks every list page rather than stop at a known article."""
    home = tmp_path / "fleet"
    with private_redis() as redis, postgresql_database() as database:
        workers = [
            start_worker(home, site.base_url, redis.url, database, name, *PACED)
            for name in ("a", "b")
        ]
        wait_for_captures(home, 25, *workers)
        for worker in workers:
            worker.send_signal(signal.SIGKILL)
            worker.wait(timeout=30)
        redis.kill()
        redis.start()
        again = start_worker(home, site.base_url, redis.url, database, "c", *PACED)
        summary = finish(again)

        assert again.returncode == 0, summary
        assert summary["fleet"]["carried_over"] > 0, summary
        assert summary["new"] < len(alone)  # the dead fleet's committed part was kept
        assert_whole(home, database, alone)
        rows = fleet_rows(home, database)
        assert [row["status"] for row in rows] == ["ok", "interrupted"]
        assert rows[1]["resumed_by"] == rows[0]["fleet_run"] and rows[1]["unfinished"] > 0


@pytest.fixture(scope="module")
def cluster():
    with private_postgresql() as cluster:
        yield cluster


def cluster_database(cluster: PrivateCluster, name: str) -> str:
    with psycopg.connect(
        f"host=127.0.0.1 port={cluster.port} user=postgres dbname=postgres", autocommit=True
    ) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    return cluster.url.rsplit("/", 1)[0] + f"/{name}"


def test_postgresql_stopped_and_started_loses_nothing(tmp_path, site, alone, cluster):
    redis_url = shared_redis_url()
    home = tmp_path / "fleet"
    database = cluster_database(cluster, "stopped")
    fleet = f"stopped-{cluster.port}"
    workers = [
        start_worker(home, site.base_url, redis_url, database, name, *PACED, fleet=fleet)
        for name in ("a", "b")
    ]
    wait_for_captures(home, 25, *workers)
    cluster.stop("immediate")
    time.sleep(3)
    cluster.start()
    summaries = [finish(worker) for worker in workers]

    # The workers waited for the database, put back what its lost batches held, and went
    # on; neither says ok of a run that lost a batch.
    assert [w.returncode for w in workers] == [1, 1], summaries
    assert all(s["status"] == "partial" for s in summaries), summaries
    assert all(s["fleet"]["complete"] for s in summaries), summaries
    assert_whole(home, database, alone)


def one_line_error(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in stderr, stderr
    return lines[0]


def test_redis_or_the_database_unreachable_at_the_start_is_one_line_and_exit_5(tmp_path, site):
    nowhere = f"redis://127.0.0.1:{free_port()}/0"
    started = time.monotonic()
    with postgresql_database() as database:
        worker = start_worker(
            tmp_path / "h", site.base_url, nowhere, database, "a", "-s", "FLEET_RETRY_SECONDS=2"
        )
        _, stderr = worker.communicate(timeout=120)
    assert worker.returncode == 5
    line = one_line_error(stderr)
    assert f"cannot reach Redis at {nowhere.removeprefix('redis://')}" in line
    assert "(tried for 2 s)" in line

    no_database = f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/none"
    worker = start_worker(
        tmp_path / "h2",
        site.base_url,
        shared_redis_url(),
        no_database,
        "a",
        "-s",
        "FLEET_RETRY_SECONDS=2",
        fleet=f"nodb-{free_port()}",
    )
    _, stderr = worker.communicate(timeout=120)
    assert worker.returncode == 5
    line = one_line_error(stderr)
    assert f"cannot reach the database at {no_database.split('@')[1]} (tried for 2 s)" in line
    assert time.monotonic() - started < 60


def test_redis_gone_for_good_mid_crawl_ends_the_workers_with_one_line(tmp_path, site):
    home = tmp_path / "fleet"
    with private_redis() as redis, postgresql_database() as database:
        worker = start_worker(
            home,
            site.base_url,
            redis.url,
            database,
            "a",
            *PACED,
            "-s",
            "FLEET_RETRY_SECONDS=3",
            as_json=False,
        )
        wait_for_captures(home, 10, worker)
        redis.kill()
        gone_at = time.monotonic()
        _, stderr = worker.communicate(timeout=120)
        waited = time.monotonic() - gone_at
    assert worker.returncode == 5, stderr
    line = one_line_error(stderr)
    assert line.startswith(f"Error: cannot reach Redis at 127.0.0.1:{redis.port}/0")
    assert "(tried for 3 s)" in line
    assert 3 <= waited < 40


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-x", "-q"]))
