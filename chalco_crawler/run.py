"""Run one crawl into an archive home: progress on a terminal, a summary and an exit code.

`chalco-archive crawl` runs this module in its own process (`python -m chalco_crawler.run`),
which keeps the archive package free of Scrapy and gives every crawl a fresh reactor.
"""

from __future__ import annotations

import argparse
import json
import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from rich.console import Console
from scrapy.crawler import Crawler, CrawlerProcess
from scrapy.settings import Settings
from scrapy.utils.project import get_project_settings
from twisted.internet import task

from archive.safe_text import terminal_text
from archive.store.home import ArchiveHome
from archive.store.recovery import safe_name
from chalco_crawler.command_line import add_setting_option
from chalco_crawler.failures import exit_code_of
from chalco_crawler.first_probe import ANSWERS, is_empty, misfit_reasons, probe_settings
from chalco_crawler.fleet import default_worker_name
from chalco_crawler.probe import site_targets
from chalco_crawler.probe_spider import ProbeSpider
from chalco_crawler.profile import PROFILE_DIR_NAME, SiteProfile
from chalco_crawler.session import (
    EXIT_MISREAD,
    EXIT_STORAGE,
    EXIT_UNREACHABLE,
    EXIT_USAGE,
    FORCED_STOP_REASON,
    UNREACHABLE_REASON,
    CrawlSession,
    CrawlSummary,
)
from chalco_crawler.spiders.news import NewsSpider
from chalco_crawler.stop_signal import STOP, watch_after_scrapy

PROGRESS_SECONDS = 0.5


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="chalco-archive crawl", description=__doc__)
    parser.add_argument("--home", help="archive home directory")
    parser.add_argument(
        "--base-url",
        action="append",
        default=[],
        help="site root (default: the profile's live site); NAME=URL with several sites",
    )
    parser.add_argument(
        "--site", action="append", default=[], help="site profile name or TOML file (repeatable)"
    )
    parser.add_argument("--all-sites", action="store_true", help="every known site profile")
    parser.add_argument(
        "--sections",
        nargs="*",
        default=None,
        help="section paths, e.g. xwdt/gsyw (default: discover)",
    )
    add_setting_option(parser, "DOWNLOAD_DELAY=0")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--full", action="store_true", help="walk every list page")
    mode.add_argument(
        "--revisit", action="store_true", help="re-request archived URLs conditionally"
    )
    parser.add_argument(
        "--overlap",
        type=int,
        default=1,
        help="incremental: stop after this many list pages in a row with nothing new",
    )
    parser.add_argument(
        "--revisit-days",
        type=float,
        default=None,
        help="revisit: only articles seen or published in the last N days",
    )
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.add_argument(
        "--no-probe",
        action="store_true",
        help="a first crawl into an empty home: skip the probe that checks the profile fits",
    )
    fleet = parser.add_argument_group("distributed crawl (docs/archivists/fleet.md)")
    fleet.add_argument(
        "--workers-redis",
        metavar="URL",
        help="share the crawl with other workers through this Redis, e.g. redis://host:6379/0",
    )
    fleet.add_argument("--fleet", help="the fleet's name in Redis (default: default)")
    fleet.add_argument("--worker", help="this worker's name (default: HOSTNAME-PID)")
    return parser.parse_args(argv)


def build_settings(args: argparse.Namespace, home: ArchiveHome) -> Settings:
    settings = get_project_settings()
    settings.setmodule("chalco_crawler.settings", priority="project")
    settings.set("ARCHIVE_HOME", str(home.root), priority="cmdline")
    logs = home.root / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    # The full log goes to a file in the home; the terminal gets progress and the summary.
    # Workers of a distributed crawl may share the home (and start in the same second).
    worker = f"-{safe_name(args.worker or default_worker_name())}" if args.workers_redis else ""
    settings.set("LOG_FILE", str(logs / f"crawl-{stamp}{worker}.log"), priority="cmdline")
    settings.set("LOG_FILE_APPEND", False, priority="cmdline")
    for pair in args.settings:
        key, sep, value = pair.partition("=")
        if not sep:
            raise ValueError(f"-s takes KEY=VALUE, not {pair!r}")
        settings.set(key.strip(), value, priority="cmdline")
    redis_url = args.workers_redis or settings.get("FLEET_REDIS_URL")
    if redis_url:
        if home.is_sqlite:
            raise ValueError(
                "workers need a shared database server: give --db postgresql+psycopg://HOST/DB"
                " (SQLite takes one writer at a time)"
            )
        for key, value in (
            ("FLEET_REDIS_URL", redis_url),
            ("FLEET_NAME", args.fleet),
            ("FLEET_WORKER", args.worker),
        ):
            if value:
                settings.set(key, value, priority="cmdline")  # applied by fleet_worker.FleetAddon
    elif args.fleet or args.worker:
        raise ValueError("--fleet and --worker go with --workers-redis")
    return settings


class Progress:
    """A one-line live status on a terminal; nothing at all under cron."""

    def __init__(self, crawler: Crawler, console: Console):
        self.crawler = crawler
        self.console = console
        self.status = console.status("starting…") if console.is_terminal else None
        self.loop = task.LoopingCall(self.update)

    def start(self) -> None:
        if self.status is not None:
            self.status.start()
            self.loop.start(PROGRESS_SECONDS, now=False)

    def update(self) -> None:
        stats = self.crawler.stats
        if stats is None or self.status is None:
            return
        get = stats.get_value
        self.status.update(
            f"fetched {get('archive/captures', 0)} · articles new {get('archive/articles_new', 0)}"
            f" updated {get('archive/articles_updated', 0)}"
            f" unchanged {get('archive/articles_unchanged', 0)}"
            f" · files {get('archive/files_fetched', 0)} · failed {get('crawl/failed', 0)}"
        )

    def stop(self) -> None:
        if self.loop.running:
            self.loop.stop()
        if self.status is not None:
            self.status.stop()


def _stop_reason(close_reason: str) -> str | None:
    """Why a run ended before its walk did, in words; None when it ran to its end (or found
    the site unreachable, which the summary's failures say)."""
    if close_reason in ("", "finished", UNREACHABLE_REASON):
        return None
    return {
        "shutdown": "stopped by a signal (Ctrl-C or SIGTERM)",
        FORCED_STOP_REASON: "stopped at once by a second signal",
    }.get(close_reason, f"closed early ({close_reason})")


def print_summary(summary: CrawlSummary, console: Console, home: ArchiveHome) -> None:
    console.print(
        f"{summary.status}: {summary.mode} crawl, {summary.new} new, {summary.updated} updated, "
        f"{summary.unchanged} unchanged, {summary.gone} gone, {len(summary.failures)} failed, "
        f"dead links: {len(summary.dead_links)} ({summary.captures} responses archived, "
        f"{summary.flagged} flagged pages) in {home.root}",
        markup=False,
    )
    stopped = _stop_reason(summary.close_reason)
    if stopped:
        console.print(
            f"  {stopped} before the walk ended: the next incremental crawl walks every list"
            " page again",
            markup=False,
        )
    recovery = summary.recovery or {}
    if recovery.get("interrupted_runs") or recovery.get("closed_files"):
        console.print(
            f"  recovered from an interrupted crawl: runs {recovery['interrupted_runs']}, "
            f"closed {len(recovery['closed_files'])} WARC files, "
            f"set aside {len(recovery['set_aside'])} cut-off records"
        )
        for tail in recovery["set_aside"]:
            console.print(
                f"  set aside {tail['bytes']} bytes of {tail['file']} from offset "
                f"{tail['offset']} to {tail['to']}",
                markup=False,
            )
    if recovery.get("foreign"):
        console.print(
            f"  left alone {len(recovery['foreign'])} WARC files this database does not know"
            f" (e.g. {recovery['foreign'][0]}): another database's, if this home was copied"
            " with migrate-db (then pass --db)",
            markup=False,
        )
    if summary.fleet is not None:
        console.print(fleet_line(summary.fleet), markup=False)
    for failure in summary.failures:
        # A reason can quote the site (a redirect's Location): inert on a terminal.
        line = f"  failed {failure['url']}: {failure['reason']}"
        console.print(terminal_text(line) if console.is_terminal else line, markup=False)
    for dead in summary.dead_links:
        line = f"  dead link {dead['url']}: {dead['reason']}"
        console.print(terminal_text(line) if console.is_terminal else line, markup=False)
    for capped in summary.capped:
        line = (
            f"  capped {capped['url']}: names {capped['named']:,} files; the first"
            f" {capped['fetched']} fetched (MAX_FILES_PER_PAGE), the other"
            f" {capped['named'] - capped['fetched']:,} named but not fetched"
        )
        console.print(terminal_text(line) if console.is_terminal else line, markup=False)
    for oversize in summary.oversize:
        line = f"  oversize {oversize['url']}: {oversize['reason']}; archived as received"
        console.print(terminal_text(line) if console.is_terminal else line, markup=False)
    if summary.challenged:
        line = challenge_line(summary)
        console.print(terminal_text(line) if console.is_terminal else line, markup=False)
    if summary.misread:
        console.print(misread_line(summary), markup=False)
    for note in summary.notes:
        console.print(f"  note: {note}", markup=False)


def misread_line(summary: CrawlSummary) -> str:
    """One line for a run whose new articles were mostly misread."""
    share = summary.flagged_new / summary.new if summary.new else 0
    return (
        f"  misread: {summary.flagged_new} of {summary.new} new articles ({share:.0%}) flagged"
        " (MISREAD_SHARE): the site's template may have changed; run `chalco-archive probe`,"
        " fix the site profile, then `chalco-archive reextract` (exit 7)"
    )


def fleet_line(fleet: dict[str, Any]) -> str:
    """What a worker saw of the fleet's crawl: complete or not, and what went back to the
    queue from whom."""
    said = [
        f"  fleet {fleet['fleet']} (fleet run {fleet['fleet_run']}):"
        f" {'crawl complete' if fleet['complete'] else 'crawl unfinished'}"
    ]
    for worker, count in sorted(fleet["requeued_from"].items()):
        said.append(f"queued again {count} requests of worker {worker} (its heartbeat lapsed)")
    if fleet["returned"]:
        said.append(f"put back {fleet['returned']} requests it could not commit")
    if fleet["redis_lost"]:
        said.append("Redis restarted empty")
    if fleet["database_lost"]:
        said.append("the database went away (its lost batch fetched again)")
    if fleet["recovered"]:
        said.append(f"{fleet['recovered']} requests lost with Redis queued again from the archive")
    if fleet["carried_over"]:
        said.append(f"{fleet['carried_over']} requests left unfinished by an earlier fleet run")
    if fleet["superseded"]:
        said.append("another worker started a new crawl of the fleet while Redis was away")
    return "; ".join(said)


def challenge_line(summary: CrawlSummary) -> str:
    """One line for every challenge page of the run: how many, one example, what it means."""
    first = summary.challenges[0]
    return (
        f"  the site answered {summary.challenged} request(s) with challenge pages (anti-bot"
        f" check, captcha or login wall), e.g. {first['url']}: {first['reason']}; archived as"
        " captures only, no article stored or marked gone (exit 6)"
    )


def probe_first(
    process: CrawlerProcess,
    args: argparse.Namespace,
    targets: list[tuple[SiteProfile, str]],
    misfit: list[str],
    failures: list[BaseException],
) -> Any:
    """Run the probe's crawl on the sections the crawl will walk; `misfit` gets a line for
    each site whose profile does not fit. Its answers are kept for the crawl."""
    ANSWERS.recording = True
    # The first crawler of the process installs the reactor the settings name; the crawl's,
    # made after, finds it installed.
    probe = Crawler(ProbeSpider, probe_settings(args.settings), init_reactor=True)
    deferred = process.crawl(probe, sites=targets, sections=args.sections or None)

    def judged(_: Any) -> None:
        ANSWERS.recording = False
        if probe.spider is not None:
            misfit.extend(misfit_reasons(probe.spider))

    deferred.addCallback(judged)
    deferred.addErrback(lambda failure: failures.append(failure.value))
    return deferred


def _stop_reactor(reactor: Any) -> None:
    if reactor.running:
        reactor.stop()


def report_misfit(
    misfit: list[str], args: argparse.Namespace, console: Console, errors: Console
) -> int:
    """The first crawl stopped before archiving: say why, in one line (or the summary)."""
    reason = "; ".join(misfit)
    if args.json:
        summary = CrawlSummary(
            status="misfit", exit_code=EXIT_MISREAD, misfit=reason, close_reason="misfit"
        )
        console.print_json(json.dumps(summary.as_dict(), ensure_ascii=False))
    else:
        errors.print(
            f"Error: the site profile does not fit the site, nothing archived: {reason}."
            " Run `chalco-archive probe` to see what it misses and fix the profile, or crawl"
            " with --no-probe",
            markup=False,
        )
    return EXIT_MISREAD


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    home = ArchiveHome.at(args.home)
    # soft_wrap: one message, one line, whatever the terminal's width (cron mails, grep).
    console = Console(stderr=False, highlight=False, soft_wrap=True)
    errors = Console(stderr=True, highlight=False, soft_wrap=True)
    if args.revisit_days is not None and not args.revisit:
        errors.print("Error: --revisit-days goes with --revisit", markup=False)
        return EXIT_USAGE
    try:
        settings = build_settings(args, home)
    except ValueError as error:
        errors.print(f"Error: {error}", markup=False)
        return EXIT_USAGE
    except OSError as error:
        errors.print(
            f"Error: cannot write to the archive in {home.root}: {error.strerror}", markup=False
        )
        return EXIT_STORAGE
    # A full disk must not flood the terminal with logging's own tracebacks.
    logging.raiseExceptions = False
    try:
        process = CrawlerProcess(settings)
    except OSError as error:  # the log file cannot be created: the home is not writable
        errors.print(
            f"Error: cannot write to the archive in {home.root}: {error.strerror}", markup=False
        )
        return EXIT_STORAGE
    failures: list[BaseException] = []
    spider_args: dict[str, Any] = {
        "site": args.site or None,
        "all_sites": args.all_sites,
        "profile_dirs": [str(home.root / PROFILE_DIR_NAME)],
        "base_url": args.base_url,
        "mode": "full" if args.full else "revisit" if args.revisit else "incremental",
        "overlap": args.overlap,
        "revisit_days": args.revisit_days,
    }
    if args.sections:
        spider_args["sections"] = args.sections
    crawls: list[tuple[Crawler, Progress]] = []
    misfit: list[str] = []

    def crawl_news(_: Any = None) -> Any:
        crawler = process.create_crawler(NewsSpider)
        deferred = process.crawl(crawler, **spider_args)
        deferred.addErrback(lambda failure: failures.append(failure.value))
        progress = Progress(crawler, errors)  # after crawl(): that installs the reactor
        crawls.append((crawler, progress))
        progress.start()
        return deferred

    probing = not args.no_probe and not settings.get("FLEET_REDIS_URL") and is_empty(home)
    if probing:
        try:
            targets = site_targets(args)
        except (LookupError, ValueError) as error:
            errors.print(f"Error: {error}", markup=False)
            return EXIT_USAGE
        # The probe first (chalco_crawler/first_probe.py), then the crawl if the profile fits.
        deferred = probe_first(process, args, targets, misfit, failures)
        deferred.addCallback(lambda _: None if misfit or STOP.stopping else crawl_news())
    else:
        crawl_news()
    from twisted.internet import reactor  # installed by process.crawl, as the settings ask

    if probing:
        deferred.addBoth(lambda _: reactor.callLater(0, _stop_reactor, reactor))
    watch_after_scrapy(reactor)
    try:
        process.start(stop_after_crawl=not probing)
    finally:
        STOP.disarm()  # the reactor has stopped: writing and closing run to their end
        for _crawler, progress in crawls:
            progress.stop()
        ANSWERS.clear()
    if failures:
        return exit_code_of(failures[0], home, errors)
    if misfit:
        return report_misfit(misfit, args, console, errors)
    if not crawls:  # stopped by a signal while probing: nothing was archived
        return STOP.exit_code
    session = CrawlSession.of(crawls[0][0])
    session.finish_after_forced_stop()
    summary = session.summary
    if summary.storage_error and not args.json:
        errors.print(f"Error: {summary.storage_error}", markup=False)
        return summary.exit_code
    if summary.exit_code == EXIT_UNREACHABLE and not args.json:
        # Which URL did not answer, and where this failed run is kept (on a first crawl
        # the home was made for it: a newcomer should know where).
        failure = summary.failures[0] if summary.failures else None
        reason = failure["reason"] if failure else "site unreachable: no answer"
        where = failure["url"] if failure else ", ".join(args.base_url) or "the live site"
        errors.print(
            f"Error: {reason} ({where}); the failed run is recorded in {home.root}"
            " (see `chalco-archive runs`)",
            markup=False,
        )
        return summary.exit_code
    if args.json:
        console.print_json(json.dumps(summary.as_dict(), ensure_ascii=False))
    else:
        print_summary(summary, console, home)
    return summary.exit_code


if __name__ == "__main__":
    STOP.end_process(main())  # a run stopped by a signal ends by that signal
