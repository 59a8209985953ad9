"""Per-crawl state shared by the WARC middleware and the pipelines: the archive writer,
the failures seen, and the run's summary written when the spider closes."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any
from weakref import WeakKeyDictionary

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.utils.defer import deferred_from_coro
from sqlalchemy.exc import OperationalError

from archive.errors import DatabaseUnreachable, StorageFailed, one_line
from archive.evidence.timestamps import TsaConfig, stamp_newest_head
from archive.store.home import ArchiveHome
from archive.store.writer import ArchiveWriter
from chalco_crawler import signals as project_signals
from chalco_crawler.fleet import FIRST_BACKOFF, MAX_BACKOFF, Fleet
from chalco_crawler.fleet_frontier import FleetReport
from chalco_crawler.stop_signal import STOP

logger = logging.getLogger(__name__)

# Exit codes, documented in the README for monitoring.
EXIT_OK = 0
EXIT_PARTIAL = 1
EXIT_UNREACHABLE = 2
EXIT_LOCKED = 3
EXIT_USAGE = 4
EXIT_STORAGE = 5
EXIT_CHALLENGED = 6
"""The site answered with challenge pages (anti-bot checks, captchas, login walls)."""
EXIT_MISREAD = 7
"""The site profile misreads the site: too many new articles were flagged (MISREAD_SHARE),
or a first crawl's probe found the profile does not fit (nothing was archived then)."""

# close reasons of the spider that mean the site never answered
UNREACHABLE_REASON = "site_unreachable"
STORAGE_REASON = "storage_failed"
FORCED_STOP_REASON = "shutdown_forced"
# Scrapy's close reason after a SIGINT or SIGTERM (engine.stop).
SIGNAL_STOP_REASONS = ("shutdown", FORCED_STOP_REASON)
# A worker of a fleet gave up: Redis unreachable for FLEET_RETRY_SECONDS (exit 5, storage),
# or another worker started a new crawl of the fleet meanwhile (its run ends partial).
FLEET_UNREACHABLE_REASON = "fleet_unreachable"
FLEET_SUPERSEDED_REASON = "fleet_superseded"
# What a run counts as it writes: a fleet worker that loses its batch with the database's
# connection goes back to the counts of the last commit.
OUTCOMES = ("new", "updated", "unchanged", "gone")
COUNTED_STATS = ("archive/captures", "archive/files_fetched", "extraction/flagged")
# Challenge pages kept in the run's record by URL; the count goes on past it.
MAX_CHALLENGES_KEPT = 100


# IgnoreRequest messages that are policy, not failure: robots.txt and the host filter.
POLICY_REFUSALS = ("Forbidden by robots.txt", "Filtered offsite request")


def is_policy_refusal(error: BaseException) -> bool:
    return str(error).startswith(POLICY_REFUSALS)


@dataclass
class CrawlSummary:
    """What a run did; printed at the end and stored with the run."""

    new: int = 0
    updated: int = 0
    unchanged: int = 0
    gone: int = 0
    failures: list[dict[str, str]] = field(default_factory=list)
    """What a rerun may fix (5xx after retries, timeouts, refused connections, truncated
    bodies): the run is partial."""
    dead_links: list[dict[str, str]] = field(default_factory=list)
    """Links that answered 404 or 410 and are no archived article now gone: a finished fact,
    archived as answered; the run is partial for them only with DEAD_LINKS_FAIL."""
    oversize: list[dict[str, str]] = field(default_factory=list)
    """Responses whose payload decodes past the size limit: archived as they came, flagged
    `oversize`, not read."""
    captures: int = 0
    files: int = 0
    flagged: int = 0
    close_reason: str = ""
    mode: str = ""
    storage_error: str | None = None
    recovery: dict[str, Any] | None = None
    status: str = "running"
    exit_code: int = EXIT_OK
    challenged: int = 0
    """Responses that were challenge pages: archived as captures, never as articles."""
    challenges: list[dict[str, Any]] = field(default_factory=list)
    """The first MAX_CHALLENGES_KEPT of them: url, status, reason."""
    flagged_new: int = 0
    """New articles whose reading has problems (misread): past MISREAD_SHARE of the new ones
    (with at least MISREAD_MIN_ARTICLES new), the run ends EXIT_MISREAD."""
    misfit: str | None = None
    """Why a first crawl's probe found the site profile does not fit (nothing archived)."""
    capped: list[dict[str, Any]] = field(default_factory=list)
    """Pages naming more files than MAX_FILES_PER_PAGE: url, named, fetched. The rest are
    named but not fetched; the run is partial."""

    misread: bool = False
    """The share of flagged new articles passed MISREAD_SHARE (set when the run ends)."""
    fleet: dict[str, Any] | None = None
    """A worker of a fleet: its fleet run, whether the fleet's crawl was complete, what it
    put back in the queue and from whom (chalco_crawler.fleet_frontier.FleetReport)."""
    tree_head: dict[str, Any] | None = None
    """The ledger's Merkle tree head recorded at the run's end: id, size, root, and the
    time its timestamp token proves (null without one)."""
    notes: list[str] = field(default_factory=list)
    """What is worth knowing and is no failure (a time-stamping authority out of reach)."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "new": self.new,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "gone": self.gone,
            "failed": len(self.failures),
            "failures": self.failures,
            "dead": len(self.dead_links),
            "dead_links": self.dead_links,
            "oversize": self.oversize,
            "captures": self.captures,
            "files": self.files,
            "flagged": self.flagged,
            "close_reason": self.close_reason,
            "mode": self.mode,
            "storage_error": self.storage_error,
            "recovery": self.recovery,
            "status": self.status,
            "exit_code": self.exit_code,
            "challenged": self.challenged,
            "challenges": self.challenges,
            "capped": self.capped,
            "flagged_new": self.flagged_new,
            "misread": self.misread,
            "misfit": self.misfit,
            "fleet": self.fleet,
            "tree_head": self.tree_head,
            "notes": self.notes,
        }


class CrawlSession:
    """One per crawler: opened on first use, closed (run finished, lock released) at the end."""

    _by_crawler: WeakKeyDictionary[Crawler, CrawlSession] = WeakKeyDictionary()

    @classmethod
    def of(cls, crawler: Crawler) -> CrawlSession:
        if crawler not in cls._by_crawler:
            cls._by_crawler[crawler] = cls(crawler)
        return cls._by_crawler[crawler]

    def __init__(self, crawler: Crawler):
        settings = crawler.settings
        # Unset: $CHALCO_ARCHIVE_HOME or the documented default (archive.store.home.default_home).
        home = settings.get("ARCHIVE_HOME")
        self.crawler = crawler
        self.stats = crawler.stats
        # A worker of a distributed crawl (FLEET_REDIS_URL): joins before it recovers
        # anything, so that the others see it alive.
        self.fleet = Fleet.from_settings(settings)
        self.fleet_report: FleetReport | None = None
        self.fleet_fresh = False
        """This worker started a new generation of the fleet (it carries over earlier work)."""
        self.database_away_since: float | None = None
        """A fleet worker lost the database server's connection: when (it waits for it)."""
        self._database_given_up = False
        if self.fleet is not None:
            if ArchiveHome.at(home).is_sqlite:
                raise ValueError(
                    "workers need a shared database server: set CHALCO_ARCHIVE_DB"
                    " (SQLite takes one writer at a time)"
                )
            self.fleet_fresh = self.fleet.join()
        self.writer = self._open_writer(ArchiveHome.at(home), settings)
        if self.fleet is not None:
            assert self.fleet.generation is not None
            self.fleet_report = FleetReport(self.fleet.name, self.fleet.worker)
            self.fleet_report.generation = self.fleet.generation
            self.fleet_report.fleet_run = self.writer.join_fleet_run(
                self.fleet.name, self.fleet.generation
            )
        self.dead_links_fail = settings.getbool("DEAD_LINKS_FAIL", False)
        self.misread_share = settings.getfloat("MISREAD_SHARE", 0.2)
        self.misread_min = settings.getint("MISREAD_MIN_ARTICLES", 5)
        # Off by default: a head is recorded at every run's end, timestamped only when an
        # authority is named (TSA_URL, else $CHALCO_TSA_URL).
        self.tsa = TsaConfig.from_values(
            settings.get("TSA_URL"),
            settings.get("TSA_CA_BUNDLE"),
            settings.getfloat("TSA_TIMEOUT", 0) or None,
        )
        self.summary = CrawlSummary()
        self._committed_counts = self._counts()
        self.writer.commit_listeners.append(self.committed)
        self.writer.reconnect_listeners.append(self.database_back)
        if self.writer.recovery:
            self.summary.recovery = self.writer.recovery.as_dict()
        crawler.signals.connect(self._spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(self._spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(self._fetch_failed, signal=project_signals.fetch_failed)
        crawler.signals.connect(self._challenge_seen, signal=project_signals.challenge_seen)
        crawler.signals.connect(self._dead_link, signal=project_signals.dead_link)
        crawler.signals.connect(self._oversize, signal=project_signals.capture_oversize)
        crawler.signals.connect(self._files_capped, signal=project_signals.files_capped)

    def _open_writer(self, home: ArchiveHome, settings: Any) -> ArchiveWriter:
        """The archive's writer; a fleet worker tries a database server that does not answer
        for FLEET_RETRY_SECONDS before it gives up."""
        retry = settings.getfloat("FLEET_RETRY_SECONDS", 60.0) if self.fleet else 0.0
        deadline, backoff = time.monotonic() + retry, FIRST_BACKOFF
        while True:
            try:
                return ArchiveWriter(
                    home,
                    commit_every=settings.getint("ARCHIVE_COMMIT_EVERY", 200),
                    commit_seconds=settings.getfloat("ARCHIVE_COMMIT_SECONDS", 2.0),
                    max_warc_size=settings.getint("ARCHIVE_WARC_MAX_SIZE", 0) or None,
                    worker=self.fleet.worker if self.fleet else None,
                    worker_gone=self.fleet.is_gone if self.fleet else None,
                )
            except OperationalError as error:
                if home.is_sqlite:
                    raise
                if time.monotonic() + backoff > deadline:
                    tried = f" (tried for {retry:.0f} s)" if retry else ""
                    raise DatabaseUnreachable(
                        f"cannot reach the database at {home.database_place}{tried}:"
                        f" {one_line(error.orig or error)}"
                    ) from error
                logger.warning("the database does not answer (%s); trying again", error.orig)
                time.sleep(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF)

    def _spider_opened(self, spider: Spider) -> None:
        self.summary.mode = getattr(spider, "mode", "full")
        self.writer.start_run(
            site=getattr(spider, "site_name", spider.name),
            base_url=getattr(spider, "base_url", ""),
            mode=getattr(spider, "mode", "full"),
        )

    def _fetch_failed(self, url: str, reason: str) -> None:
        if self.database_away_since is not None:
            return  # the fleet fetches it again: its lease goes back when the database does
        self.summary.failures.append({"url": url, "reason": reason})
        self.stats.inc_value("crawl/failed")

    def _challenge_seen(self, url: str, status: int, reason: str) -> None:
        self.summary.challenged += 1
        if len(self.summary.challenges) < MAX_CHALLENGES_KEPT:
            self.summary.challenges.append({"url": url, "status": status, "reason": reason})
        self.stats.inc_value("crawl/challenged")

    def _dead_link(self, url: str, reason: str) -> None:
        if self.database_away_since is not None:
            return  # not written: fetched again, and said then
        logger.warning("dead link: %s (%s)", url, reason)
        self.summary.dead_links.append({"url": url, "reason": reason})
        self.stats.inc_value("crawl/dead_links")

    def _oversize(self, url: str, reason: str) -> None:
        logger.warning("oversize: %s (%s); archived as received, not read", url, reason)
        self.summary.oversize.append({"url": url, "reason": reason})

    def _files_capped(self, url: str, named: int, fetched: int) -> None:
        logger.warning(
            "capped: %s names %d files; fetching the first %d (MAX_FILES_PER_PAGE)",
            url,
            named,
            fetched,
        )
        self.summary.capped.append({"url": url, "named": named, "fetched": fetched})
        self.stats.inc_value("crawl/capped_pages")

    def storage_failed(self, reason: str) -> None:
        """The home took no more writes: close the spider (once) with the reason. A fleet
        worker that lost the database server's connection waits for it instead (the
        scheduler gives up after FLEET_RETRY_SECONDS, see give_up_database)."""
        if self.fleet is not None and self.writer.disconnected and not self._database_given_up:
            if self.database_away_since is None:
                logger.warning("%s; waiting for the database", reason)
                self.database_away_since = time.monotonic()
            return
        if self.summary.storage_error is None:
            self.summary.storage_error = reason
            engine = self.crawler.engine
            assert engine is not None
            deferred_from_coro(engine.close_spider_async(reason=STORAGE_REASON))

    def give_up_database(self, reason: str) -> None:
        self._database_given_up = True
        self.storage_failed(reason)

    def database_back(self) -> None:
        """The database answers again; what the lost batch counted is counted again when
        the requests it held are fetched again."""
        self.database_away_since = None
        for name, value in self._committed_counts.items():
            if name.startswith("summary/"):
                setattr(self.summary, name.removeprefix("summary/"), value)
            else:
                self.stats.set_value(name, value)

    def committed(self) -> None:
        """A commit succeeded: what the run has counted so far is durable."""
        self._committed_counts = self._counts()

    def _counts(self) -> dict[str, int]:
        counts = {f"summary/{o}": getattr(self.summary, o) for o in (*OUTCOMES, "flagged_new")}
        stats = [*COUNTED_STATS, *(f"archive/articles_{o}" for o in OUTCOMES)]
        counts |= {key: self.stats.get_value(key, 0) for key in stats}
        return counts

    def count(self, outcome: str, flagged: bool = False) -> None:
        """Tally an article's storage outcome: new, updated or unchanged (and whether its
        reading was flagged)."""
        setattr(self.summary, outcome, getattr(self.summary, outcome) + 1)
        self.stats.inc_value(f"archive/articles_{outcome}")
        if flagged and outcome == "new":
            self.summary.flagged_new += 1

    def _misread(self) -> bool:
        summary = self.summary
        return (
            summary.new >= max(1, self.misread_min)
            and summary.flagged_new > self.misread_share * summary.new
        )

    def recount(self, counted: str, outcome: str) -> None:
        """An article counted as `counted` turned out to be `outcome` in this run."""
        setattr(self.summary, counted, getattr(self.summary, counted) - 1)
        self.stats.inc_value(f"archive/articles_{counted}", -1)
        self.count(outcome)

    def finish_after_forced_stop(self) -> None:
        """A second Ctrl-C or SIGTERM stops Scrapy at once, before the spider closes: end the
        run here, as interrupted, with what was written so far committed. Every write of the
        writer is whole when it returns, so none is cut in two."""
        if self.summary.status == "running":
            self._spider_closed(None, FORCED_STOP_REASON)

    def _record_tree_head(self, summary: CrawlSummary) -> None:
        """The ledger's head at the run's end, timestamped when an authority is named; one
        out of reach leaves a note and the run's status as it was."""
        self.writer.close_run_files()
        try:
            outcome = stamp_newest_head(self.writer, self.tsa)
        except StorageFailed:
            raise
        except Exception as error:  # the head is evidence about the archive, never its cost
            logger.exception("no tree head recorded")
            summary.notes.append(f"no tree head recorded at the run's end: {error}")
            return
        head = outcome.head
        summary.tree_head = {
            "id": head.id,
            "size": head.tree_size,
            "root": head.root_hash,
            "timestamped_at": (
                outcome.timestamped_at.isoformat() if outcome.timestamped_at else None
            ),
        }
        if outcome.note is not None:
            logger.warning("%s", outcome.note)
            summary.notes.append(outcome.note)

    def _spider_closed(self, spider: Spider | None, reason: str) -> None:
        summary = self.summary
        summary.close_reason = reason
        summary.captures = self.stats.get_value("archive/captures", 0)
        summary.files = self.stats.get_value("archive/files_fetched", 0)
        summary.flagged = self.stats.get_value("extraction/flagged", 0)
        report = self.fleet_report
        if report is not None:
            summary.fleet = report.as_dict()
            if reason == FLEET_UNREACHABLE_REASON and summary.storage_error is None:
                summary.storage_error = report.unreachable
        if summary.storage_error is not None:
            summary.status, summary.exit_code = "failed", EXIT_STORAGE
        elif reason == UNREACHABLE_REASON:
            summary.status, summary.exit_code = "failed", EXIT_UNREACHABLE
        elif reason in SIGNAL_STOP_REASONS:
            # Stopped from outside (Ctrl-C, systemd): what was in flight is written, the
            # rest is for the next crawl, which resumes. 130 or 143, as a shell reports it.
            summary.status, summary.exit_code = "interrupted", STOP.exit_code
        elif summary.challenged:
            # Not content: the walk saw less than the site holds, and a monitor must tell
            # this from a plain partial run (a WAF wants a slower crawl or an allow-list).
            summary.status, summary.exit_code = "partial", EXIT_CHALLENGED
        elif self._misread():
            # Archived, but read wrong (a redesigned template): cron must not see success for
            # weeks of unreadable records. The profile wants fixing, then reextract.
            summary.misread = True
            summary.status, summary.exit_code = "partial", EXIT_MISREAD
        elif (
            summary.failures
            or summary.capped
            or (summary.dead_links and self.dead_links_fail)
            or reason != "finished"
            # A worker says ok only of a fleet crawl that is complete, and that lost nothing
            # on the way (Redis restarting empty loses the queue, the database going away a
            # batch, even when both were made good).
            or (
                report is not None
                and (not report.complete or report.redis_lost or report.database_lost)
            )
        ):
            summary.status, summary.exit_code = "partial", EXIT_PARTIAL
        else:
            summary.status, summary.exit_code = "ok", EXIT_OK
        try:
            if summary.storage_error is None:
                self._record_tree_head(summary)
            self.writer.finish_run(summary.status, summary.exit_code, summary.as_dict())
        except StorageFailed as error:
            summary.storage_error = summary.storage_error or str(error)
            summary.status, summary.exit_code = "failed", EXIT_STORAGE
        finally:
            self.writer.close()
