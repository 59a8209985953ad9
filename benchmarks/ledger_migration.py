"""Benchmark: migration 0012 (the ledger entering each article, archived file and version's
list of files) on a large archive made before it, and the ledger check of `verify` after.

Builds N articles (default 100,000) with benchmarks/search.py's generator unless --home
names an archive already built, turns its ledger back into what the release before 0012
wrote (the same entries without the new kinds, chained again; schema at 0011), then runs
the upgrade in a child process (as the next crawl would) and prints its wall time and peak
RSS, then the time of `verify`, which checks every ledger entry against its row.

    python benchmarks/ledger_migration.py --articles 100000
"""

from __future__ import annotations

import argparse
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from archive.evidence.verify import verify
from archive.store.db import open_reader, session_factory
from archive.store.home import ArchiveHome
from archive.store.ledger import GENESIS, chain

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from search import build  # noqa: E402  (the search benchmark's generator)

NEW_KINDS = ("article", "file", "named_files")
UPGRADE = (
    "from archive.store.db import open_writer; from archive.store.home import ArchiveHome; "
    "import sys; open_writer(ArchiveHome.at(sys.argv[1])).dispose()"
)


def as_before_0012(database: Path) -> int:
    """The ledger without the kinds 0012 adds, chained again; the entries left."""
    connection = sqlite3.connect(database)
    marks = ", ".join("?" for _ in NEW_KINDS)
    connection.execute(f"delete from ledger where kind in ({marks})", NEW_KINDS)
    head = GENESIS
    rows = connection.execute("select id, digest from ledger order by id").fetchall()
    updates = []
    for entry_id, digest in rows:
        head = chain(head, digest)
        updates.append((head, entry_id))
    connection.executemany("update ledger set entry_hash = ? where id = ?", updates)
    connection.execute("update alembic_version set version_num = '0011'")
    connection.commit()
    connection.close()
    return len(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--home", type=Path, help="an archive built by an earlier run")
    args = parser.parse_args()
    if args.home:
        home = ArchiveHome.at(args.home)
    else:
        home = ArchiveHome.at(Path(tempfile.mkdtemp(prefix="chalco-ledger-")) / "home")
        print(f"building {args.articles} articles in {home.root}", flush=True)
        wall, _ = build(home, args.articles)
        print(f"built in {wall:.0f} s", flush=True)
    kept = as_before_0012(home.database_path)
    print(f"ledger as before 0012: {kept} entries")

    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", UPGRADE, str(home.root)], check=True)
    upgrade = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    added = dict(
        sqlite3.connect(home.database_path).execute(
            "select kind, count(*) from ledger group by kind"
        )
    )
    print(f"migration 0012: {upgrade:.1f} s, peak RSS {peak_mb:.0f} MB, ledger now {added}")

    engine = open_reader(home)
    started = time.perf_counter()
    with session_factory(engine)() as session:
        report = verify(session, home)  # the archive's one WARC record aside: the database
    checked = time.perf_counter() - started
    engine.dispose()
    print(
        f"verify: {checked:.1f} s for {report.ledger_entries} ledger entries,"
        f" {len(report.problems)} problem(s), peak RSS of this process"
        f" {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB"
    )
    if report.problems:
        sys.exit(1)


if __name__ == "__main__":
    main()
