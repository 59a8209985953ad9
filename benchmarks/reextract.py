"""Benchmark: `reextract` over a 2,000-article replica archive, against extraction alone.

Serves the replica grown to N articles (default 2,000), crawls it once with a wrong site
profile (the bundled chalco profile with its title selector pointing at the 来源/时间 line,
as tests/test_reextract.py does), then, each round on a fresh copy of that home:

- `fix`: reextract with the bundled profile: every page read, most get a new version;
- `again`: reextract once more: nothing written (the fix's versions are known, the rest read);
- `dry`: a dry run on a copy of the wrong archive: every page read and compared, nothing
  written (the cost of reading alone).

Each is a `python -m pipelines.reextract_run` process; its own figures (the pass's wall and
CPU time, from the summary) give pages/s, and the process's total time (start-up included)
is printed too. Side by side, in the same run, the baseline: extraction and normalization
alone over the same snapshots' bytes, already in memory (`extract_article` + `normalize`,
what no reextract can go below). Target: >= 500 pages/s on one core (CPU time).

    python benchmarks/reextract.py --articles 2000 --rounds 3
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from chalco_crawler.profile import load_profile
from pipelines.extraction import extract_article
from pipelines.normalization import normalize
from replica.server import ReplicaServer
from replica.site.build import build_site

ROOT = Path(__file__).resolve().parent.parent
BUNDLED = ROOT / "chalco_crawler" / "sites" / "chalco.toml"
RIGHT_TITLES = 'title = [".content-title",'
WRONG_TITLES = 'title = [".content-info",'
CRAWL_SETTINGS = ["DOWNLOAD_DELAY=0", "AUTOTHROTTLE_ENABLED=False"]


def crawl(home: Path, base_url: str, profile: Path) -> None:
    command = [sys.executable, "-m", "chalco_crawler.run", "--home", str(home)]
    command += ["--base-url", base_url, "--site", str(profile)]
    for setting in CRAWL_SETTINGS + ["CONCURRENT_REQUESTS=16", "CONCURRENT_REQUESTS_PER_DOMAIN=16"]:
        command += ["-s", setting]
    code = subprocess.call(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    assert code in (0, 1), f"crawl exit {code}"


def reextract(home: Path, *args: str) -> tuple[dict, float, float, int]:
    """The run's summary, its process's wall and CPU seconds, and its peak RSS in MB."""
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "pipelines.reextract_run", "--home", str(home), "--json", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    assert process.stdout is not None
    output = process.stdout.read()
    _pid, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    assert os.waitstatus_to_exitcode(status) == 0, output
    return json.loads(output), wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss // 1024


def baseline(site, base_url: str) -> tuple[int, float, float]:
    """Pages, wall and CPU seconds of extraction and normalization alone, in this process."""
    profile = load_profile("chalco")
    pages = []
    host = base_url.split("/")[2]
    for truth in site.live_articles():
        rendered = site.render(truth.url_path, host)
        assert rendered is not None
        _status, headers, body = rendered
        pages.append(
            (body, base_url + truth.url_path.lstrip("/"), dict(headers).get("Content-Type"))
        )
    started, cpu = time.perf_counter(), time.process_time()
    for body, url, content_type in pages:
        normalize(extract_article(body, url, content_type=content_type, rules=profile.extraction))
    return len(pages), time.perf_counter() - started, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--page-size", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="chalco-reextract-"))
    wrong = work / "wrong.toml"
    wrong.write_text(BUNDLED.read_text("utf-8").replace(RIGHT_TITLES, WRONG_TITLES), "utf-8")
    site = build_site(articles=args.articles, page_size=args.page_size)
    wrong_home = work / "wrong-home"
    with ReplicaServer(site) as server:
        started = time.perf_counter()
        crawl(wrong_home, server.base_url, wrong)
        base_url = server.base_url
        print(
            f"replica: {len(site.live_articles())} live articles, crawled with the wrong profile"
            f" in {time.perf_counter() - started:.1f} s"
        )
    figures: dict[str, list[float]] = {"fix": [], "again": [], "dry": [], "baseline": []}
    for round_number in range(1, args.rounds + 1):
        home = work / f"home-{round_number}"
        shutil.copytree(wrong_home, home)
        print(f"round {round_number}:")
        for name, extra in (("fix", ()), ("again", ()), ("dry", ("--dry-run",))):
            target = home
            if name == "dry":
                target = work / f"dry-{round_number}"
                shutil.copytree(wrong_home, target)
            summary, wall, cpu, rss = reextract(target, *extra)
            rate = summary["considered"] / summary["cpu_seconds"]
            figures[name].append(rate)
            print(
                f"  {name:5}: {summary['considered']} pages, {summary['read']} read,"
                f" {summary['written']} written · pass {summary['seconds']:.2f} s wall,"
                f" {summary['cpu_seconds']:.2f} s CPU = {rate:.0f} pages/s on one core"
                f" ({summary['considered'] / summary['seconds']:.0f}/s wall) · process"
                f" {wall:.2f} s wall, {cpu:.2f} s CPU, {rss} MB peak",
                flush=True,
            )
        pages, wall, cpu = baseline(site, base_url)
        figures["baseline"].append(pages / cpu)
        print(
            f"  baseline (extraction + normalization alone, in memory): {pages} pages,"
            f" {wall:.2f} s wall, {cpu:.2f} s CPU = {pages / cpu:.0f} pages/s"
        )
    medians = {name: statistics.median(values) for name, values in figures.items()}
    print(
        "median pages/s on one core (CPU time): "
        + ", ".join(f"{name} {value:.0f}" for name, value in medians.items())
        + f"; fix / baseline {medians['fix'] / medians['baseline']:.2f} (target: fix >= 500)"
    )
    print(
        f"(this process's peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024} MB)"
    )
    shutil.rmtree(work)


if __name__ == "__main__":
    main()
