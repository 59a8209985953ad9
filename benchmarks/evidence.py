"""Benchmark: the evidence of issue 25 against the release before it, in the same runs.

- `--ledger HOME ...`: verify's ledger pass (check_ledger: every covered row hashed again,
  the chain, and now the Merkle tree and its heads) in CPU seconds per entry, on archives
  built with benchmarks/search.py's generator (`--build N ... --into DIR`), this tree's pass
  and the chain-only pass of the release before (`--before DIR`, its source tree from
  `git archive`), each in a child process of its own, in alternating rounds.
- `--verify N`: the replica of N articles crawled by the release before and by this one;
  `zcat FILE | sha256sum` of the WARC file, the interpreter alone and with the modules a
  `verify` loads (its floor), `chalco-archive verify` of that release on its crawl, this
  release's on a copy of that crawl brought to this schema (a release before seals: its files
  closed unsealed), with `--deep` and as it runs on its own crawl (sealed files), in
  alternating rounds, wall and CPU, each tree's modules compiled to bytecode first.
- `--proofs N`: a tree of N leaves (default 1,000,000) in an SQLite file; inclusion and
  consistency proofs read from it through archive.store.ledger_tree, timed one by one.
- `--package N`: the replica of N articles crawled with a local RFC 3161 authority
  (tests/tsa_authority.py), packaged whole, then `chalco-archive check-package` timed.

    python benchmarks/evidence.py --before /tmp/before --build 2000 20000 --into /tmp/l
    python benchmarks/evidence.py --before /tmp/before --verify 435 --rounds 5
    python benchmarks/evidence.py --proofs 1000000 --package 1000
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))  # tests.tsa_authority
sys.path.insert(0, str(HERE))  # search.build

from archive.store import ledger_tree, merkle  # noqa: E402
from archive.store.home import ArchiveHome  # noqa: E402

FAST = [
    "-s",
    "DOWNLOAD_DELAY=0",
    "-s",
    "AUTOTHROTTLE_ENABLED=False",
    "-s",
    "CONCURRENT_REQUESTS=16",
    "-s",
    "CONCURRENT_REQUESTS_PER_DOMAIN=16",
]
LEDGER_PASS = """
import sys, time
from pathlib import Path
from archive.evidence.findings import Progress, VerifyReport
from archive.evidence.ledger_check import check_ledger
from archive.store.db import open_reader, session_factory
from archive.store.home import ArchiveHome
home = ArchiveHome.at(Path(sys.argv[1]))
try:  # this release: what `verify` reads through on SQLite (plain sqlite3)
    from archive.read.sql import open_sql_reader
    import archive.evidence.raw_rows  # noqa: F401
    database = open_sql_reader(home)
except ImportError:  # the release before: a session
    database = session_factory(open_reader(home))()
report = VerifyReport()
started = time.process_time()
check_ledger(database, report, Progress())
print(time.process_time() - started, report.ledger_entries)
"""

# What `chalco-archive verify` imports on SQLite with sealed files (tests/test_evidence.py
# keeps SQLAlchemy, rich and warcio out of it).
VERIFY_MODULES = (
    "import archive.cli, archive.cli.evidence, archive.evidence.verify,"
    " archive.evidence.warc_files, archive.evidence.losses"
)


def cpu_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def timed(function: Callable[[], object]) -> tuple[float, float]:
    started, cpu = time.perf_counter(), cpu_seconds()
    function()
    return time.perf_counter() - started, cpu_seconds() - cpu


def environment(source: Path | None) -> dict[str, str]:
    return dict(os.environ, PYTHONPATH=str(source)) if source else dict(os.environ)


def ledger_pass(home: Path, source: Path | None) -> tuple[float, int]:
    """(CPU seconds of check_ledger alone, entries), in a child process."""
    out = subprocess.run(
        [sys.executable, "-c", LEDGER_PASS, str(home)],
        check=True,
        capture_output=True,
        text=True,
        env=environment(source),
        cwd=source or ROOT,
    ).stdout.split()
    return float(out[0]), int(out[1])


def ledger_benchmark(homes: list[Path], before: Path | None, rounds: int) -> None:
    results: dict[tuple[str, str], list[float]] = {}
    entries: dict[str, int] = {}
    for round_number in range(1, rounds + 1):
        line = []
        for home in homes:
            for label, source in (("now", None), ("before", before)):
                if label == "before" and before is None:
                    continue
                cpu, count = ledger_pass(home, source)
                entries[str(home)] = count
                results.setdefault((str(home), label), []).append(cpu / count * 1e6)
                line.append(f"{home.name} {label} {cpu / count * 1e6:.1f} µs")
        print(f"round {round_number}: " + " · ".join(line), flush=True)
    print("ledger pass, CPU per entry (median; min–max):")
    for (home, label), values in results.items():
        print(
            f"  {Path(home).name} ({entries[home]:,} entries) {label}:"
            f" {statistics.median(values):.1f} µs ({min(values):.1f}–{max(values):.1f})"
        )


def build_homes(sizes: list[int], into: Path) -> list[Path]:
    from search import build

    homes = []
    for articles in sizes:
        home = ArchiveHome.at(into / f"articles-{articles}")
        if not home.database_path.exists():
            print(f"building {articles} articles in {home.root}", flush=True)
            build(home, articles)
        homes.append(home.root)
    return homes


def crawl(home: Path, articles: int, source: Path | None, *settings: str) -> None:
    from replica.server import ReplicaServer
    from replica.site.build import build_site

    with ReplicaServer(build_site(articles=articles, page_size=20)) as server:
        command = [sys.executable, "-m", "chalco_crawler.run", "--home", str(home)]
        command += ["--base-url", server.base_url, *FAST, *settings]
        subprocess.run(
            command, check=True, stdout=subprocess.DEVNULL, env=environment(source),
            cwd=source or ROOT,
        )  # fmt: skip


def compiled(*trees: Path) -> None:
    """Each tree's modules compiled to bytecode, as a user's install has them after its first
    run: under PYTHONDONTWRITEBYTECODE (set on the project's machines) every start-up would
    compile them again, some 35 ms of a small archive's `verify`."""
    env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    for tree in trees:
        folders = [str(tree / name) for name in ("archive", "chalco_crawler", "pipelines")]
        subprocess.run([sys.executable, "-m", "compileall", "-q", *folders], check=True, env=env)


def verify_benchmark(articles: int, before: Path, rounds: int) -> None:
    from archive.store.writer import ArchiveWriter

    work = Path(tempfile.mkdtemp(prefix="chalco-evidence-"))
    old, migrated, new = work / "before", work / "migrated", work / "now"
    print(f"crawling {articles} articles with the release before into {old}", flush=True)
    crawl(old, articles, before)
    shutil.copytree(old, migrated)
    writer = ArchiveWriter(ArchiveHome.at(migrated))  # its migrations, as the next crawl's
    writer.record_tree_head()
    writer.close()
    print(f"crawling the same {articles} articles with this release into {new}", flush=True)
    crawl(new, articles, None)
    compiled(before, ROOT)
    files = sorted((new / "warc").glob("*.warc.gz"))
    size = sum(path.stat().st_size for path in files)
    print(f"{len(files)} WARC file(s), {size / 1e6:.1f} MB", flush=True)

    def verify(home: Path, source: Path | None, *extra: str) -> Callable[[], object]:
        command = [sys.executable, "-m", "archive.cli", "verify", "--home", str(home), *extra]
        return lambda: subprocess.run(
            command, check=True, stdout=subprocess.DEVNULL, env=environment(source),
            cwd=source or ROOT,
        )  # fmt: skip

    def python(code: str) -> Callable[[], object]:
        command = [sys.executable, "-c", code]
        return lambda: subprocess.run(command, check=True, cwd=ROOT)

    candidates = {
        "zcat | sha256sum": lambda: subprocess.run(
            ["bash", "-c", 'zcat "$@" | sha256sum > /dev/null', "zcat", *map(str, files)],
            check=True,
        ),
        # The floor under any `verify` of this tree: the interpreter, then the modules a
        # `verify` of sealed files loads, imported and nothing run.
        "python -c pass": python("pass"),
        "verify's modules, imported only": python(VERIFY_MODULES),
        "verify before": verify(old, before),
        "verify now, on the release before's crawl": verify(migrated, None),
        "verify now --deep": verify(new, None, "--deep"),
        "verify now (sealed files)": verify(new, None),
    }
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in candidates}
    for round_number in range(1, rounds + 1):
        line = []
        for name, function in candidates.items():
            times[name].append(timed(function))
            wall, cpu = times[name][-1]
            line.append(f"{name} {wall:.3f} ({cpu:.3f} CPU)")
        print(f"round {round_number}: " + " · ".join(line), flush=True)
    reference = statistics.median(wall for wall, _ in times["zcat | sha256sum"])
    reference_cpu = statistics.median(cpu for _, cpu in times["zcat | sha256sum"])
    print("median wall (× zcat | sha256sum's; min–max), median CPU (× its):")
    for name, values in times.items():
        wall = statistics.median(w for w, _ in values)
        cpu = statistics.median(c for _, c in values)
        low, high = min(w for w, _ in values), max(w for w, _ in values)
        print(
            f"  {name}: {wall:.3f} s ({wall / reference:.2f}×; {low:.3f}–{high:.3f}),"
            f" CPU {cpu:.3f} s ({cpu / reference_cpu:.2f}×)"
        )


def proofs_benchmark(leaves: int, count: int) -> None:
    from sqlalchemy import create_engine

    folder = Path(tempfile.mkdtemp(prefix="chalco-tree-"))
    database = folder / "tree.sqlite3"
    connection = sqlite3.connect(database)
    connection.execute(
        "create table ledger_nodes (level integer, position integer, hash blob,"
        " primary key (level, position)) without rowid"
    )
    started = time.perf_counter()
    frontier = merkle.Frontier()
    batch: list[tuple[int, int, bytes]] = []
    for n in range(leaves):
        batch.extend(frontier.append(merkle.leaf_hash(b"capture %d %064x" % (n, n))))
        if len(batch) >= 100_000:
            connection.executemany("insert into ledger_nodes values (?, ?, ?)", batch)
            batch = []
    connection.executemany("insert into ledger_nodes values (?, ?, ?)", batch)
    connection.commit()
    connection.close()
    root = frontier.root()
    print(f"tree of {leaves:,} leaves built and stored in {time.perf_counter() - started:.1f} s")
    engine = create_engine(f"sqlite:///{database}")
    rng = random.Random(25)
    with engine.connect() as reader:
        ledger_tree.inclusion_proof(reader, 0, leaves)  # the first query's preparation
        inclusion = []
        for _ in range(count):
            index = rng.randrange(leaves)
            begun = time.perf_counter()
            path = ledger_tree.inclusion_proof(reader, index, leaves)
            inclusion.append(time.perf_counter() - begun)
            leaf = merkle.leaf_hash(b"capture %d %064x" % (index, index))
            assert merkle.verify_inclusion(leaf, index, leaves, path, root)
        consistency = []
        for _ in range(count // 10):
            first = rng.randrange(1, leaves)
            begun = time.perf_counter()
            ledger_tree.consistency_proof(reader, first, leaves)
            consistency.append(time.perf_counter() - begun)
    engine.dispose()
    for name, values in (("inclusion", inclusion), ("consistency", consistency)):
        values.sort()
        print(
            f"{name} proof at {leaves:,} leaves: median {statistics.median(values) * 1e3:.3f} ms,"
            f" 99th percentile {values[int(len(values) * 0.99)] * 1e3:.3f} ms, over {len(values)}"
        )
    shutil.rmtree(folder)


def package_benchmark(articles: int, rounds: int) -> None:
    from tests.tsa_authority import TimeStampAuthority

    work = Path(tempfile.mkdtemp(prefix="chalco-package-"))
    with TimeStampAuthority(work / "tsa") as tsa:
        home = work / "home"
        print(f"crawling {articles} articles with a local authority into {home}", flush=True)
        crawl(home, articles, None, "-s", f"TSA_URL={tsa.url}", "-s", f"TSA_CA_BUNDLE={tsa.ca_pem}")
        output = work / "all.wacz"
        cli = [sys.executable, "-m", "archive.cli"]
        wall, cpu = timed(
            lambda: subprocess.run(
                [*cli, "package", "--home", str(home), "--since", "2000-01-01", "-o", str(output)],
                check=True,
                cwd=ROOT,
            )  # fmt: skip
        )
        print(f"package: {wall:.2f} s ({cpu:.2f} CPU), {output.stat().st_size / 1e6:.1f} MB")
        command = [*cli, "check-package", str(output), "--tsa-ca", str(tsa.ca_pem)]
        for round_number in range(1, rounds + 1):
            started, cpu = time.perf_counter(), cpu_seconds()
            result = subprocess.run(command, check=True, capture_output=True, text=True, cwd=ROOT)
            wall, cpu = time.perf_counter() - started, cpu_seconds() - cpu
            print(
                f"round {round_number}: check-package {wall:.2f} s ({cpu:.2f} CPU):"
                f" {result.stdout.splitlines()[-1]}",
                flush=True,
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, help="the release before's source tree")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--ledger", type=Path, nargs="*", default=[], help="archives")
    parser.add_argument("--build", type=int, nargs="*", default=[], help="ledger archives")
    parser.add_argument("--into", type=Path, help="where --build puts them")
    parser.add_argument("--verify", type=int, help="articles of the replica for verify")
    parser.add_argument("--proofs", type=int, help="leaves of the tree for proofs")
    parser.add_argument("--package", type=int, help="articles of the replica for a package")
    args = parser.parse_args()
    homes = list(args.ledger)
    if args.build:
        homes += build_homes(args.build, args.into or Path(tempfile.mkdtemp(prefix="chalco-l-")))
    if homes:
        ledger_benchmark(homes, args.before, args.rounds)
    if args.verify:
        if args.before is None:
            parser.error("--verify needs --before (its crawl is the release before's)")
        verify_benchmark(args.verify, args.before, args.rounds)
    if args.proofs:
        proofs_benchmark(args.proofs, 1000)
    if args.package:
        package_benchmark(args.package, args.rounds)


if __name__ == "__main__":
    main()
