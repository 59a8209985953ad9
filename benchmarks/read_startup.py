"""Benchmark: wall time of each read verb's work in a fresh interpreter on a small archive
(issue 16: at most 0.3 s), below the CLI and through it.

Builds the small archive of tests/small_archive.py unless --home names one, then runs, for
each verb, `python -c` opening the reader and calling the verb's read functions, and the
`chalco-archive` command itself; medians of --rounds. With --before DIR (a `git archive` of
an earlier release, whose read functions took a SQLAlchemy session from archive.read.queries)
the same work runs from that tree too, alternating.

    python benchmarks/read_startup.py --rounds 7 --before /tmp/before
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

EDITED = "http://h/xwdt/gsyw/202602/t20260205_1.html"
REMOVED = "http://h/xwdt/gsyw/202602/t20260205_2.html"
WORK = {
    "runs": "list_runs(r)",
    "stats": "section_month_counts(r)",
    "show": f"get_article(r, {EDITED!r}); same_story(r, {EDITED!r})",
    "versions": f"version_history(r, {EDITED!r})",
    "diff": f"diff_versions(r, {EDITED!r}, None, None)",
    "captures": f"captures(r, {REMOVED!r})",
    "snapshot": f"get_snapshot(r, home, {EDITED!r})",
    "search": "search(r, '第二段')",
}
CLI = {
    "runs": ["runs"],
    "stats": ["stats"],
    "show": ["show", EDITED],
    "versions": ["versions", EDITED],
    "diff": ["diff", EDITED],
    "captures": ["captures", REMOVED],
    "snapshot": ["snapshot", EDITED],
    "search": ["search", "第二段"],
}
NOW_IMPORTS = """\
from archive.read.articles import get_article
from archive.read.captures import captures, get_snapshot
from archive.read.runs import list_runs
from archive.read.search import search
from archive.read.sql import open_sql_reader
from archive.read.stats import section_month_counts
from archive.read.versions import diff_versions, same_story, version_history
"""
BEFORE_IMPORTS = """\
from archive.read.queries import (captures, diff_versions, get_article, get_snapshot,
    list_runs, same_story, section_month_counts, version_history)
from archive.read.search import search
from archive.store.db import open_reader, session_factory
"""


def code(verb: str, home: Path, before: bool) -> str:
    """Every read verb's imports (as the CLI has them), then this verb's work."""
    opening = "r = session_factory(open_reader(home))()" if before else "r = open_sql_reader(home)"
    imports = BEFORE_IMPORTS if before else NOW_IMPORTS
    return (
        f"{imports}from archive.store.home import ArchiveHome\n"
        f"home = ArchiveHome.at({str(home)!r})\n{opening}\n{WORK[verb]}\n"
    )


def wall(command: list[str], tree: Path) -> float:
    # Bytecode is cached in both trees (the first round writes it), as an installed release's.
    environment = dict(os.environ, PYTHONPATH=str(tree))
    started = time.perf_counter()
    subprocess.run(
        command, check=True, cwd=tempfile.gettempdir(), env=environment, stdout=subprocess.DEVNULL
    )
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, help="the small archive (built when missing)")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--before", type=Path, help="tree of the release to compare with")
    args = parser.parse_args()
    home = args.home or Path(tempfile.mkdtemp()) / "home"
    if not (home / "archive.sqlite3").exists():
        from tests.small_archive import build_small_archive

        build_small_archive(home)
    trees = [("now", ROOT)] + ([("before", args.before.resolve())] if args.before else [])
    times: dict[tuple[str, str, str], list[float]] = {}
    for _ in range(args.rounds):
        for verb in WORK:
            for label, tree in trees:
                read = [sys.executable, "-c", code(verb, home, label == "before")]
                command = [sys.executable, "-m", "archive.cli", *CLI[verb], "--home", str(home)]
                times.setdefault((verb, label, "read"), []).append(wall(read, tree))
                times.setdefault((verb, label, "cli"), []).append(wall(command, tree))
    python = statistics.median(wall([sys.executable, "-c", "pass"], ROOT) for _ in range(5))
    print(f"python -c pass: {python * 1000:.0f} ms; medians of {args.rounds} rounds, ms")
    header = "verb      " + "".join(
        f"{label + ' ' + kind:>14}" for label, _ in trees for kind in ("read", "cli")
    )
    print(header)
    for verb in WORK:
        cells = "".join(
            f"{statistics.median(times[(verb, label, kind)]) * 1000:14.0f}"
            for label, _ in trees
            for kind in ("read", "cli")
        )
        print(f"{verb:10}{cells}")


if __name__ == "__main__":
    main()
