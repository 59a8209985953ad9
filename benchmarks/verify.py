"""Benchmark: `verify` against `zcat | sha256sum` on the same WARC files, and its database
and ledger pass at several archive sizes.

WARC files: crawls the replica grown to N articles (default 2,000) into a fresh home, or
takes `--home`, then times in alternating rounds, on the same files:

- `zcat FILES | sha256sum`, the reference: every byte decompressed and hashed once;
- warcio reading every record with its digests checked (what verify did alone);
- FastWARC checking every block and payload digest (`pip install '.[bench]'`; left out
  when it is not installed);
- the fast pass (archive.evidence.warc_check: the file's SHA-256, framing, block and payload
  digests, streaming hashlib over the record framing);
- verify's WARC check before this change (file SHA-256, framing pass, then warcio);
- verify's WARC check (archive.evidence.warc_files.check_warc_file on each file);
- the whole audit (`verify()`: files, then rows and ledger; with 2 jobs too), and
  `chalco-archive verify` as a user runs it (a new process, start-up included), with
  `--jobs 1` and `--jobs 2`, and that of an earlier release with `--before DIR` (its
  source tree, from `git archive`).

Database and ledger: `--ledger-homes DIR ...` (archives built by benchmarks/search.py's
generator, e.g. with `--build 2000 20000 100000 --into DIR`) are audited in alternating
rounds, and the pass's cost per ledger entry is printed for each.

    python benchmarks/verify.py --articles 2000 --rounds 5
    python benchmarks/verify.py --home /tmp/h --rounds 5 --ledger-homes /tmp/l2k /tmp/l20k
    python benchmarks/verify.py --build 2000 20000 100000 --into /tmp/ledger --rounds 3
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator

from archive.evidence.verify import verify
from archive.evidence.warc_check import scan_warc
from archive.evidence.warc_files import FileCheck, check_warc_file, read_with_warcio
from archive.store.db import open_reader, session_factory
from archive.store.home import ArchiveHome
from archive.store.recovery import file_sha256
from replica.server import ReplicaServer
from replica.site.build import build_site

HERE = Path(__file__).resolve().parent
SETTINGS = [
    "DOWNLOAD_DELAY=0",
    "AUTOTHROTTLE_ENABLED=False",
    "CONCURRENT_REQUESTS=16",
    "CONCURRENT_REQUESTS_PER_DOMAIN=16",
]


def crawl(articles: int, max_warc_size: int | None) -> ArchiveHome:
    home = ArchiveHome.at(Path(tempfile.mkdtemp(prefix="chalco-verify-")) / "home")
    site = build_site(articles=articles, page_size=20)
    settings = SETTINGS + ([f"ARCHIVE_WARC_MAX_SIZE={max_warc_size}"] if max_warc_size else [])
    with ReplicaServer(site) as server:
        command = [sys.executable, "-m", "chalco_crawler.run", "--home", str(home.root)]
        command += ["--base-url", server.base_url]
        for setting in settings:
            command += ["-s", setting]
        subprocess.call(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return home


def zcat_sha256sum(files: list[Path]) -> None:
    subprocess.run(
        ["bash", "-c", 'zcat "$@" | sha256sum > /dev/null', "zcat", *map(str, files)], check=True
    )


def warcio_digests(files: list[Path]) -> None:
    for path in files:
        with open(path, "rb") as handle:
            iterator = ArchiveIterator(handle, check_digests=True)
            for record in iterator:
                record.raw_stream.read()
                iterator.read_to_end(record)
                assert not record.digest_checker.problems, path


def fastwarc_digests(files: list[Path]) -> None:
    from fastwarc.warc import ArchiveIterator as FastIterator
    from fastwarc.warc import WarcRecordType

    for path in files:
        for record in FastIterator(str(path), parse_http=False):
            assert record.verify_block_digest(), path  # before parse_http reads the headers
            if record.record_type == WarcRecordType.response:
                record.parse_http()
                assert record.verify_payload_digest(), path


def fast_pass(files: list[Path]) -> None:
    for path in files:
        assert scan_warc(path, being_written=False) is not None, path


def warc_check_before(files: list[Path]) -> None:
    """What verify did for each file before the fast pass: the file's SHA-256, the framing
    pass (complete_prefix), then warcio with digests."""
    for path in files:
        file_sha256(path)
        check = FileCheck(path.name, {})
        read_with_warcio(path, check, being_written=False)
        assert not check.problems, check.problems


def warc_check(files: list[Path]) -> None:
    for path in files:
        check = check_warc_file(path, None, being_written=False)
        assert not check.read_by_warcio and not check.problems, path


def audit(home: ArchiveHome, jobs: int = 1) -> Callable[[], None]:
    def run() -> None:
        engine = open_reader(home)
        with session_factory(engine)() as session:
            report = verify(session, home, jobs=jobs)
        engine.dispose()
        assert report.ok, report.problems[:3]

    return run


def cli(home: ArchiveHome, jobs: int | None, source: Path | None = None) -> Callable[[], None]:
    """`chalco-archive verify` in a new process; `source`: an earlier release's tree."""
    command = [sys.executable, "-m", "archive.cli", "verify", "--home", str(home.root)]
    command += ["--jobs", str(jobs)] if jobs else []
    env = dict(os.environ, PYTHONPATH=str(source)) if source else None

    def run() -> None:
        # In the tree's own folder: `-m` puts the working folder first on sys.path.
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, env=env, cwd=source)

    return run


def timed(function: Callable[[], None]) -> tuple[float, float]:
    """Wall seconds, and CPU seconds of this process and its children (on a busy machine
    the wall time of a one-process check suffers more than a two-process pipeline's)."""
    started, cpu = time.perf_counter(), cpu_seconds()
    function()
    return time.perf_counter() - started, cpu_seconds() - cpu


def cpu_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def rounds(
    candidates: dict[str, Callable[[], None]], count: int
) -> dict[str, list[tuple[float, float]]]:
    """Every candidate once a round, in turn, so that the machine's noise falls on all."""
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in candidates}
    for round_number in range(1, count + 1):
        line = []
        for name, function in candidates.items():
            times[name].append(timed(function))
            wall, cpu = times[name][-1]
            line.append(f"{name} {wall:.3f} ({cpu:.3f} CPU)")
        print(f"round {round_number}: " + " · ".join(line), flush=True)
    return times


def warc_benchmark(home: ArchiveHome, count: int, before: Path | None) -> None:
    files = sorted(home.warc_dir.glob("*.warc.gz"))
    size = sum(path.stat().st_size for path in files)
    print(f"{len(files)} WARC file(s), {size / 1e6:.1f} MB in {home.root}", flush=True)
    candidates: dict[str, Callable[[], None]] = {
        "zcat | sha256sum": lambda: zcat_sha256sum(files),
        "warcio digests": lambda: warcio_digests(files),
    }
    try:
        import fastwarc  # noqa: F401

        candidates["FastWARC digests"] = lambda: fastwarc_digests(files)
    except ImportError:
        print("FastWARC not installed: pip install '.[bench]'")
    candidates["fast pass"] = lambda: fast_pass(files)
    candidates["WARC check before"] = lambda: warc_check_before(files)
    candidates["WARC check"] = lambda: warc_check(files)
    candidates["verify()"] = audit(home)
    candidates["verify(jobs=2)"] = audit(home, jobs=2)
    if before:
        candidates["CLI before"] = cli(home, None, before)
    candidates["CLI --jobs 1"] = cli(home, 1)
    candidates["CLI --jobs 2"] = cli(home, 2)
    times = rounds(candidates, count)
    wall_reference = statistics.median(wall for wall, _ in times["zcat | sha256sum"])
    cpu_reference = statistics.median(cpu for _, cpu in times["zcat | sha256sum"])
    print("median wall (× zcat | sha256sum's), median CPU (× its):")
    for name, values in times.items():
        wall = statistics.median(wall for wall, _ in values)
        cpu = statistics.median(cpu for _, cpu in values)
        print(
            f"  {name}: {wall:.3f} s ({wall / wall_reference:.2f}×, {size / 1e6 / wall:.0f} MB/s),"
            f" CPU {cpu:.3f} s ({cpu / cpu_reference:.2f}×)"
        )


def ledger_benchmark(homes: list[ArchiveHome], count: int, before: Path | None) -> None:
    entries: dict[str, int] = {}

    def audited(home: ArchiveHome) -> Callable[[], None]:
        def run() -> None:
            engine = open_reader(home)
            with session_factory(engine)() as session:
                report = verify(session, home)
            engine.dispose()
            assert report.ok, report.problems[:3]
            entries[str(home.root)] = report.ledger_entries

        return run

    candidates = {str(home.root): audited(home) for home in homes}
    for home in homes if before else []:
        candidates[f"CLI before {home.root}"] = cli(home, None, before)
        candidates[f"CLI {home.root}"] = cli(home, None)
    times = rounds(candidates, count)
    print("database and ledger pass (median):")
    for name, values in times.items():
        wall = statistics.median(wall for wall, _ in values)
        cpu = statistics.median(cpu for _, cpu in values)
        if name not in entries:  # a whole command, start-up included
            print(f"  {name}: {wall:.2f} s, CPU {cpu:.2f} s")
            continue
        count = entries[name]
        print(
            f"  {name}: {count:,} ledger entries in {wall:.2f} s ({wall / count * 1e6:.1f} µs"
            f" each), CPU {cpu:.2f} s ({cpu / count * 1e6:.1f} µs each)"
        )


def build_ledger_homes(sizes: list[int], into: Path) -> list[ArchiveHome]:
    sys.path.insert(0, str(HERE))
    from search import build  # the search benchmark's generator

    homes = []
    for articles in sizes:
        home = ArchiveHome.at(into / f"articles-{articles}")
        if not home.database_path.exists():
            print(f"building {articles} articles in {home.root}", flush=True)
            build(home, articles)
        homes.append(home)
    return homes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--home", type=Path, help="an archive crawled before")
    parser.add_argument("--max-warc-size", type=int, help="bytes: several WARC files")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--ledger-homes", type=Path, nargs="*", default=[])
    parser.add_argument("--build", type=int, nargs="*", default=[], help="ledger archives")
    parser.add_argument("--into", type=Path, help="where --build puts them")
    parser.add_argument("--no-warc", action="store_true", help="the ledger pass only")
    parser.add_argument(
        "--before",
        type=Path,
        help="a source tree of an earlier release (git archive): its `verify` in the same rounds",
    )
    args = parser.parse_args()
    if not args.no_warc:
        home = ArchiveHome.at(args.home) if args.home else crawl(args.articles, args.max_warc_size)
        warc_benchmark(home, args.rounds, args.before)
    homes = [ArchiveHome.at(path) for path in args.ledger_homes]
    if args.build:
        into = args.into or Path(tempfile.mkdtemp(prefix="chalco-ledger-"))
        homes += build_ledger_homes(args.build, into)
    if homes:
        ledger_benchmark(homes, args.rounds, args.before)


if __name__ == "__main__":
    main()
