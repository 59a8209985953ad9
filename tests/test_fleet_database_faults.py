"""A fleet that loses nothing (issue 22), the faults of the database: PostgreSQL stopped
and started under the workers (a private cluster, tests/private_services), and Redis or the
database unreachable at the start. Over real HTTP against the replica; after a fault the
archive is compared with the one-process archive of the same site, article for article."""

from __future__ import annotations

import time

import psycopg
import pytest

from replica.server import ReplicaServer
from tests.conftest import postgresql_database
from tests.fleet_workers import (
    PACED,
    Alone,
    assert_whole,
    crawl_alone,
    finish,
    one_line_error,
    shared_redis_url,
    start_worker,
    wait_for_captures,
)
from tests.private_services import PrivateCluster, free_port, private_postgresql


@pytest.fixture(scope="module")
def site(replica_site):
    """The replica, served for the whole module at one address (pages name their URLs)."""
    with ReplicaServer(replica_site) as server:
        yield server


@pytest.fixture(scope="module")
def alone(site, tmp_path_factory) -> Alone:
    return crawl_alone(site, tmp_path_factory.mktemp("alone"))


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


def test_postgresql_gone_for_good_mid_crawl_ends_the_workers_with_one_line(tmp_path, site, cluster):
    database = cluster_database(cluster, "gone")
    worker = start_worker(
        tmp_path / "fleet",
        site.base_url,
        shared_redis_url(),
        database,
        "a",
        *PACED,
        "-s",
        "FLEET_RETRY_SECONDS=3",
        fleet=f"gone-{cluster.port}",
        as_json=False,
    )
    wait_for_captures(tmp_path / "fleet", 10, worker)
    # Before the stop: the worker may see the database go while pg_ctl is still stopping it.
    gone_at = time.monotonic()
    cluster.stop("immediate")
    try:
        _, stderr = worker.communicate(timeout=120)
        waited = time.monotonic() - gone_at
    finally:
        cluster.start()  # for whatever runs after
    assert worker.returncode == 5, stderr
    line = one_line_error(stderr)
    assert line.startswith(f"Error: cannot reach the database at 127.0.0.1:{cluster.port}/gone")
    assert "(tried for 3 s)" in line
    assert 3 <= waited < 60
