"""Benchmark: peak memory of the crawl and of the read commands on an archive of bombs.

The fault replica (`replica/faults/`) serves a page, an attachment and an image that are
decompression bombs in each of gzip, deflate, br and zstd (12 in all), besides its other
hostile cases. It is crawled twice into fresh homes with the default size limits
(DOWNLOAD_MAXSIZE 32 MiB, ATTACHMENT_MAXSIZE 512 MiB): once with bombs of --bomb-mib
(1,536 MiB decoded by default), and once, as the baseline, with the same site and paths
but every "bomb" 1 KiB decoded, an ordinary small response. On each home it then runs
`verify`, `snapshot` (of the gzip page bomb's URL), `package` (every version) and `show`
(the gzip file bombs' article), each in its own process, and prints every process's peak
RSS (`wait4`) and wall time, the bomb archive beside the baseline.

    python benchmarks/bombs.py --bomb-mib 1536 --rounds 1
    python benchmarks/bombs.py --code /tmp/before   # the crawl and commands of another tree
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from replica.faults import FaultServer

MiB = 1024 * 1024
SETTINGS = [
    "DOWNLOAD_DELAY=0",
    "AUTOTHROTTLE_ENABLED=False",
    "RETRY_TIMES=1",
    "RETRY_BACKOFF_BASE=0.05",
    "DOWNLOAD_TIMEOUT=3",
    "MAX_LIST_PAGES=20",
    "RETRY_AFTER_MAX=5",
]


CODE: str | None = None
"""A source tree whose crawler and commands run instead of this one's (--code)."""


def measured(command: list[str]) -> tuple[int, float, float]:
    """Exit code, peak RSS in MB and wall seconds of one process."""
    env = dict(os.environ)
    if CODE:
        env["PYTHONPATH"] = CODE
    started = time.perf_counter()
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=CODE
    )
    _pid, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    return process.returncode, usage.ru_maxrss / 1024, time.perf_counter() - started


def cli(home: Path, *args: str) -> list[str]:
    code = "from archive.cli import main; main()"
    return [sys.executable, "-c", code, *args, "--home", str(home)]


def run_all(bomb_size: int, work: Path) -> dict[str, tuple[int, float, float]]:
    """Crawl the fault replica with bombs of `bomb_size`, then read the archive."""
    home = work / f"home-{bomb_size}"
    results: dict[str, tuple[int, float, float]] = {}
    server = FaultServer(bomb_size=bomb_size, huge_size=12 * MiB, slow_seconds=5, crawl_delay=None)
    with server:
        for kind in ("page", "attachment", "image"):  # built before the clock starts
            for coding in ("gzip", "deflate", "br", "zstd"):
                server.bomb_bytes(coding, kind)
        crawl = [sys.executable, "-m", "chalco_crawler.run", "--home", str(home)]
        crawl += ["--base-url", server.base_url]
        for setting in SETTINGS:
            crawl += ["-s", setting]
        results["crawl"] = measured(crawl)
        page = server.base_url + server.cases["page_bomb_gzip"].path.lstrip("/")
        article = server.base_url + server.cases["file_bombs_gzip"].path.lstrip("/")
    results["verify"] = measured(cli(home, "verify"))
    results["snapshot"] = measured(cli(home, "snapshot", page, "-o", os.devnull))
    package = work / f"all-{bomb_size}.wacz"
    results["package"] = measured(cli(home, "package", "--since", "2000-01-01", "-o", str(package)))
    results["show"] = measured(cli(home, "show", article))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bomb-mib", type=int, default=1536)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--code", help="run the crawl and commands of this source tree")
    args = parser.parse_args()
    global CODE
    CODE = args.code
    for round_number in range(1, args.rounds + 1):
        with tempfile.TemporaryDirectory(prefix="chalco-bombs-") as work:
            bombs = run_all(args.bomb_mib * MiB, Path(work))
            baseline = run_all(1024, Path(work))
        print(f"round {round_number}: bombs of {args.bomb_mib} MiB decoded, baseline 1 KiB")
        print(f"{'verb':10} {'bombs: exit, peak RSS, time':>32} {'baseline: exit, peak, time':>32}")
        for verb, (code, peak, seconds) in bombs.items():
            base_code, base_peak, base_seconds = baseline[verb]
            print(
                f"{verb:10} {code:>8} {peak:9.0f} MB {seconds:7.1f} s"
                f" {base_code:>8} {base_peak:9.0f} MB {base_seconds:7.1f} s"
            )


if __name__ == "__main__":
    main()
