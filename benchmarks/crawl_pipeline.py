"""Benchmark: the full crawl pipeline against a bare Scrapy spider fetching the same URLs.

Serves the replica grown to N articles (default 2,000) on loopback, crawls it into a fresh
home with the full pipeline (extraction, normalization, attachments, WARC, SQLite), then
fetches every URL the full crawl requested with a bare spider (no pipelines, no WARC), and
prints both wall times, their ratio, each crawl's CPU seconds per URL (a regression shows
there even when the wall time hides it) and each process's peak RSS. Pairs alternate to
spread the machine's noise; the figures of every round are printed.

`--latency` makes the replica wait before each response, as a real server across a network
does; 0 (the default) measures pure CPU cost, where Scrapy itself is the bottleneck. Several
latencies take turns round by round, each with its own replica server. `--before DIR` (a
source tree of an earlier release, e.g. `git archive REV | tar -x -C DIR`) runs that
release's full crawl in the same rounds too.

    python benchmarks/crawl_pipeline.py --articles 2000 --rounds 2
    python benchmarks/crawl_pipeline.py --articles 2000 --rounds 3 --latency 0 0.1
    python benchmarks/crawl_pipeline.py --rounds 3 --latency 0 0.1 --before /tmp/before
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
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from chalco_crawler import settings as crawler_settings
from replica.server import ReplicaServer
from replica.site.build import build_site

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


@dataclass
class Measured:
    """One crawl process: wall and CPU seconds, peak RSS, exit code."""

    wall: float
    cpu: float
    """The crawl process's own user and system CPU."""
    rss_mb: float
    code: int


def run_measured(
    label: str, command: list[str], env: dict[str, str] | None = None, cwd: Path | None = None
) -> Measured:
    """Run one child process; its wall, CPU, peak RSS and exit code (its own and its
    children's CPU, and the server's, are printed)."""
    started, server_started = time.perf_counter(), server_cpu()
    children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=cwd
    )
    _pid, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = usage.ru_utime + usage.ru_stime
    grandchildren = (
        children.ru_utime + children.ru_stime - children_before.ru_utime - children_before.ru_stime
    ) - cpu
    print(
        f"  {label}: wall {wall:.2f} s · CPU: crawl process {cpu:.2f} s, its helpers "
        f"{max(grandchildren, 0):.2f} s, server {server_cpu() - server_started:.2f} s",
        flush=True,
    )
    return Measured(wall, cpu, usage.ru_maxrss / 1024, os.waitstatus_to_exitcode(status))


def full_crawl(
    base_url: str, home: Path, settings: list[str], source: Path | None = None
) -> Measured:
    """The full pipeline; `source`: a source tree of another release to run instead."""
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
    if source is None:
        return run_measured("full", command)
    env = dict(os.environ, PYTHONPATH=str(source))
    # In the tree's own folder: `-m` puts the working folder first on sys.path.
    return run_measured("full, before", command, env, cwd=source)


def bare_crawl(url_file: Path, log: Path, settings: list[str]) -> Measured:
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
    return run_measured("bare", command)


def requested_urls(home: Path) -> list[str]:
    """Every distinct URL the full crawl requested (robots.txt is fetched by Scrapy itself)."""
    database = sqlite3.connect(home / "archive.sqlite3")
    rows = database.execute("select distinct url from captures order by id").fetchall()
    return [url for (url,) in rows if not url.endswith("/robots.txt")]


# The ratios issue 16 holds: full pipeline against the bare spider, by latency.
TARGETS = {0.0: 2.0}
LATENCY_TARGET = 1.1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--page-size", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument(
        "--latency",
        type=float,
        nargs="+",
        default=[0.0],
        help="seconds per response; several: one round of each in turn",
    )
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument(
        "--concurrent-items",
        type=int,
        default=crawler_settings.CONCURRENT_ITEMS,
        help="Scrapy's CONCURRENT_ITEMS for both crawls (default: the project's; Scrapy's is 100)",
    )
    parser.add_argument(
        "--before",
        type=Path,
        help="a source tree of an earlier release (git archive): its full crawl runs in the "
        "same rounds, for figures before and after side by side",
    )
    args = parser.parse_args()

    site = build_site(articles=args.articles, page_size=args.page_size)
    work = Path(tempfile.mkdtemp(prefix="chalco-bench-"))
    settings = SETTINGS + [
        f"CONCURRENT_REQUESTS={args.concurrency}",
        f"CONCURRENT_REQUESTS_PER_DOMAIN={args.concurrency}",
        f"CONCURRENT_ITEMS={args.concurrent_items}",
    ]
    results: dict[float, dict[str, list[Measured]]] = {
        latency: {"full": [], "before": [], "bare": []} for latency in args.latency
    }
    urls_per_latency: dict[float, int] = {}
    with ExitStack() as servers:
        base_urls = {
            latency: servers.enter_context(ReplicaServer(site, latency=latency)).base_url
            for latency in args.latency
        }
        print(
            f"replica: {len(site.articles)} articles, latencies "
            f"{', '.join(f'{latency * 1000:.0f} ms' for latency in args.latency)}, "
            f"concurrency {args.concurrency}, concurrent items {args.concurrent_items}"
        )
        for round_number in range(1, args.rounds + 1):
            for latency in args.latency:  # alternating: the machine's noise falls on each
                print(f"round {round_number}, {latency * 1000:.0f} ms:", flush=True)
                tag = f"{round_number}-{latency * 1000:.0f}ms"
                home = work / f"home-{tag}"
                full = full_crawl(base_urls[latency], home, settings)
                before = None
                if args.before:
                    before_home = work / f"before-{tag}"
                    before = full_crawl(base_urls[latency], before_home, settings, args.before)
                urls = requested_urls(home)
                url_file = work / f"urls-{tag}.txt"
                url_file.write_text("\n".join(urls), "utf-8")
                bare = bare_crawl(url_file, work / f"bare-{tag}.log", settings)
                articles = (
                    sqlite3.connect(home / "archive.sqlite3")
                    .execute("select count(*) from articles")
                    .fetchone()[0]
                )
                line = (
                    f"  full {full.wall:.2f} s ({full.rss_mb:.0f} MB peak, exit {full.code}, "
                    f"{articles} articles, {len(urls)} URLs, "
                    f"{full.cpu / len(urls) * 1000:.2f} ms CPU per URL)"
                )
                if before is not None:
                    line += (
                        f" · before {before.wall:.2f} s "
                        f"({before.cpu / len(urls) * 1000:.2f} ms CPU per URL)"
                    )
                line += (
                    f" · bare {bare.wall:.2f} s ({bare.rss_mb:.0f} MB peak, exit {bare.code}, "
                    f"{bare.cpu / len(urls) * 1000:.2f} ms CPU per URL) · ratio "
                    f"{full.wall / bare.wall:.2f}"
                )
                if before is not None:
                    line += f" (before {before.wall / bare.wall:.2f})"
                print(line, flush=True)
                results[latency]["full"].append(full)
                results[latency]["bare"].append(bare)
                if before is not None:
                    results[latency]["before"].append(before)
                urls_per_latency[latency] = len(urls)
    for latency, measured in results.items():
        urls = urls_per_latency[latency]
        target = TARGETS.get(latency, LATENCY_TARGET)

        def median(kind: str, value: str, of: dict[str, list[Measured]] = measured) -> float:
            return statistics.median(getattr(m, value) for m in of[kind])

        full, bare = median("full", "wall"), median("bare", "wall")
        summary = (
            f"{latency * 1000:.0f} ms, median of {args.rounds}: full pipeline {full:.2f} s, "
            f"bare spider {bare:.2f} s, ratio {full / bare:.2f} (target ≤ {target:.1f}); "
            f"CPU per URL full {median('full', 'cpu') / urls * 1000:.2f} ms, "
            f"bare {median('bare', 'cpu') / urls * 1000:.2f} ms; peak RSS full "
            f"{max(m.rss_mb for m in measured['full']):.0f} MB, bare "
            f"{max(m.rss_mb for m in measured['bare']):.0f} MB"
        )
        if measured["before"]:
            before = median("before", "wall")
            summary += (
                f"; before: full {before:.2f} s, ratio {before / bare:.2f}, CPU per URL "
                f"{median('before', 'cpu') / urls * 1000:.2f} ms"
            )
        print(summary)


if __name__ == "__main__":
    main()
