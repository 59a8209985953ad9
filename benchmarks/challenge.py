"""Benchmark: what challenge-page detection adds to each page a crawl reads.

Renders every article and list page of the replica grown to N articles, then times
`detect_challenge` over all of them beside `extract_article` (the baseline: the work the
crawl does on an article page anyway), and detection over the replica's challenge pages.
Prints microseconds per page; rounds alternate to spread the machine's noise.

    python benchmarks/challenge.py --articles 2000 --rounds 3
"""

from __future__ import annotations

import argparse
import statistics
import time

from chalco_crawler.challenge import detect_challenge
from pipelines.extraction import extract_article
from replica.faults import challenges
from replica.site.build import build_site

HOST = "127.0.0.1:8000"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    site = build_site(args.articles)
    paths = [a.url_path for a in site.live_articles()]
    articles = [(path, *site.render(path, HOST)) for path in paths]
    lists = [
        (path, *site.render(path, HOST))
        for section in site.sections
        for path in site.list_paths(section)
    ]
    walls = (
        [(412, challenges.script_only_page(str(i))) for i in range(100)]
        + [(200, challenges.captcha_page(str(i))) for i in range(100)]
        + [(200, challenges.login_page()) for _ in range(100)]
    )
    pages = articles + lists
    figures: dict[str, list[float]] = {"detect": [], "extract": [], "walls": []}
    for _ in range(args.rounds):
        start = time.perf_counter()
        for _path, status, headers, body in pages:
            detect_challenge(status, headers["Content-Type"], body)
        figures["detect"].append((time.perf_counter() - start) / len(pages))
        start = time.perf_counter()
        for path, _status, headers, body in articles:
            extract_article(body, f"http://{HOST}{path}", content_type=headers["Content-Type"])
        figures["extract"].append((time.perf_counter() - start) / len(articles))
        start = time.perf_counter()
        for status, body in walls:
            assert detect_challenge(status, "text/html; charset=utf-8", body) is not None
        figures["walls"].append((time.perf_counter() - start) / len(walls))
    detect, extract = statistics.median(figures["detect"]), statistics.median(figures["extract"])
    print(f"{len(articles)} article pages, {len(lists)} list pages, {len(walls)} challenge pages")
    for name, values in figures.items():
        rounds = ", ".join(f"{v * 1e6:.0f}" for v in values)
        print(f"{name:8} median {statistics.median(values) * 1e6:7.1f} us/page  ({rounds})")
    print(f"detection / extraction: {detect / extract:.1%}")


if __name__ == "__main__":
    main()
