"""Per-crawl state shared by the WARC middleware and the pipelines: the archive writer,
the failures seen, and the run's summary written when the spider closes."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any
from weakref import WeakKeyDictionary

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.utils.defer import deferred_from_coro

from archive.errors import StorageFailed
from archive.evidence.timestamps import TsaConfig, stamp_newest_head
from archive.store.home import ArchiveHome
from archive.store.writer import ArchiveWriter
from chalco_crawler import signals as project_signals
from chalco_crawler.fleet import Fleet
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

# close reasons of the spider that mean the site never answered
UNREACHABLE_REASON = "site_unreachable"
STORAGE_REASON = "storage_failed"
FORCED_STOP_REASON = "shutdown_forced"
# Scrapy's close reason after a SIGINT or SIGTERM (engine.stop).
SIGNAL_STOP_REASONS = ("shutdown", FORCED_STOP_REASON)
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
        if self.fleet is not None:
            if ArchiveHome.at(home).is_sqlite:
                raise ValueError(
                    "workers need a shared database server: set CHALCO_ARCHIVE_DB"
                    " (SQLite takes one writer at a time)"
                )
            self.fleet.join()
        self.writer = ArchiveWriter(
            ArchiveHome.at(home),
            commit_every=settings.getint("ARCHIVE_COMMIT_EVERY", 200),
            commit_seconds=settings.getfloat("ARCHIVE_COMMIT_SECONDS", 2.0),
            max_warc_size=settings.getint("ARCHIVE_WARC_MAX_SIZE", 0) or None,
            worker=self.fleet.worker if self.fleet else None,
            worker_gone=self.fleet.is_gone if self.fleet else None,
        )
        self.dead_links_fail = settings.getbool("DEAD_LINKS_FAIL", False)
        # Off by default: a head is recorded at every run's end, timestamped only when an
        # authority is named (TSA_URL, else $CHALCO_TSA_URL).
        self.tsa = TsaConfig.from_values(
            settings.get("TSA_URL"),
            settings.get("TSA_CA_BUNDLE"),
            settings.getfloat("TSA_TIMEOUT", 0) or None,
        )
        self.summary = CrawlSummary()
        if self.writer.recovery:
            self.summary.recovery = self.writer.recovery.as_dict()
        crawler.signals.connect(self._spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(self._spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(self._fetch_failed, signal=project_signals.fetch_failed)
        crawler.signals.connect(self._challenge_seen, signal=project_signals.challenge_seen)
        crawler.signals.connect(self._dead_link, signal=project_signals.dead_link)
        crawler.signals.connect(self._oversize, signal=project_signals.capture_oversize)

    def _spider_opened(self, spider: Spider) -> None:
        self.summary.mode = getattr(spider, "mode", "full")
        self.writer.start_run(
            site=getattr(spider, "site_name", spider.name),
            base_url=getattr(spider, "base_url", ""),
            mode=getattr(spider, "mode", "full"),
        )

    def _fetch_failed(self, url: str, reason: str) -> None:
        self.summary.failures.append({"url": url, "reason": reason})
        self.stats.inc_value("crawl/failed")

    def _challenge_seen(self, url: str, status: int, reason: str) -> None:
        self.summary.challenged += 1
        if len(self.summary.challenges) < MAX_CHALLENGES_KEPT:
            self.summary.challenges.append({"url": url, "status": status, "reason": reason})
        self.stats.inc_value("crawl/challenged")

    def _dead_link(self, url: str, reason: str) -> None:
        logger.warning("dead link: %s (%s)", url, reason)
        self.summary.dead_links.append({"url": url, "reason": reason})
        self.stats.inc_value("crawl/dead_links")

    def _oversize(self, url: str, reason: str) -> None:
        logger.warning("oversize: %s (%s); archived as received, not read", url, reason)
        self.summary.oversize.append({"url": url, "reason": reason})

    def storage_failed(self, reason: str) -> None:
        """The home took no more writes: close the spider (once) with the reason."""
        if self.summary.storage_error is None:
            self.summary.storage_error = reason
            engine = self.crawler.engine
            assert engine is not None
            deferred_from_coro(engine.close_spider_async(reason=STORAGE_REASON))

    def count(self, outcome: str) -> None:
        """Tally an article's storage outcome: new, updated or unchanged."""
        setattr(self.summary, outcome, getattr(self.summary, outcome) + 1)
        self.stats.inc_value(f"archive/articles_{outcome}")

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
        elif (
            summary.failures
            or (summary.dead_links and self.dead_links_fail)
            or reason != "finished"
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
