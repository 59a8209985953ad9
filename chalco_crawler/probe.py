"""`chalco-archive probe`: a polite dry run against a site before (or after) a crawl.

It fetches the home page and navigation, the first list page of each news section and one
or two articles per section (robots.txt honoured, the crawl's delays, at most
PROBE_MAX_REQUESTS requests a site, nothing written to any archive), reads them with the
site profile, and says per section and per field what the profile found and how, and what
it did not foresee. Exit 0: the profile fits; 1: something did not; 4: usage error; 5: the
site cannot be reached.

`chalco-archive probe` runs this module in its own process, as `crawl` runs
chalco_crawler.run: the archive package stays free of Scrapy.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from rich.console import Console
from scrapy.crawler import Crawler, CrawlerProcess
from scrapy.settings import Settings
from scrapy.utils.project import get_project_settings
from twisted.internet import task

from archive.store.home import ArchiveHome
from chalco_crawler.command_line import add_setting_option
from chalco_crawler.probe_report import EXIT_USAGE, as_json, exit_code, judge, text_lines
from chalco_crawler.probe_spider import MAX_REQUESTS, ProbeSpider, SiteProbe
from chalco_crawler.profile import PROFILE_DIR_NAME, SiteProfile, load_profile
from chalco_crawler.spiders.news.sites import base_urls, site_names

PROGRESS_SECONDS = 0.5
# The crawl's own politeness (robots.txt, delays, AutoThrottle, Crawl-delay, the host
# filter) with nothing archived: no WARC middleware, no pipelines, no fleet.
PROBE_SETTINGS = {
    "ITEM_PIPELINES": {},
    "ADDONS": {},
    "EXTENSIONS": {},
    "LOG_ENABLED": False,
    # A probe asks once: a page that fails is reported, not fetched four times.
    "RETRY_TIMES": 1,
    "PROBE_MAX_REQUESTS": MAX_REQUESTS,
    # No archive to spool beside: a probe reads a page from memory (it reads a few).
    "DOWNLOAD_SPOOL_SIZE": 0,
}


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="chalco-archive probe", description=__doc__)
    parser.add_argument("--home", help="archive home: its sites/*.toml profiles are known too")
    parser.add_argument(
        "--site", action="append", default=[], help="site profile name or TOML file (repeatable)"
    )
    parser.add_argument("--all-sites", action="store_true", help="every known site profile")
    parser.add_argument(
        "--base-url",
        action="append",
        default=[],
        help="site root (default: the profile's live site); NAME=URL with several sites",
    )
    parser.add_argument("--format", choices=("text", "json"), default="text")
    add_setting_option(parser, "DOWNLOAD_DELAY=2")
    return parser.parse_args(argv)


def build_settings(pairs: Sequence[str]) -> Settings:
    settings = get_project_settings()
    settings.setmodule("chalco_crawler.settings", priority="project")
    for key, value in PROBE_SETTINGS.items():
        settings.set(key, value, priority="cmdline")
    middlewares = dict(settings.getdict("DOWNLOADER_MIDDLEWARES"))
    middlewares["chalco_crawler.middlewares.WarcCaptureMiddleware"] = None
    middlewares["chalco_crawler.probe_spider.ProbeBudgetMiddleware"] = 960
    settings.set("DOWNLOADER_MIDDLEWARES", middlewares, priority="cmdline")
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise ValueError(f"-s takes KEY=VALUE, not {pair!r}")
        settings.set(key.strip(), value, priority="cmdline")
    return settings


def site_targets(args: argparse.Namespace) -> list[tuple[SiteProfile, str]]:
    profile_dirs = [str(ArchiveHome.at(args.home).root / PROFILE_DIR_NAME)]
    names = site_names(args.site or None, args.all_sites, profile_dirs)
    urls = base_urls(args.base_url, names)
    targets = []
    for name in names:
        profile = load_profile(name, profile_dirs)
        targets.append((profile, urls.get(name) or profile.base_url))
    return targets


class Progress:
    """A live line on a terminal's stderr; nothing under cron."""

    def __init__(self, crawler: Crawler, console: Console):
        self.crawler = crawler
        self.status = console.status("probing…") if console.is_terminal else None
        self.loop = task.LoopingCall(self.update)

    def start(self) -> None:
        if self.status is not None:
            self.status.start()
            self.loop.start(PROGRESS_SECONDS, now=False)

    def update(self) -> None:
        spider = self.crawler.spider
        if self.status is None or not isinstance(spider, ProbeSpider):
            return
        self.status.update(
            "probing "
            + ", ".join(f"{p.name}: {p.requests} requests" for p in spider.probes.values())
        )

    def stop(self) -> None:
        if self.loop.running:
            self.loop.stop()
        if self.status is not None:
            self.status.stop()


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    console = Console(highlight=False, soft_wrap=True)
    errors = Console(stderr=True, highlight=False, soft_wrap=True)
    try:
        targets = site_targets(args)
        settings = build_settings(args.settings)
    except (LookupError, ValueError) as error:
        errors.print(f"Error: {error}", markup=False)
        return EXIT_USAGE
    process = CrawlerProcess(settings)
    crawler = process.create_crawler(ProbeSpider)
    failures: list[BaseException] = []
    process.crawl(crawler, sites=targets).addErrback(lambda f: failures.append(f.value))
    progress = Progress(crawler, errors)
    progress.start()
    try:
        process.start()
    finally:
        progress.stop()
    if failures:
        errors.print(f"Error: {failures[0]}", markup=False)
        return EXIT_USAGE
    spider = crawler.spider
    assert isinstance(spider, ProbeSpider)
    probes: list[SiteProbe] = list(spider.probes.values())
    flags = {p.name: judge(p, spider.profiles[p.name]) for p in probes}
    if args.format == "json":
        print(json.dumps(as_json(probes, flags), ensure_ascii=False, indent=2))
    else:
        for index, probe in enumerate(probes):
            if index:
                console.print("")
            for line in text_lines(probe, flags[probe.name]):
                console.print(line, markup=False)
    return exit_code(probes, flags)


if __name__ == "__main__":
    sys.exit(main())
