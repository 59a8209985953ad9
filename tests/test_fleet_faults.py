"""A fleet that loses nothing (issue 22), the faults of workers and of Redis, each as an
operator meets it: over real HTTP against the replica, with a redis-server the test may kill
(tests/private_services) and a database of its own on the machine's PostgreSQL. After each,
the archive is compared with the one-process archive of the same site, article for article,
`verify` is ok and no article has a second version. The database's faults are in
test_fleet_database_faults."""

from __future__ import annotations

import signal
import time

import pytest

from replica.server import ReplicaServer
from tests.conftest import postgresql_database
from tests.fleet_workers import (
    PACED,
    SLOWER,
    Alone,
    assert_whole,
    crawl_alone,
    finish,
    fleet_rows,
    one_line_error,
    pages_fetched_twice,
    shared_redis_url,
    start_worker,
    wait_for_articles,
    wait_for_captures,
)
from tests.private_services import private_redis


@pytest.fixture(scope="module")
def site(replica_site):
    """The replica, served for the whole module at one address (pages name their URLs)."""
    with ReplicaServer(replica_site) as server:
        yield server


@pytest.fixture(scope="module")
def alone(site, tmp_path_factory) -> Alone:
    return crawl_alone(site, tmp_path_factory.mktemp("alone"))


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
        twice = pages_fetched_twice(site, since, alone)
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
        wait_for_articles(database, 1, *workers)  # a part of the crawl committed
        for worker in workers:
            worker.send_signal(signal.SIGKILL)
            worker.wait(timeout=30)
        redis.kill()
        redis.start()
        again = start_worker(home, site.base_url, redis.url, database, "c", *PACED)
        summary = finish(again)

        assert again.returncode == 0, summary
        assert summary["fleet"]["carried_over"] > 0, summary
        assert summary["new"] < len(alone.records)  # the dead fleet's committed part was kept
        assert_whole(home, database, alone)
        rows = fleet_rows(home, database)
        assert [row["status"] for row in rows] == ["ok", "interrupted"]
        assert rows[1]["resumed_by"] == rows[0]["fleet_run"] and rows[1]["unfinished"] > 0


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
