"""A fleet killed whole, Redis intact (issue 22): a worker started soon after joins the dead
crawl instead of starting a new one over it, puts back what the dead workers held, and
finishes it; the archive is then the one-process archive of the site, article for article.
Over real HTTP against the replica, with the machine's Redis and a database of its own."""

from __future__ import annotations

import signal

import pytest

from replica.server import ReplicaServer
from tests.conftest import postgresql_database
from tests.fleet_workers import (
    PACED,
    Alone,
    assert_whole,
    crawl_alone,
    finish,
    fleet_rows,
    shared_redis_url,
    start_worker,
    wait_for_captures,
)


@pytest.fixture(scope="module")
def site(replica_site):
    with ReplicaServer(replica_site) as server:
        yield server


@pytest.fixture(scope="module")
def alone(site, tmp_path_factory) -> Alone:
    return crawl_alone(site, tmp_path_factory.mktemp("alone"))


def test_a_fleet_killed_whole_is_finished_from_redis_by_the_next_worker(tmp_path, site, alone):
    redis_url = shared_redis_url()
    home = tmp_path / "fleet"
    with postgresql_database() as database:
        workers = [
            start_worker(home, site.base_url, redis_url, database, name, *PACED)
            for name in ("a", "b")
        ]
        wait_for_captures(home, 25, *workers)
        for worker in workers:
            worker.send_signal(signal.SIGKILL)
            worker.wait(timeout=30)
        again = start_worker(home, site.base_url, redis_url, database, "c", *PACED)
        summary = finish(again)

        assert again.returncode == 0, summary
        assert summary["status"] == "ok" and summary["fleet"]["complete"], summary
        assert sum(summary["fleet"]["requeued_from"].values()) > 0, summary
        assert summary["fleet"]["carried_over"] == 0  # the same fleet run, from Redis
        assert_whole(home, database, alone)
        (row,) = fleet_rows(home, database)
        assert row["status"] == "partial" and row["unfinished"] == 0, row
        endings = {w["worker"]: w["status"] for w in row["workers"]}
        # a and b are recovered by c if their heartbeats had lapsed when it started
        assert endings.pop("c") == "ok"
        assert set(endings.values()) <= {"gone", "interrupted"} and set(endings) == {"a", "b"}
