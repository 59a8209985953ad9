"""Run one repair of an archive home: audit it, fetch again every capture whose WARC record is
missing or damaged, put each loss on record with its replacement; a summary and an exit code.

`chalco-archive repair` runs this module in its own process (`python -m chalco_crawler.repair`),
as `crawl` runs chalco_crawler.run: the archive package never imports the crawler.
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Sequence
from contextlib import nullcontext
from typing import Any

from rich.console import Console
from scrapy.crawler import CrawlerProcess

from archive.safe_text import terminal_text
from archive.store.home import ArchiveHome
from chalco_crawler.command_line import add_setting_option
from chalco_crawler.failures import exit_code_of
from chalco_crawler.run import build_settings
from chalco_crawler.session import (
    EXIT_OK,
    EXIT_PARTIAL,
    EXIT_STORAGE,
    EXIT_USAGE,
    CrawlSession,
)
from chalco_crawler.spiders.repair import RepairSpider
from chalco_crawler.stop_signal import STOP, watch_after_scrapy


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="chalco-archive repair", description=__doc__)
    parser.add_argument("--home", help="archive home directory")
    add_setting_option(parser, "DOWNLOAD_DELAY=2")
    arguments = parser.parse_args(argv)
    # What build_settings reads of a crawl's arguments: a repair is never a fleet's.
    arguments.workers_redis = arguments.fleet = arguments.worker = None
    return arguments


def _say(console: Console, line: str) -> None:
    # A URL and what verify found quote the archive: inert on a terminal.
    console.print(terminal_text(line) if console.is_terminal else line, markup=False)


def print_summary(spider: RepairSpider, console: Console, status: str) -> None:
    plan = spider.plan
    outcome = spider.outcome
    if plan is None:
        return
    console.print(
        f"{status}: repair, {len(outcome.replaced)} of {plan.captures} damaged capture(s)"
        f" replaced, {len(outcome.refused)} not repaired ({len(plan.targets)} URL(s) fetched"
        f" again), {len(plan.other_problems)} other problem(s)",
        markup=False,
    )
    for url, lost, capture_id in outcome.replaced:
        _say(console, f"  replaced capture {lost.capture_id} by capture {capture_id}: {url}")
    for url, lost, reason in outcome.refused:
        _say(console, f"  not repaired: capture {lost.capture_id}, {url}: {reason}")
    for problem in plan.other_problems:
        _say(console, f"  not for repair: {problem.line()}")


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    home = ArchiveHome.at(args.home)
    console = Console(stderr=False, highlight=False, soft_wrap=True)
    errors = Console(stderr=True, highlight=False, soft_wrap=True)
    try:
        settings = build_settings(args, home)
    except ValueError as error:
        errors.print(f"Error: {error}", markup=False)
        return EXIT_USAGE
    except OSError as error:
        errors.print(f"Error: cannot write to the archive in {home.root}: {error}", markup=False)
        return EXIT_STORAGE
    settings.set("LOG_FILE", settings.get("LOG_FILE").replace("crawl-", "repair-"), "cmdline")
    logging.raiseExceptions = False  # a full disk must not flood the terminal
    process = CrawlerProcess(settings)
    crawler = process.create_crawler(RepairSpider)
    failures: list[BaseException] = []
    # The audit's bars on a terminal (stderr), as `verify` shows them; nothing under cron.
    progress: Any = nullcontext(None)
    if errors.is_terminal:
        from archive.evidence.verify_progress import TerminalProgress

        progress = TerminalProgress(errors)
    with progress as bars:
        deferred = process.crawl(crawler, progress=bars)
        deferred.addErrback(lambda failure: failures.append(failure.value))
        from twisted.internet import reactor  # installed by process.crawl

        watch_after_scrapy(reactor)
        process.start()
    if failures:
        return exit_code_of(failures[0], home, errors)
    session = CrawlSession.of(crawler)
    session.finish_after_forced_stop()
    summary = session.summary
    if summary.storage_error:
        errors.print(f"Error: {summary.storage_error}", markup=False)
        return summary.exit_code
    spider = crawler.spider
    assert isinstance(spider, RepairSpider)
    exit_code = summary.exit_code
    if exit_code == EXIT_OK and spider.plan is not None and spider.plan.other_problems:
        exit_code = EXIT_PARTIAL  # verify still fails: say so to cron as well
    print_summary(spider, console, "ok" if exit_code == EXIT_OK else summary.status)
    return exit_code


if __name__ == "__main__":
    STOP.end_process(main())  # a run stopped by a signal ends by that signal
