"""Benchmark: how long `chalco-archive` takes to answer, start-up included, against a baseline.

Crawls the replica into a fresh home, moves the site on a day (one article edited, so it has
two versions) and crawls it again: a small archive. Then runs, each in a fresh process,
`python -m archive.cli --version`, `--help` and the read verbs (search, show, stats, runs,
versions, captures, snapshot, diff) on it, and prints the median wall time of each over N
rounds. With --baseline DIR (a checkout of older code, e.g. `git worktree add
/tmp/startup-baseline 6e6cc0a`) every command also runs with that checkout's `archive`,
alternating with this one's in each round, and the table shows both side by side.

Both sides run with PYTHONPATH set to their checkout and the working directory elsewhere, so
each imports its own `archive`; the archive is built with this checkout's crawler (the
schema is the same on both sides: start-up is what differs).

    python benchmarks/startup.py --rounds 9 --baseline /tmp/startup-baseline
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

from replica.server import ReplicaServer
from replica.site.build import build_site

CHECKOUT = Path(__file__).resolve().parent.parent
SETTINGS = ["DOWNLOAD_DELAY=0", "AUTOTHROTTLE_ENABLED=False"]


def crawl(home: Path, base_url: str) -> None:
    command = [sys.executable, "-m", "chalco_crawler.run", "--home", str(home)]
    command += ["--base-url", base_url]
    for setting in SETTINGS:
        command += ["-s", setting]
    code = subprocess.call(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if code not in (0, 1):  # 1: the replica's deliberate 404
        sys.exit(f"the crawl of the replica exited {code}")


def build_archive(home: Path) -> str:
    """A crawled replica with one article in two versions; that article's URL."""
    site = build_site()
    with ReplicaServer(site) as server:
        crawl(home, server.base_url)
        later = site.advance()
        if later.edited is None:
            sys.exit("the replica's later state edits no article")
        crawl(home, server.base_url)
        return server.base_url + later.edited.lstrip("/")


def commands(home: Path, url: str) -> dict[str, list[str]]:
    at_home = ["--home", str(home)]
    return {
        "--version": ["--version"],
        "--help": ["--help"],
        "search": ["search", "中铝", *at_home],
        "show": ["show", url, *at_home],
        "stats": ["stats", *at_home],
        "runs": ["runs", *at_home],
        "versions": ["versions", url, *at_home],
        "captures": ["captures", url, *at_home],
        "snapshot": ["snapshot", url, *at_home],
        "diff": ["diff", url, *at_home],
    }


def environment(checkout: Path) -> dict[str, str]:
    env = dict(os.environ, PYTHONPATH=str(checkout))
    env.pop("CHALCO_ARCHIVE_DB", None)  # the home's own SQLite file on both sides
    return env


def imported_from(checkout: Path, cwd: Path) -> str:
    """Where `archive` comes from with this checkout on the path (a check on the setup)."""
    return subprocess.run(
        [sys.executable, "-c", "import archive; print(archive.__file__)"],
        env=environment(checkout),
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


def timed(arguments: list[str], checkout: Path, cwd: Path) -> float:
    started = time.perf_counter()
    completed = subprocess.run(
        [sys.executable, "-m", "archive.cli", *arguments],
        env=environment(checkout),
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    seconds = time.perf_counter() - started
    if completed.returncode != 0:
        error = completed.stderr.decode("utf-8", "replace").strip()
        verb = " ".join(arguments[:2])
        sys.exit(f"{verb} with {checkout} exited {completed.returncode}: {error}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7, help="runs of each command per side")
    parser.add_argument("--baseline", type=Path, help="a checkout of the code to compare with")
    args = parser.parse_args()
    sides = {"this": CHECKOUT}
    if args.baseline is not None:
        sides["baseline"] = args.baseline.resolve()
    work = Path(tempfile.mkdtemp(prefix="chalco-startup-"))
    for name, checkout in sides.items():
        where = imported_from(checkout, work)
        if not where.startswith(str(checkout)):
            sys.exit(f"{name}: archive comes from {where}, not from {checkout}")
        print(f"{name}: {where}")
    started = time.perf_counter()
    url = build_archive(work / "home")
    print(f"archive built in {time.perf_counter() - started:.1f} s; URL verbs on {url}")

    runs = commands(work / "home", url)
    seconds: dict[tuple[str, str], list[float]] = {}
    order = list(sides.items())
    for round_number in range(args.rounds):
        # Alternate which side goes first, so a drift in the machine's speed hits both.
        for command, arguments in runs.items():
            for name, checkout in order if round_number % 2 == 0 else order[::-1]:
                seconds.setdefault((command, name), []).append(timed(arguments, checkout, work))

    print(f"\nmedian wall seconds of {args.rounds} rounds, start-up included")
    header = f"{'command':<12}" + "".join(f"{name:>10}" for name in sides)
    print(header + ("    saved" if len(sides) > 1 else ""))
    for command in runs:
        medians = [statistics.median(seconds[(command, name)]) for name in sides]
        line = f"{command:<12}" + "".join(f"{median:>10.3f}" for median in medians)
        if len(medians) > 1:
            line += f"  {medians[1] - medians[0]:>7.3f}"
        print(line)


if __name__ == "__main__":
    main()
