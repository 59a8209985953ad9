"""Benchmark: peak memory and wall time of the crawl on extreme pages, against an ordinary
crawl of the same pages in the same run.

Three scenarios on the fault replica (`replica/faults/`), each crawled into a fresh home
and, alternating, its baseline:

- huge: the 超大页面 section (huge_pages.py): a list page with a 50 MB inline script, an
  article with a 50 MB script in its <head>, one with a 50 MB pasted image (data: URI), one
  with a 50 MB paragraph (--paragraph-size); baseline: the same section with each huge part
  1 KB.
- fan-out: an article naming 100,000 attachments (fan_out.py; MAX_FILES_PER_PAGE 500 of them
  fetched, the rest named); baseline: the same article naming 5.
- endless: 公司要闻 with an attachment that never ends (transfers.py), cut at the default
  ATTACHMENT_MAXSIZE of 512 MiB, and a robots.txt of 12 MiB; baseline: the same section
  without those.

Each crawl is its own process, measured by a small process of its own (tests/conftest.py's
run_measured: a child's peak counts the process it was forked from). Both crawls of a pair
use the same settings: no delay, the project's defaults otherwise.

    python benchmarks/extreme_pages.py --rounds 2
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from replica.faults import FaultServer  # noqa: E402
from replica.faults.pages import FAN_OUT, GSYW, HUGE  # noqa: E402
from tests.conftest import crawl_command, run_measured  # noqa: E402

MiB = 1024 * 1024
PARAGRAPH_SIZE = [50_000_000]
"""The 超大页面 paragraph's size in the huge scenario (--paragraph-size)."""


def crawl(server: FaultServer, home: Path, *extra: str) -> tuple[int, float, float, dict]:
    """Exit code, peak RSS (MB), wall seconds and the summary's counts of one crawl."""
    command = crawl_command(home, server.base_url, *extra)
    started = time.perf_counter()
    code, stdout, _stderr, peak = run_measured(command, timeout=1800)
    seconds = time.perf_counter() - started
    counts = {}
    if stdout.strip().startswith("{"):
        import json

        summary = json.loads(stdout)
        counts = {"new": summary["new"], "files": summary["files"], "failed": summary["failed"]}
    return code, peak / MiB, seconds, counts


SCENARIOS = {
    "huge": (
        lambda: FaultServer(
            crawl_delay=None, huge_page_size=50_000_000, text_node_size=PARAGRAPH_SIZE[0]
        ),
        lambda: FaultServer(crawl_delay=None, huge_page_size=1_000),
        ("--sections", HUGE),
    ),
    "fan-out": (
        lambda: FaultServer(crawl_delay=None, fan_out=100_000),
        lambda: FaultServer(crawl_delay=None, fan_out=5),
        ("--sections", FAN_OUT),
    ),
    "endless": (
        lambda: FaultServer(
            crawl_delay=None,
            transfer_faults=True,
            robots_size=12 * MiB,
            bomb_size=4 * MiB,
            slow_seconds=3,
            slow_interval=0.2,
        ),
        lambda: FaultServer(crawl_delay=None, bomb_size=4 * MiB, slow_seconds=3, slow_interval=0.2),
        ("--sections", GSYW, "-s", "DOWNLOAD_TIMEOUT=60"),
    ),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--only", choices=sorted(SCENARIOS), action="append")
    parser.add_argument(
        "--paragraph-size", type=int, default=PARAGRAPH_SIZE[0], help="bytes (default 50 MB)"
    )
    args = parser.parse_args()
    PARAGRAPH_SIZE[0] = args.paragraph_size
    for round_number in range(1, args.rounds + 1):
        for name, (extreme, ordinary, extra) in SCENARIOS.items():
            if args.only and name not in args.only:
                continue
            results = {}
            with tempfile.TemporaryDirectory(prefix="chalco-extreme-") as work:
                # Alternate which goes first from round to round.
                order = ("extreme", "ordinary") if round_number % 2 else ("ordinary", "extreme")
                for which in order:
                    make = extreme if which == "extreme" else ordinary
                    with make() as server:
                        results[which] = crawl(server, Path(work) / which, *extra)
            print(f"round {round_number} {name}:")
            for which in ("extreme", "ordinary"):
                code, peak, seconds, counts = results[which]
                print(
                    f"  {which:9} exit {code}  peak RSS {peak:6.0f} MB  {seconds:6.1f} s  {counts}"
                )


if __name__ == "__main__":
    main()
