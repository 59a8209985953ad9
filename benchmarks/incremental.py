"""Benchmark: an incremental crawl of an unchanged replica against its first full crawl.

Serves the replica grown to N articles (default 2,000), crawls it into a fresh home (the
first crawl), then crawls it again incrementally, and prints for each the requests the
server received (robots.txt and the home page included) and the wall time.

    python benchmarks/incremental.py --articles 2000
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from replica.server import ReplicaServer
from replica.site.build import build_site

SETTINGS = [
    "DOWNLOAD_DELAY=0",
    "AUTOTHROTTLE_ENABLED=False",
    "CONCURRENT_REQUESTS=16",
    "CONCURRENT_REQUESTS_PER_DOMAIN=16",
]


def crawl(server: ReplicaServer, home: Path, *mode: str) -> tuple[int, float, int]:
    """Requests the server saw, wall seconds, exit code."""
    before = len(server.requests)
    command = [
        sys.executable,
        "-m",
        "chalco_crawler.run",
        "--home",
        str(home),
        "--base-url",
        server.base_url,
        *mode,
    ]
    for setting in SETTINGS:
        command += ["-s", setting]
    started = time.perf_counter()
    code = subprocess.call(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return len(server.requests) - before, time.perf_counter() - started, code


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--page-size", type=int, default=20)
    args = parser.parse_args()
    site = build_site(articles=args.articles, page_size=args.page_size)
    home = Path(tempfile.mkdtemp(prefix="chalco-incremental-")) / "home"
    with ReplicaServer(site) as server:
        print(f"replica: {len(site.articles)} articles, {len(site.sections)} sections")
        first = crawl(server, home)
        again = crawl(server, home)
        full = crawl(server, home, "--full")
    for name, (requests, wall, code) in (
        ("first crawl (empty archive)", first),
        ("incremental, unchanged site", again),
        ("--full, unchanged site", full),
    ):
        print(f"{name:30} {requests:6d} requests {wall:7.2f} s  exit {code}")
    print(
        f"incremental / first: {again[0] / first[0]:.3%} of the requests, "
        f"{again[1] / first[1]:.1%} of the time"
    )


if __name__ == "__main__":
    main()
