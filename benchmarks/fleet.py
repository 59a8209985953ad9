"""Benchmark: one crawl worker against two, on a two-host replica group, polite per host.

Serves a site group of two hosts (the chalco replica and a member site, together N
articles, default 2,400) with a per-host delay, then crawls it into a fresh PostgreSQL
database twice in one session: once with one worker, once with two workers sharing a Redis
queue. Both runs are distributed crawls (the per-host pace is the fleet's), so the only
difference is the number of processes. Prints wall times, requests per host and the ratio.

    python benchmarks/fleet.py --articles 2400 --delay 0.02

Needs Redis on 127.0.0.1:6379 and PostgreSQL on 127.0.0.1:5432 (trust auth).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path

import psycopg

from replica.server import ReplicaServer
from replica.site.build import build_group

REDIS = "redis://127.0.0.1:6379/0"
SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432"


def fresh_database() -> str:
    name = f"chalco_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect("host=127.0.0.1 user=postgres dbname=postgres", autocommit=True) as db:
        db.execute(f'CREATE DATABASE "{name}"')
    return name


def drop_database(name: str) -> None:
    with psycopg.connect("host=127.0.0.1 user=postgres dbname=postgres", autocommit=True) as db:
        db.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


def crawl(
    workers: int, main: ReplicaServer, member: ReplicaServer, delay: float, *mode: str
) -> tuple[float, list[dict[str, object]]]:
    """Wall seconds of the whole fleet, and each worker's summary."""
    database = fresh_database()
    home = Path(tempfile.mkdtemp(prefix="chalco-fleet-")) / "home"
    env = os.environ | {"CHALCO_ARCHIVE_DB": f"{SERVER}/{database}"}
    command = [
        sys.executable,
        "-m",
        "chalco_crawler.run",
        "--home",
        str(home),
        "--site",
        "chalco",
        "--site",
        "zzly",
        "--base-url",
        f"chalco={main.base_url}",
        "--base-url",
        f"zzly={member.base_url}",
        "--json",
        "--workers-redis",
        REDIS,
        "--fleet",
        database,
        "-s",
        f"DOWNLOAD_DELAY={delay}",
        *mode,
    ]
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
    return elapsed, summaries


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=2400, help="both sites together")
    parser.add_argument("--delay", type=float, default=0.02, help="per-host delay, seconds")
    parser.add_argument("--full", action="store_true", help="crawl --full (default: incremental)")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    chalco, member = build_group(
        articles=args.articles // 2, member_articles=args.articles - args.articles // 2
    )
    print(
        f"replica group: {len(chalco.articles)} + {len(member.articles)} articles on two hosts,"
        f" {args.delay} s per-host delay (±50%) for the fleet"
    )
    with (
        ReplicaServer(chalco) as main_server,
        ReplicaServer(member, host="localhost") as member_server,
    ):
        times = {}
        for workers in args.workers:
            before = len(main_server.requests), len(member_server.requests)
            mode = ["--full"] if args.full else []
            elapsed, summaries = crawl(workers, main_server, member_server, args.delay, *mode)
            requests = (
                len(main_server.requests) - before[0],
                len(member_server.requests) - before[1],
            )
            new = sum(int(s["new"]) for s in summaries)  # type: ignore[call-overload]
            status = Counter(str(s["status"]) for s in summaries)
            times[workers] = elapsed
            print(
                f"{workers} worker(s): {elapsed:6.1f} s, {new} articles, requests per host"
                f" {requests[0]} + {requests[1]}, {requests[0] / elapsed:5.1f} + "
                f"{requests[1] / elapsed:5.1f} req/s, status {dict(status)}"
            )
    if 1 in times and 2 in times:
        print(f"speed-up of two workers: {times[1] / times[2]:.2f}x")


if __name__ == "__main__":
    main()
