"""Benchmark: `verify` throughput on a crawled archive of 2,000+ articles with attachments.

Crawls the replica grown to N articles (default 2,000) into a fresh home, then runs the full
audit (every WARC record read and its digests checked, rows against records, the ledger)
and prints the WARC megabytes read per second.

    python benchmarks/verify.py --articles 2000
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from archive.db import open_reader, session_factory
from archive.home import ArchiveHome
from archive.verify import verify
from replica.server import ReplicaServer
from replica.site import build_site

SETTINGS = [
    "DOWNLOAD_DELAY=0",
    "AUTOTHROTTLE_ENABLED=False",
    "CONCURRENT_REQUESTS=16",
    "CONCURRENT_REQUESTS_PER_DOMAIN=16",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    home = ArchiveHome.at(Path(tempfile.mkdtemp(prefix="chalco-verify-")) / "home")
    site = build_site(articles=args.articles, page_size=20)
    with ReplicaServer(site) as server:
        command = [
            sys.executable,
            "-m",
            "chalco_crawler.run",
            "--home",
            str(home.root),
            "--base-url",
            server.base_url,
        ]
        for setting in SETTINGS:
            command += ["-s", setting]
        subprocess.call(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    engine = open_reader(home)
    session = session_factory(engine)()
    for round_number in range(1, args.rounds + 1):
        started = time.perf_counter()
        report = verify(session, home)
        seconds = time.perf_counter() - started
        megabytes = report.bytes_read / 1e6
        print(
            f"round {round_number}: {'ok' if report.ok else 'PROBLEMS'}, {report.files} files, "
            f"{megabytes:.1f} MB, {report.records} records, {report.captures} captures, "
            f"{report.ledger_entries} ledger entries in {seconds:.2f} s: "
            f"{megabytes / seconds:.1f} MB/s"
        )
    session.close()
    engine.dispose()


if __name__ == "__main__":
    main()
