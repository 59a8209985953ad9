"""Benchmark: exporting a 100,000-article archive as JSON Lines, CSV and Parquet.

Builds the archive with benchmarks/search.py's generator (through the archive's own storage
API) unless --home names one already built, then runs `chalco-archive export` in a child
process for each format and prints the wall time, articles per second and the child's peak
RSS.

    python benchmarks/export.py --home /tmp/bench100k/home
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from archive.store.home import ArchiveHome

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from search import build  # noqa: E402  (the search benchmark's generator)


def export(home: Path, fmt: str, output: Path) -> tuple[float, float, int]:
    command = [
        sys.executable,
        "-m",
        "archive.cli",
        "export",
        "--home",
        str(home),
        "--format",
        fmt,
        "--output",
        str(output),
    ]
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _pid, status, usage = os.wait4(process.pid, 0)
    return time.perf_counter() - started, usage.ru_maxrss / 1024, os.waitstatus_to_exitcode(status)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, help="an archive to export (default: build one)")
    parser.add_argument("--articles", type=int, default=100_000)
    args = parser.parse_args()
    home = args.home
    if home is None:
        home = Path(tempfile.mkdtemp(prefix="chalco-export-")) / "home"
        build(ArchiveHome.at(home), args.articles)
    out = Path(tempfile.mkdtemp(prefix="chalco-export-out-"))
    for fmt in ("jsonl", "csv", "parquet"):
        target = out / f"articles.{fmt}"
        seconds, rss, code = export(home, fmt, target)
        lines = sum(1 for _ in open(target, "rb")) if fmt == "jsonl" else None
        print(
            f"{fmt:8} {seconds:6.1f} s  peak RSS {rss:5.0f} MB  exit {code}  "
            f"{target.stat().st_size / 1e6:7.1f} MB" + (f"  {lines} lines" if lines else "")
        )
        target.unlink()


if __name__ == "__main__":
    main()
