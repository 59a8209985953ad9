"""Benchmark: search latency on PostgreSQL against SQLite, the same archive in both.

Takes the 100,000-article archive benchmarks/search.py builds (its SQLite file) and a copy
of it in PostgreSQL (`chalco-archive migrate-db --to URL`), and times the same queries on
each: p50 and p95 per query length, limit 50, latest versions.

    python benchmarks/search_postgresql.py --home /tmp/bench100k/home \\
        --db postgresql+psycopg://postgres@127.0.0.1:5432/chalco_bench100k
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

from sqlalchemy import create_engine

from archive.read.search import search

sys.path.insert(0, str(Path(__file__).resolve().parent))
from search import percentile, queries  # noqa: E402  (the search benchmark's query sets)


def measure(url: str, query_sets: dict[str, list[str]], repeat: int) -> dict[str, list[float]]:
    engine = create_engine(url)
    timings: dict[str, list[float]] = {}
    with engine.connect() as connection:
        for name, words in query_sets.items():
            best = []
            for word in words:
                runs = []
                for _ in range(repeat):
                    started = time.perf_counter()
                    search(connection, word, limit=50)
                    runs.append((time.perf_counter() - started) * 1000)
                best.append(min(runs))
            timings[name] = best
    engine.dispose()
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, required=True)
    parser.add_argument("--db", required=True, help="the PostgreSQL copy's URL")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    query_sets = queries(random.Random(7))
    for label, url in (
        ("SQLite", f"sqlite:///{args.home / 'archive.sqlite3'}"),
        ("PostgreSQL", args.db),
    ):
        for name, values in measure(url, query_sets, args.repeat).items():
            print(
                f"{label:10} {name}: {len(values)} queries, p50 {percentile(values, 0.5):7.1f} ms"
                f"  p95 {percentile(values, 0.95):7.1f} ms  max {max(values):7.1f} ms"
            )


if __name__ == "__main__":
    main()
