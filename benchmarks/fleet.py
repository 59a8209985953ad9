"""Benchmark: 1, 2 and 4 crawl workers on a group of four sites, each host's pace shared.

Serves four replica sites (the chalco flavour and three member sites, N articles each) on
four hosts of loopback, each answering after a fixed latency (default 100 ms), then crawls
the group into a fresh PostgreSQL database once per worker count, in one session, the counts
alternating round by round. Every run is a fleet (shared Redis queue, leases, each host's
delay and concurrency kept for the whole fleet), so the only difference is the number of
processes. Prints wall times and requests per second side by side, the busiest second of
each host (it must stay within the host's pace however many workers), and the cost of a
lease: the Redis calls a worker makes per request, timed against scrapy-redis's plain pop.

    python benchmarks/fleet.py --articles 120 --latency 0.1 --delay 0.05 --rounds 1

Needs Redis on 127.0.0.1:6379 and PostgreSQL on 127.0.0.1:5432 (trust auth).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from contextlib import ExitStack
from pathlib import Path

import psycopg
import redis

from chalco_crawler.fleet import Fleet
from replica.server import ReplicaServer
from replica.site.build import build_group

REDIS = "redis://127.0.0.1:6379/0"
SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432"
SITES = ("chalco", "zzly", "zlgj", "sxxcl")  # the chalco flavour, then three member sites


def fresh_database() -> str:
    name = f"chalco_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect("host=127.0.0.1 user=postgres dbname=postgres", autocommit=True) as db:
        db.execute(f'CREATE DATABASE "{name}"')
    return name


def drop_database(name: str) -> None:
    with psycopg.connect("host=127.0.0.1 user=postgres dbname=postgres", autocommit=True) as db:
        db.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


def busiest_second(servers: list[ReplicaServer], since: list[int]) -> int:
    """The most requests any one host answered within one second."""
    most = 0
    for server, start in zip(servers, since, strict=True):
        times = sorted(r.at.timestamp() for r in server.requests[start:])
        for index, first in enumerate(times):
            within = sum(1 for t in times[index:] if t < first + 1.0)
            most = max(most, within)
    return most


def crawl(workers: int, servers: list[ReplicaServer], delay: float) -> dict[str, object]:
    """Wall seconds of the whole fleet, requests answered, and each worker's summary."""
    database = fresh_database()
    home = Path(tempfile.mkdtemp(prefix="chalco-fleet-")) / "home"
    env = os.environ | {"CHALCO_ARCHIVE_DB": f"{SERVER}/{database}"}
    command = [sys.executable, "-m", "chalco_crawler.run", "--home", str(home), "--json"]
    for name, server in zip(SITES, servers, strict=True):
        command += ["--site", name, "--base-url", f"{name}={server.base_url}"]
    command += [
        "--workers-redis",
        REDIS,
        "--fleet",
        database,
        "-s",
        f"DOWNLOAD_DELAY={delay}",
        "-s",
        "DOWNLOAD_DELAY_JITTER=0",
    ]
    since = [len(server.requests) for server in servers]
    started = time.perf_counter()
    processes = [
        subprocess.Popen(
            [*command, "--worker", f"w{n}"],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env=env,
        )
        for n in range(workers)
    ]
    summaries = [json.loads(process.communicate()[0]) for process in processes]
    elapsed = time.perf_counter() - started
    drop_database(database)
    requests = sum(len(s.requests) - n for s, n in zip(servers, since, strict=True))
    return {
        "seconds": elapsed,
        "requests": requests,
        "new": sum(int(s["new"]) for s in summaries),
        "status": dict(Counter(str(s["status"]) for s in summaries)),
        "busiest": busiest_second(servers, since),
    }


def lease_cost(count: int) -> dict[str, float]:
    """µs per request of taking it from the queue and letting it go, as a worker does (one
    script that pops and leases, one HDEL per commit of 200), against scrapy-redis's own
    pop (a MULTI of ZRANGE and ZREMRANGEBYRANK), on the same Redis."""
    name = f"bench-{uuid.uuid4().hex[:8]}"
    fleet = Fleet(REDIS, name, "w0", ttl=30)
    fleet.join()
    server = redis.Redis.from_url(REDIS)
    members = {f"http://site/article{n}.html".encode() * 8: -float(n) for n in range(count)}
    try:
        server.zadd(fleet.queue_key, members)
        started = time.perf_counter()
        for _ in range(count):
            pipe = server.pipeline()
            pipe.multi()
            pipe.zrange(fleet.queue_key, 0, 0).zremrangebyrank(fleet.queue_key, 0, 0)
            pipe.execute()
        plain = (time.perf_counter() - started) / count * 1e6
        server.zadd(fleet.queue_key, members)
        started = time.perf_counter()
        leases = []
        for _ in range(count):
            taken = fleet.pop(fleet.queue_key)
            assert taken is not None
            leases.append(taken[0])
            if len(leases) == 200:
                fleet.release(leases)
                leases = []
        fleet.release(leases)
        leased = (time.perf_counter() - started) / count * 1e6
    finally:
        fleet.leave()
    return {"plain_us": plain, "leased_us": leased, "round_trips": 1 + 1 / 200}


def frontier_cost(count: int) -> float:
    """µs per request of what the archive keeps of the fleet's frontier: a queued row (with
    the request, as the queue holds it) and a done row, written with the batch."""
    from archive.store.home import ArchiveHome
    from archive.store.writer import ArchiveWriter
    from archive.store.writer.fleet import DONE, QUEUED, FrontierRequest

    database = fresh_database()
    home = ArchiveHome.at(tempfile.mkdtemp(prefix="chalco-frontier-"), f"{SERVER}/{database}")
    writer = ArchiveWriter(home, worker="w0")
    try:
        writer.join_fleet_run("bench", uuid.uuid4().hex)
        request = b"x" * 600  # about a pickled list page or article request
        started = time.perf_counter()
        for n in range(count):
            entry = FrontierRequest(f"{n:040d}", "page", f"http://site/a{n}.html", request)
            writer.note_frontier(QUEUED, entry)
            writer.note_frontier(DONE, entry)
            if n % 200 == 199:
                writer.commit()
        writer.commit()
        return (time.perf_counter() - started) / count * 1e6
    finally:
        writer.close()
        drop_database(database)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=120, help="articles per site")
    parser.add_argument("--latency", type=float, default=0.1, help="each answer, seconds")
    parser.add_argument("--delay", type=float, default=0.05, help="per-host delay, seconds")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--leases", type=int, default=5000, help="requests for the lease cost")
    args = parser.parse_args()
    chalco, zzly = build_group(articles=args.articles, member_articles=args.articles)
    members = [zzly] + [
        build_group(seed=seed, articles=args.articles, member_articles=args.articles)[1]
        for seed in (2027, 2028)
    ]
    print(
        f"replica group: four sites of {args.articles} articles on four hosts, answering after"
        f" {args.latency * 1000:.0f} ms; the fleet's pace per host: {args.delay} s between two"
        f" requests (at most {1 / args.delay:.0f}/s), 2 at once"
    )
    results: dict[int, list[dict[str, object]]] = {w: [] for w in args.workers}
    with ExitStack() as stack:
        servers = [
            stack.enter_context(ReplicaServer(site, latency=args.latency))
            for site in [chalco, *members]
        ]
        for round_number in range(args.rounds):
            order = args.workers if round_number % 2 == 0 else list(reversed(args.workers))
            for workers in order:
                result = crawl(workers, servers, args.delay)
                results[workers].append(result)
                print(f"  round {round_number + 1}, {workers} worker(s): {result}", flush=True)
    print("workers | wall time | requests | requests/s | busiest second of a host | status")
    base = statistics.median(float(r["seconds"]) for r in results[args.workers[0]])
    for workers, runs in results.items():
        seconds = statistics.median(float(r["seconds"]) for r in runs)
        requests = statistics.median(int(r["requests"]) for r in runs)  # type: ignore[call-overload]
        busiest = max(int(r["busiest"]) for r in runs)  # type: ignore[call-overload]
        print(
            f"{workers} | {seconds:.1f} s ({base / seconds:.2f}x) | {requests:.0f} |"
            f" {requests / seconds:.1f} | {busiest} | {[r['status'] for r in runs]}"
        )
    cost = lease_cost(args.leases)
    print(
        f"lease per request: {cost['leased_us']:.0f} µs (pop and lease in one script, release"
        f" batched per commit: {cost['round_trips']:.3f} round trips) against"
        f" {cost['plain_us']:.0f} µs for scrapy-redis's plain pop (1 round trip)"
    )
    print(
        f"the frontier in the archive per request (a queued and a done row, in the batch):"
        f" {frontier_cost(args.leases):.0f} µs"
    )


if __name__ == "__main__":
    main()
