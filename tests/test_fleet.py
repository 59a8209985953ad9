"""A distributed crawl: worker processes sharing a Redis queue and a PostgreSQL archive.

Against the real Redis (127.0.0.1:6379) and PostgreSQL (127.0.0.1:5432) of this machine;
skipped with the reason where they are absent, unless CHALCO_REQUIRE_SERVICES is set (CI).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from replica.server import ReplicaServer
from tests.conftest import postgresql_database, run_crawl
from tests.fleet_workers import (
    cli,
    comparable,
    export,
    fetched_paths,
    finish,
    shared_redis_url,
    start_worker,
)


@pytest.fixture(scope="module")
def redis_url() -> str:
    return shared_redis_url()


@pytest.fixture
def database_url():
    with postgresql_database() as url:
        yield url


def test_two_workers_archive_what_one_process_archives_fetching_each_page_once(
    tmp_path, replica_site, redis_url, database_url
):
    with ReplicaServer(replica_site) as alone:
        single = run_crawl(tmp_path / "single", alone.base_url, "--full")
        alone_paths = fetched_paths(alone)
    assert single.exit_code == 0, single.stderr  # the replica's deliberate 404: a dead link
    assert [d["reason"] for d in single.summary["dead_links"]] == ["HTTP 404"]
    sqlite_url = f"sqlite:///{tmp_path / 'single' / 'archive.sqlite3'}"

    # The same site at the same address (pages name their own URLs), served afresh.
    with ReplicaServer(replica_site, port=alone.port) as shared:
        home = tmp_path / "fleet"
        workers = [
            start_worker(home, shared.base_url, redis_url, database_url, name, "--full")
            for name in ("w1", "w2")
        ]
        summaries = [finish(worker) for worker in workers]
        fleet_paths = fetched_paths(shared)

    # Both worked, and between them each page was fetched as often as by one process
    # (once; twice for the page that fails once with 500).
    assert all(summary["captures"] > 0 for summary in summaries), summaries
    assert fleet_paths == alone_paths
    assert sum(s["new"] for s in summaries) == len(replica_site.live_articles())

    on_fleet = export(home, database_url)
    on_single = export(tmp_path / "single", sqlite_url)
    assert set(on_fleet) == set(on_single)
    for url, record in on_fleet.items():
        assert comparable(record) == comparable(on_single[url]), url
        assert record["version"] == 1

    result = cli(database_url, "verify", "--home", str(home))
    assert result.exit_code == 0, result.output
    runs = cli(database_url, "runs", "--home", str(home), "--format", "jsonl")
    (fleet_run,) = [json.loads(line) for line in runs.stdout.splitlines()]  # one row
    assert fleet_run["status"] == "ok" and fleet_run["unfinished"] == 0
    assert sorted((w["worker"], w["status"]) for w in fleet_run["workers"]) == [
        ("w1", "ok"),
        ("w2", "ok"),
    ]
    assert fleet_run["new"] == len(replica_site.live_articles())
    warc_names = sorted(p.name for p in (home / "warc").glob("*.warc.gz"))
    assert any("-w1-" in name for name in warc_names) and any("-w2-" in name for name in warc_names)


def warc_bytes_of(home: Path, worker: str) -> int:
    return sum(p.stat().st_size for p in (home / "warc").glob(f"*-{worker}-*.warc.gz"))


def test_a_worker_killed_half_way_loses_nothing_after_the_other_and_a_rerun(
    tmp_path, replica_site, redis_url, database_url
):
    home = tmp_path / "fleet"
    with ReplicaServer(replica_site, latency=0.02) as server:
        # Paced for the fleet, so that the crawl lasts seconds and the kill lands mid-way.
        slow = [
            "-s",
            "CONCURRENT_REQUESTS=2",
            "-s",
            "ARCHIVE_COMMIT_EVERY=7",
            "-s",
            "DOWNLOAD_DELAY=0.03",
        ]
        victim = start_worker(home, server.base_url, redis_url, database_url, "victim", *slow)
        survivor = start_worker(home, server.base_url, redis_url, database_url, "survivor", *slow)
        deadline = time.monotonic() + 60
        while warc_bytes_of(home, "victim") < 60_000 and victim.poll() is None:
            assert time.monotonic() < deadline, "the victim wrote nothing in time"
            time.sleep(0.02)
        assert victim.poll() is None, "the victim finished before it could be killed"
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=30)
        survived = finish(survivor)
        assert survived["status"] in ("ok", "partial"), survived

        # The next scheduled crawl: one worker, incremental as cron would run it.
        rerun = start_worker(home, server.base_url, redis_url, database_url, "rerun")
        again = finish(rerun)

    assert again["recovery"]["interrupted_runs"], again
    live = {server.base_url + a.url_path.lstrip("/") for a in replica_site.live_articles()}
    archived = export(home, database_url)
    assert set(archived) == live
    assert all(record["version"] == 1 for record in archived.values())
    result = cli(database_url, "verify", "--home", str(home))
    assert result.exit_code == 0, result.output
    runs = cli(database_url, "runs", "--home", str(home), "--format", "jsonl")
    status = {
        worker["worker"]: worker["status"]
        for row in map(json.loads, runs.stdout.splitlines())
        for worker in row["workers"]
    }
    assert status["victim"] == "interrupted"


def test_two_workers_on_one_host_keep_the_fleets_per_host_pace(
    tmp_path, replica_site, redis_url, database_url
):
    delay = 0.15
    pace = ["-s", f"DOWNLOAD_DELAY={delay}", "-s", "DOWNLOAD_DELAY_JITTER=0"]
    with ReplicaServer(replica_site) as server:
        workers = [
            start_worker(
                tmp_path / "fleet", server.base_url, redis_url, database_url, name, "--full", *pace
            )
            for name in ("p1", "p2")
        ]
        summaries = [finish(worker) for worker in workers]
        arrivals = sorted(r.at.timestamp() for r in server.requests)

    assert all(summary["captures"] > 10 for summary in summaries), summaries
    # One worker alone starts a request every `delay`; so must the two together. A worker
    # busy with a page may send a granted request a little late, next to the following one,
    # so the count in any second may exceed 1/delay by one or two, never by the second
    # worker's share (about 6 more).
    most_in_a_second = max(
        sum(1 for t in arrivals if start <= t < start + 1.0) for start in arrivals
    )
    assert most_in_a_second <= 1 / delay + 2, most_in_a_second
    rate = (len(arrivals) - 1) / (arrivals[-1] - arrivals[0])
    assert rate <= 1 / delay * 1.05, rate


def test_workers_need_a_database_server(tmp_path, redis_url):
    """Through the CLI, as systemd runs it: the options reach the crawler, which refuses."""
    env = {k: v for k, v in os.environ.items() if k != "CHALCO_ARCHIVE_DB"}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "archive.cli",
            "crawl",
            "--home",
            str(tmp_path / "home"),
            "--base-url",
            "http://127.0.0.1:9/",
            "--workers-redis",
            redis_url,
            "--worker",
            "a",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert result.returncode == 4
    assert "workers need a shared database server" in result.stderr


def test_a_second_worker_of_the_same_name_is_refused(
    tmp_path, replica_site, redis_url, database_url
):
    with ReplicaServer(replica_site, latency=0.05) as server:
        first = start_worker(tmp_path / "h", server.base_url, redis_url, database_url, "same")
        # The first has joined the fleet once it fetches (start-up takes seconds on a busy
        # machine, so a fixed sleep raced it).
        while not server.requests:
            time.sleep(0.05)
        second = start_worker(tmp_path / "h", server.base_url, redis_url, database_url, "same")
        _, stderr = second.communicate(timeout=60)
        first.send_signal(signal.SIGTERM)
        first.communicate(timeout=60)
    assert second.returncode == 3
    assert "already running" in stderr


def test_the_fleet_is_documented_with_its_systemd_unit():
    page = Path(__file__).parent.parent / "docs" / "archivists" / "fleet.md"
    text = page.read_text(encoding="utf-8")
    assert "--workers-redis" in text and "chalco-archive-worker@.service" in text


def test_the_shared_queue_gives_list_pages_first_then_the_hosts_in_turn(redis_url):
    """Redis orders equal scores by their bytes (by URL): without the turns, one host's
    requests would all come out before the other's, and that host's pace would hold back
    the worker while the other host idled."""
    from scrapy import Request, Spider

    from chalco_crawler.fleet import Fleet
    from chalco_crawler.fleet_queue import FleetQueue

    fleet = Fleet(redis_url, f"queue-{os.getpid()}", "q1", ttl=5)
    queue = FleetQueue(fleet.redis, Spider("news"), fleet.queue_key)
    queue.fleet = fleet
    fleet.join()
    try:
        for n in range(3):
            queue.push(Request(f"http://a.example/article{n}.html"))
            queue.push(Request(f"http://b.example/article{n}.html"))
        queue.push(Request("http://b.example/list_2.html", priority=10))
        taken = []
        while (request := queue.pop()) is not None:
            taken.append(request.url)
    finally:
        fleet.leave()
    assert taken[0] == "http://b.example/list_2.html"
    hosts = [url.split("/")[2] for url in taken[1:]]
    assert hosts == ["a.example", "b.example"] * 3
    assert taken[1:3] == ["http://a.example/article0.html", "http://b.example/article0.html"]


def test_a_hosts_line_serves_the_highest_priority_first_then_in_order():
    """A worker's requests for one host wait in line for the fleet's turn: a list page that
    arrives late goes before the articles already waiting."""
    import asyncio

    from chalco_crawler.fleet_pace import HostLine

    async def crawl() -> list[str]:
        line, served, gate = HostLine(), [], asyncio.Event()

        async def request(name: str, priority: int) -> None:
            async with line.turn(priority):
                served.append(name)
                if name == "first":
                    await gate.wait()  # holds the turn while the others arrive

        first = asyncio.create_task(request("first", 0))
        await asyncio.sleep(0)
        waiting = [
            asyncio.create_task(request(name, priority))
            for name, priority in [("article1", 0), ("list", 10), ("article2", 0)]
        ]
        await asyncio.sleep(0)
        gate.set()
        await asyncio.gather(first, *waiting)
        return served

    assert asyncio.run(crawl()) == ["first", "list", "article1", "article2"]


class RobotsTxtSlowOnce(ReplicaServer):
    """A replica whose robots.txt does not answer in time the second and third time asked:
    the second worker to join cannot read it, while the site answers everyone else."""

    robots_asked = 0

    def respond(self, method: str, target: str, headers: Any) -> Any:
        if target.startswith("/robots.txt"):
            with self._lock:
                type(self).robots_asked += 1
                asked = type(self).robots_asked
            if asked in (2, 3):
                time.sleep(3)
        return super().respond(method, target, headers)


def test_a_worker_that_cannot_read_robots_txt_loses_nothing_for_the_fleet(
    tmp_path, replica_site, redis_url, database_url
):
    """A one-process crawl does not crawl a host whose robots.txt gets no answer. A worker
    must not do that with the fleet's shared queue: it would fail at once every request it
    takes, and the shared duplicate filter would keep the others from fetching them."""
    home = tmp_path / "home"
    slow = ["--full", "-s", "CONCURRENT_REQUESTS=2", "-s", "ROBOTSTXT_TIMEOUT=1"]
    RobotsTxtSlowOnce.robots_asked = 0
    # Latency long enough that the first worker is still crawling when the second has started.
    with RobotsTxtSlowOnce(replica_site, latency=0.1) as server:
        first = start_worker(home, server.base_url, redis_url, database_url, "a", *slow)
        while len(server.requests) < 15:
            time.sleep(0.05)
        second = start_worker(home, server.base_url, redis_url, database_url, "b", *slow)
        summaries = [finish(first), finish(second)]
    assert server.robots_asked == 3  # the second worker's two tries timed out
    failed = [f for summary in summaries for f in summary["failures"]]
    assert failed == []
    dead = [d for summary in summaries for d in summary["dead_links"]]
    assert [d["reason"] for d in dead] == ["HTTP 404"], dead  # the replica's own 404
    live = {server.base_url + a.url_path.lstrip("/") for a in replica_site.live_articles()}
    assert set(export(home, database_url)) == live
