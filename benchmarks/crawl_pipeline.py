"""Benchmark: the full crawl pipeline against a bare Scrapy spider fetching the same URLs.

Serves the replica grown to N articles (default 2,000) on loopback, crawls it into a fresh
home with the full pipeline (extraction, normalization, attachments, WARC, SQLite), then
fetches every URL the full crawl requested with a bare spider (no pipelines, no WARC), and
prints both wall times, their ratio and each process's peak RSS. Pairs alternate to spread
the machine's noise; the figures of every round are printed.

`--latency` makes the replica wait before each response, as a real server across a network
does; 0 (the default) measures pure CPU cost, where Scrapy itself is the bottleneck.

    python benchmarks/crawl_pipeline.py --articles 2000 --rounds 2
    python benchmarks/crawl_pipeline.py --articles 2000 --rounds 2 --latency 0.05
"""

from __future__ import annotations

import argparse
import os
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from chalco_crawler import settings as crawler_settings
from replica.server import ReplicaServer
from replica.site import build_site

HERE = Path(__file__).resolve().parent
# Same crawl settings for both: no politeness delay on loopback, same concurrency.
SETTINGS = [
    "DOWNLOAD_DELAY=0",
    "AUTOTHROTTLE_ENABLED=False",
    "LOG_LEVEL=INFO",
    "TELNETCONSOLE_ENABLED=False",
]


def server_cpu() -> float:
    """CPU seconds used so far by this process, where the replica server's threads run."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run_measured(command: list[str]) -> tuple[float, float, int]:
    """Wall seconds, peak RSS in MB, and exit code of one child process (its own and its
    children's CPU, and the server's, are printed)."""
    started, server_started = time.perf_counter(), server_cpu()
    children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _pid, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    grandchildren = (
        children.ru_utime + children.ru_stime - children_before.ru_utime - children_before.ru_stime
    ) - (usage.ru_utime + usage.ru_stime)
    print(
        f"  {command[2]}: wall {wall:.2f} s · CPU: crawl process "
        f"{usage.ru_utime + usage.ru_stime:.2f} s, its helpers {max(grandchildren, 0):.2f} s, "
        f"server {server_cpu() - server_started:.2f} s",
        flush=True,
    )
    process.returncode = os.waitstatus_to_exitcode(status)
    return wall, usage.ru_maxrss / 1024, process.returncode


def full_crawl(base_url: str, home: Path, settings: list[str]) -> tuple[float, float, int]:
    command = [
        sys.executable,
        "-m",
        "chalco_crawler.run",
        "--home",
        str(home),
        "--base-url",
        base_url,
    ]
    for setting in settings:
        command += ["-s", setting]
    return run_measured(command)


def bare_crawl(url_file: Path, log: Path, settings: list[str]) -> tuple[float, float, int]:
    command = [
        sys.executable,
        "-m",
        "scrapy",
        "runspider",
        str(HERE / "bare_spider.py"),
        "-a",
        f"urls={url_file}",
        "-s",
        f"LOG_FILE={log}",
        "-s",
        "ROBOTSTXT_OBEY=True",
    ]
    for setting in settings:
        command += ["-s", setting]
    return run_measured(command)


def requested_urls(home: Path) -> list[str]:
    """Every distinct URL the full crawl requested (robots.txt is fetched by Scrapy itself)."""
    database = sqlite3.connect(home / "archive.sqlite3")
    rows = database.execute("select distinct url from captures order by id").fetchall()
    return [url for (url,) in rows if not url.endswith("/robots.txt")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--page-size", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds per response")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument(
        "--concurrent-items",
        type=int,
        default=crawler_settings.CONCURRENT_ITEMS,
        help="Scrapy's CONCURRENT_ITEMS for both crawls (default: the project's; Scrapy's is 100)",
    )
    args = parser.parse_args()

    site = build_site(articles=args.articles, page_size=args.page_size)
    work = Path(tempfile.mkdtemp(prefix="chalco-bench-"))
    full_times, bare_times, full_rss, bare_rss = [], [], [], []
    settings = SETTINGS + [
        f"CONCURRENT_REQUESTS={args.concurrency}",
        f"CONCURRENT_REQUESTS_PER_DOMAIN={args.concurrency}",
        f"CONCURRENT_ITEMS={args.concurrent_items}",
    ]
    with ReplicaServer(site, latency=args.latency) as server:
        print(
            f"replica: {len(site.articles)} articles at {server.base_url}, "
            f"latency {args.latency * 1000:.0f} ms, concurrency {args.concurrency}, "
            f"concurrent items {args.concurrent_items}"
        )
        for round_number in range(1, args.rounds + 1):
            home = work / f"home-{round_number}"
            wall, rss, code = full_crawl(server.base_url, home, settings)
            urls = requested_urls(home)
            url_file = work / f"urls-{round_number}.txt"
            url_file.write_text("\n".join(urls), "utf-8")
            bare_wall, bare_peak, bare_code = bare_crawl(
                url_file, work / f"bare-{round_number}.log", settings
            )
            articles = (
                sqlite3.connect(home / "archive.sqlite3")
                .execute("select count(*) from articles")
                .fetchone()[0]
            )
            print(
                f"round {round_number}: full {wall:.2f} s ({rss:.0f} MB peak, exit {code}, "
                f"{articles} articles, {len(urls)} URLs) · bare {bare_wall:.2f} s "
                f"({bare_peak:.0f} MB peak, exit {bare_code}) · ratio {wall / bare_wall:.2f}"
            )
            full_times.append(wall)
            bare_times.append(bare_wall)
            full_rss.append(rss)
            bare_rss.append(bare_peak)
    full, bare = statistics.median(full_times), statistics.median(bare_times)
    print(
        f"median: full pipeline {full:.2f} s, bare spider {bare:.2f} s, ratio {full / bare:.2f} "
        f"(target ≤ 1.30); peak RSS full {max(full_rss):.0f} MB (target ≤ 300), "
        f"bare {max(bare_rss):.0f} MB"
    )


if __name__ == "__main__":
    main()
