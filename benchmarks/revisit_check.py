"""Benchmark: what it costs a crawl that a revisit never points at a record known bad.

Before writing a revisit record, the writer now reads the stored record holding the payload
back once a run (archive.store.warcstore.record_intact, a slice at a time), and skips one
whose loss is on record. This times the writer alone, in the same run: N pages written as
responses by a first run, then the same N payloads again by a second run, as revisits, with
the check (as the crawl does now) and without it (the record taken on trust, as before), in
alternating rounds, each round on a fresh copy of the first run's home.

    python benchmarks/revisit_check.py --pages 2000 --size 30000 --rounds 3
"""

from __future__ import annotations

import argparse
import gzip
import random
import shutil
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from archive.store.home import ArchiveHome
from archive.store.warcstore import HttpExchange
from archive.store.writer import ArchiveWriter
from archive.store.writer.captures import CaptureWriter


def exchanges(pages: int, size: int) -> list[HttpExchange]:
    """Pages of text-like bytes, gzip-encoded as the replica serves them."""
    rng = random.Random(7)
    words = ["中铝", "铝业", "公司", "召开", "会议", "项目", "生产", "安全", "<p>", "</p>"]
    result = []
    for number in range(pages):
        text = "".join(rng.choice(words) for _ in range(size // 6)).encode()
        result.append(
            HttpExchange(
                f"http://127.0.0.1:8000/xwdt/gsyw/202601/t2026010{number}.html",
                "GET",
                [("Accept-Encoding", "gzip")],
                200,
                "HTTP/1.1",
                [("Content-Type", "text/html; charset=utf-8"), ("Content-Encoding", "gzip")],
                gzip.compress(text, compresslevel=6, mtime=0),
                datetime.now(UTC),
            )
        )
    return result


def write_run(root: Path, pages: list[HttpExchange]) -> tuple[float, float, int]:
    """Wall and CPU seconds to record every exchange in one run (the commits' fsyncs
    included), and how many became revisits."""
    writer = ArchiveWriter(ArchiveHome.at(root))
    writer.start_run(site="chalco", base_url="http://127.0.0.1:8000/", mode="full")
    started, cpu = time.perf_counter(), time.process_time()
    revisits = sum(writer.record_exchange(page).record_type == "revisit" for page in pages)
    writer.commit()
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    writer.finish_run("ok", 0, {})
    writer.close()
    return elapsed, cpu, revisits


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=2000)
    parser.add_argument("--size", type=int, default=30000, help="bytes of text a page")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    pages = exchanges(args.pages, args.size)
    work = Path(tempfile.mkdtemp(prefix="chalco-revisit-check-"))
    first_seconds, _, _ = write_run(work / "first", pages)
    wire = sum(len(page.payload) for page in pages)
    print(
        f"{args.pages} pages of {args.size} bytes of text ({wire / 1e6:.1f} MB gzip on the"
        f" wire); first run, all responses: {first_seconds:.2f} s"
    )
    checked = CaptureWriter._intact
    timings: dict[str, list[tuple[float, float]]] = {
        "with the check": [],
        "trusted (before)": [],
    }
    try:
        for round_number in range(args.rounds):
            for label in timings:
                home = work / f"round{round_number}-{len(timings[label])}-{label[:4]}"
                shutil.copytree(work / "first", home)
                CaptureWriter._intact = (  # type: ignore[method-assign]
                    checked if label == "with the check" else (lambda self, capture_id: True)
                )
                wall, cpu, revisits = write_run(home, pages)
                assert revisits == args.pages, revisits
                timings[label].append((wall, cpu))
                shutil.rmtree(home)
    finally:
        CaptureWriter._intact = checked  # type: ignore[method-assign]
    print("| second run, all revisits | CPU, median | per page | wall, median | rounds (CPU s) |")
    print("| --- | --- | --- | --- | --- |")
    for label, rounds in timings.items():
        cpu = statistics.median(c for _, c in rounds)
        wall = statistics.median(w for w, _ in rounds)
        print(
            f"| {label} | {cpu:.2f} s | {cpu / args.pages * 1e3:.2f} ms | {wall:.2f} s |"
            f" {', '.join(f'{c:.2f}' for _, c in rounds)} |"
        )
    shutil.rmtree(work)


if __name__ == "__main__":
    main()
