"""The Scrapy side of one worker of a distributed crawl (chalco_crawler.fleet): the settings
that make a crawl a worker, and the shared request queue and its scheduler, which leases
each request it takes until the archive has committed its results (fleet_leases), notes
what it queues and finishes in the archive (fleet_frontier), rides out a Redis outage for
FLEET_RETRY_SECONDS, and ends the crawl only when the whole fleet's crawl is complete. Each
host's pace, kept for the whole fleet, is in fleet_pace."""

from __future__ import annotations

import logging
import time
from typing import Any

import redis
from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DontCloseSpider
from scrapy.settings import Settings
from scrapy.utils.defer import deferred_from_coro
from scrapy_redis.dupefilter import RFPDupeFilter
from scrapy_redis.scheduler import Scheduler
from sqlalchemy.exc import DBAPIError
from twisted.internet import task

from archive.errors import StorageFailed, one_line
from archive.store.writer.fleet import FrontierRequest
from chalco_crawler.fleet import Fleet, fleet_key
from chalco_crawler.fleet_frontier import FleetFrontier, kind_of
from chalco_crawler.fleet_leases import Lease, LeaseBook
from chalco_crawler.fleet_queue import FLEET_LEASE, TURNS, FleetQueue, queue_score
from chalco_crawler.session import FLEET_SUPERSEDED_REASON, FLEET_UNREACHABLE_REASON, CrawlSession

logger = logging.getLogger(__name__)

# How often a worker tells the fleet whether it is busy, and looks for queued requests.
BEAT_SECONDS = 0.25
# How often a worker looks for workers whose heartbeat lapsed, to put back their leases.
LAPSED_CHECK_SECONDS = 1.0


class FleetAddon:
    """Makes any crawl with FLEET_REDIS_URL set (`crawl --workers-redis`, or
    `scrapy crawl news -s FLEET_REDIS_URL=…`) a worker of the fleet (see fleet_settings)."""

    def update_settings(self, settings: Settings) -> None:
        url = settings.get("FLEET_REDIS_URL")
        if url:
            fleet_settings(settings, url, settings.get("FLEET_NAME"))


def fleet_settings(settings: Settings, url: str, name: str | None) -> None:
    """Turn a crawl's settings into a worker's: the shared scheduler, and the host delay
    kept by the fleet instead of by each process (which would only count its own)."""
    name = name or "default"
    settings.set("FLEET_NAME", name, priority="cmdline")
    settings.set("SCHEDULER", "chalco_crawler.fleet_worker.FleetScheduler", priority="cmdline")
    settings.set("DUPEFILTER_CLASS", "scrapy_redis.dupefilter.RFPDupeFilter", priority="cmdline")
    settings.set("REDIS_URL", url, priority="cmdline")
    settings.set("SCHEDULER_QUEUE_KEY", fleet_key(name, "requests"), priority="cmdline")
    settings.set("SCHEDULER_DUPEFILTER_KEY", fleet_key(name, "dupefilter"), priority="cmdline")
    settings.set("FLEET_HOST_DELAY", settings.getfloat("DOWNLOAD_DELAY"), priority="cmdline")
    settings.set("DOWNLOAD_DELAY", 0, priority="cmdline")
    settings.set("AUTOTHROTTLE_ENABLED", False, priority="cmdline")
    middlewares = settings.getdict("DOWNLOADER_MIDDLEWARES")
    middlewares["chalco_crawler.politeness.PolitenessMiddleware"] = None
    middlewares["chalco_crawler.fleet_pace.FleetPolitenessMiddleware"] = 560
    settings.set("DOWNLOADER_MIDDLEWARES", middlewares, priority="cmdline")


def _in_progress(crawler: Crawler) -> set[Request]:
    """The requests the engine has not finished with: downloading, or their response, or an
    item of it, still in the spider or the pipelines."""
    engine = crawler.engine
    slot = getattr(engine, "_slot", None)
    return slot.inprogress if slot is not None else set()


class FleetScheduler(Scheduler):
    """scrapy-redis's scheduler, for one worker of the fleet: joins on open, leaves on
    close, beats while it runs, leases what it takes, and keeps the spider open until the
    whole fleet's crawl is complete."""

    def __init__(self, server: Any, fleet: Fleet, crawler: Crawler, **kwargs: Any):
        super().__init__(server, **kwargs)
        self.fleet = fleet
        self.crawler = crawler
        self.session = CrawlSession.of(crawler)
        assert self.session.fleet_report is not None
        self.report = self.session.fleet_report
        self.writer = self.session.writer
        self.frontier = FleetFrontier(self.writer, fleet, self.report)
        self.leases = LeaseBook()
        # Requests queued while Redis did not answer (noted in the archive), with the lease
        # a retry among them gives up once it is queued: sent when Redis is back.
        self._unsent: list[tuple[Request, str | None]] = []
        self._last_lapsed_check = 0.0
        self._stopping = False
        self.beat = task.LoopingCall(self._beat)
        crawler.signals.connect(self._spider_idle, signal=signals.spider_idle)
        self.writer.commit_listeners.append(self._committed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> FleetScheduler:
        fleet = CrawlSession.of(crawler).fleet
        assert fleet is not None, "FleetScheduler needs FLEET_REDIS_URL"
        settings = crawler.settings
        instance = cls(
            fleet.redis,
            fleet,
            crawler,
            persist=True,  # the fleet, not one worker, decides when the queue is done
            queue_key=fleet.queue_key,
            queue_cls="chalco_crawler.fleet_queue.FleetQueue",
            dupefilter_key=fleet.dupefilter_key,
            dupefilter_cls=settings.get("DUPEFILTER_CLASS"),
        )
        instance.stats = crawler.stats
        return instance

    def open(self, spider: Spider) -> None:
        self.spider = spider
        self.queue = FleetQueue(
            server=self.server, spider=spider, key=self.queue_key, serializer=self.serializer
        )
        self.queue.fleet = self.fleet
        # Used for fingerprints and its log only: the queue's one step filters (ENQUEUE).
        self.df = RFPDupeFilter(self.server, key=self.dupefilter_key)
        if self.session.fleet_fresh:
            # The first worker of a new generation: what earlier fleet runs left unfinished.
            for entry in self.frontier.carry_over():
                self._add_from_archive(entry)
        # Look for requests other workers queued several times a second, not every 5 s.
        engine = self.crawler.engine
        assert engine is not None
        engine._SLOT_HEARTBEAT_INTERVAL = BEAT_SECONDS
        self.beat.start(BEAT_SECONDS, now=False)

    def has_pending_requests(self) -> bool:
        if self.fleet.away:
            return False
        try:
            return len(self.queue) > 0
        except redis.RedisError as error:
            self.fleet.unreachable(error)
            return False

    # Queueing -----------------------------------------------------------------------------

    def enqueue_request(self, request: Request) -> bool:
        lease_id = request.meta.pop(FLEET_LEASE, None)
        lease = self.leases.of_id(lease_id) if lease_id is not None else None
        fingerprint = self.df.request_fingerprint(request)
        if lease is not None and lease.fingerprint == fingerprint:
            return self._requeue_retry(request, lease)
        if self.fleet.away:
            return self._keep_unsent(request, fingerprint, None)
        try:
            added = self.queue.add(
                request, fingerprint, self.dupefilter_key, filtered=not request.dont_filter
            )
        except redis.RedisError as error:
            self.fleet.unreachable(error)
            return self._keep_unsent(request, fingerprint, None)
        if added is None:
            self.df.log(request, self.spider)
            return False
        self.frontier.queued(request, fingerprint, added[1])
        self.crawler.stats.inc_value("scheduler/enqueued/redis")
        return True

    def _add(self, request: Request, fingerprint: str) -> None:
        """Queue a request whatever the filter says, and mark it seen."""
        self.queue.add(request, fingerprint, self.dupefilter_key, filtered=False)

    def _add_from_archive(self, entry: FrontierRequest) -> None:
        """Queue again a request the archive keeps (carried over, or lost with Redis)."""
        try:
            request = self.queue._decode_request(entry.request)
        except Exception as error:  # e.g. written by a release whose spider differs
            logger.warning("fleet %s: cannot queue %s again: %s", self.fleet.name, entry.url, error)
            self.crawler.stats.inc_value("fleet/undecodable_requests")
            return
        self._add(request, entry.fingerprint)

    def _requeue_retry(self, request: Request, lease: Lease) -> bool:
        """A retry of a leased request: back to the queue, and the lease let go, in one step
        (a worker killed between the two would otherwise fetch it twice or never)."""
        self.leases.hand_back(lease)
        if self.fleet.away:
            self._unsent.append((request, lease.id))
            return True
        try:
            # At the end of its priority: the other requests of its host go first.
            score = queue_score(request.priority, TURNS - 1)
            self.fleet.requeue_leased(lease.id, score, self.queue._encode_request(request))
        except redis.RedisError as error:
            self.fleet.unreachable(error)
            self._unsent.append((request, lease.id))
        self.crawler.stats.inc_value("fleet/retries_queued")
        return True

    def _keep_unsent(self, request: Request, fingerprint: str, lease_id: str | None) -> bool:
        """Redis does not answer: the archive notes the request queued (should this worker
        die, the fleet still fetches it) and it is sent when Redis is back."""
        self.frontier.queued(request, fingerprint, self.queue._encode_request(request))
        self._unsent.append((request, lease_id))
        self.crawler.stats.inc_value("fleet/queued_while_redis_away")
        return True

    def _send_unsent(self) -> None:
        while self._unsent:
            request, lease_id = self._unsent[0]
            self._add(request, self.df.request_fingerprint(request))
            if lease_id is not None:
                self.fleet.release([lease_id])
            self._unsent.pop(0)

    def next_request(self) -> Request | None:
        if self.fleet.away or self._stopping or self.writer.failed is not None:
            return None
        try:
            request = self.queue.pop()
        except redis.RedisError as error:
            self.fleet.unreachable(error)
            return None
        if request is None:
            return None
        fingerprint = self.df.request_fingerprint(request)
        lease = Lease(request.meta[FLEET_LEASE], fingerprint, kind_of(request), request)
        self.leases.take(lease)
        self.crawler.stats.inc_value("scheduler/dequeued/redis")
        return request

    # Leases -------------------------------------------------------------------------------

    def _settle(self) -> None:
        """Requests Scrapy is done with are written: noted done, released after the commit."""
        if self._stopping:
            # Given up: what it holds may have failed for that. Its leases stay, for close
            # (or, Redis away, the others once its heartbeat lapses) to put back.
            return
        for lease in self.leases.settle(_in_progress(self.crawler)):
            self.frontier.done(lease.fingerprint, lease.kind, lease.request.url)

    def _committed(self) -> None:
        """After each commit: release the leases it made durable."""
        self.leases.committed()
        self._release_pending()

    def _release_pending(self) -> None:
        to_release = self.leases.to_release
        if not to_release or self.fleet.away:
            return
        try:
            self.fleet.release(to_release)
            self.leases.released()
        except redis.RedisError as error:
            self.fleet.unreachable(error)

    def _commit(self) -> bool:
        """Commit the writer's batch now; False when the archive takes no more writes."""
        try:
            self.writer.commit()
            return True
        except StorageFailed as error:
            self.session.storage_failed(str(error))  # stops the crawl, or waits (see there)
            return False

    # The heartbeat ------------------------------------------------------------------------

    def _beat(self) -> None:
        try:
            self._beat_once()
        except Exception:  # the heartbeat must go on: stopped, the fleet takes this one as gone
            logger.exception("fleet %s: heartbeat", self.fleet.name)

    def _beat_once(self) -> None:
        engine = self.crawler.engine
        if engine is None or engine._slot is None:
            return
        self._settle()
        if self.writer.failed is not None and self.session.database_away_since is None:
            self.session.storage_failed(self.writer.failed)  # a write in the pipelines failed
        if self.session.database_away_since is not None:
            self._wait_for_database()
        elif self.leases.written and self.writer.since_commit() >= min(
            self.writer.commit_seconds, 1.0
        ):
            self._commit()
        if self.fleet.away:
            self._give_up_if_too_long()
            return
        idle = engine.spider_is_idle() and not self.leases and not self._unsent
        try:
            generation = self.fleet.beat("idle" if idle else "busy")
            was_away = self.fleet.down_since is not None
            self.fleet.reached()
            if generation is not None and generation != self.fleet.generation:
                self.report.superseded = True  # a new crawl of the fleet began meanwhile
                self._close(FLEET_SUPERSEDED_REASON)
                return
            if generation is None or was_away or self._due_for_checks():
                self._check_redis_run(generation)
            if was_away:
                logger.warning("fleet %s: Redis answers again", self.fleet.name)
            self._send_unsent()
            self._release_pending()
            if self._due_for_checks():
                self._last_lapsed_check = time.monotonic()
                self._return_lapsed()
        except redis.RedisError as error:
            if self.fleet.down_since is None:
                logger.warning("fleet %s: Redis does not answer: %s", self.fleet.name, error)
            self.fleet.unreachable(error)
            self._give_up_if_too_long()

    def _due_for_checks(self) -> bool:
        return time.monotonic() - self._last_lapsed_check >= LAPSED_CHECK_SECONDS

    def _return_lapsed(self) -> int:
        returned = self.fleet.return_lapsed_leases()
        for worker, count in returned.items():
            logger.warning(
                "fleet %s: worker %s stopped beating; %d requests it held queued again",
                self.fleet.name,
                worker,
                count,
            )
            self.report.requeued_from[worker] = self.report.requeued_from.get(worker, 0) + count
        return sum(returned.values())

    def _check_redis_run(self, generation: str | None) -> None:
        """Was Redis restarted (another run_id), or has it lost the generation? Then its
        queue, filter and leases are gone, or may be. The fleet run goes on: the first
        worker back names the generation again and rebuilds the filter from the archive,
        and what the archive has queued and not finished is queued again once every
        worker is idle (_rebuild_lost_work)."""
        run = self.fleet.redis_run()
        if generation is not None and run == self.fleet.server_run:
            return
        self.fleet.server_run = run
        if not self.report.redis_lost:
            logger.warning(
                "fleet %s: Redis was restarted and lost the fleet's queue", self.fleet.name
            )
        self.report.redis_lost = True
        if generation is None and self.fleet.restore_generation() and self._commit():
            count = self.frontier.rebuild_filter()
            logger.warning(
                "fleet %s: the shared filter rebuilt from the archive (%d requests)",
                self.fleet.name,
                count,
            )
        self.fleet.beat("busy")

    def _wait_for_database(self) -> None:
        """The database server's connection was lost with the writer's batch. Once every
        request in flight has ended (their writes fail), every lease not committed goes
        back to the queue, for the fleet to fetch again; then connect again, and give up
        after FLEET_RETRY_SECONDS."""
        assert self.session.database_away_since is not None
        away = time.monotonic() - self.session.database_away_since
        if _in_progress(self.crawler):
            # A request still in flight may hold ids of the lost batch: no new connection
            # before it has ended.
            if away > self.fleet.retry_seconds:
                self._give_up_database(self.writer.failure_reason)
            return
        if self.leases.uncommitted() and self.fleet.down_since is None:
            try:
                self._release_pending()  # committed before the connection went
                returned = self.fleet.return_leases()
                self.leases.drop_all()
                self.report.returned += returned
                logger.warning(
                    "fleet %s: %d requests of the batch lost with the database queued again",
                    self.fleet.name,
                    returned,
                )
            except redis.RedisError as error:
                self.fleet.unreachable(error)
        if self.leases.uncommitted():
            return  # Redis away too: its own heartbeat check gives up in time
        try:
            self.writer.reconnect()
        except DBAPIError as error:
            if away > self.fleet.retry_seconds:
                self._give_up_database(one_line(error.orig or error))
            return
        self.report.database_lost = True
        logger.warning("fleet %s: the database answers again", self.fleet.name)

    def _give_up_database(self, reason: str) -> None:
        self.session.give_up_database(
            f"cannot reach the database at {self.writer.home.database_place} (tried for"
            f" {self.fleet.retry_seconds:.0f} s): {reason}"
        )

    def _give_up_if_too_long(self) -> None:
        if self.fleet.away_for() > self.fleet.retry_seconds and self.report.unreachable is None:
            self.report.unreachable = self.fleet.unreachable_message(self.fleet.retry_seconds)
            self._close(FLEET_UNREACHABLE_REASON)

    def _close(self, reason: str) -> None:
        self._stopping = True
        engine = self.crawler.engine
        assert engine is not None
        deferred_from_coro(engine.close_spider_async(reason=reason))

    # The end of the fleet's crawl ---------------------------------------------------------

    def _spider_idle(self, spider: Spider) -> None:
        if self._stopping:
            return
        self._settle()
        if self.session.database_away_since is not None or not self._commit():
            if self.session.database_away_since is not None:
                raise DontCloseSpider  # waiting for the database (see _wait_for_database)
            return
        if self.fleet.down_since is not None:
            raise DontCloseSpider  # wait for Redis (the heartbeat gives up in time)
        try:
            self._send_unsent()
            self._release_pending()
            if self.leases:
                raise DontCloseSpider
            self.fleet.beat("idle")
            if self._return_lapsed() or not self.fleet.drained():
                raise DontCloseSpider  # another worker may still queue list pages and articles
            if self._rebuild_lost_work():
                raise DontCloseSpider
        except redis.RedisError as error:
            self.fleet.unreachable(error)
            raise DontCloseSpider from error
        self.report.complete = True

    def _rebuild_lost_work(self) -> bool:
        """Every worker is idle and Redis holds nothing: anything the archive has queued
        and not finished was lost (Redis restarted empty, or a request was queued while it
        was away). Queue it again; True when there was some, or another worker is at it."""
        if not self.fleet.lock("rebuild", 60):
            return True
        try:
            if not self.fleet.drained():
                return True
            unfinished = self.frontier.unfinished()
            for entry in unfinished:
                self._add_from_archive(entry)
        finally:
            self.fleet.unlock("rebuild")
        if unfinished:
            self.report.recovered += len(unfinished)
            logger.warning(
                "fleet %s: %d requests queued and never finished (lost with Redis) queued"
                " again from the archive",
                self.fleet.name,
                len(unfinished),
            )
        return bool(unfinished)

    def close(self, reason: str) -> None:
        if self.beat.running:
            self.beat.stop()
        self._settle()
        committed = self._commit()
        try:
            if committed:
                self._release_pending()
            self._send_unsent()
            # What it could not commit (stopped by a signal, the archive failing) is the
            # fleet's again at once, rather than when its heartbeat lapses.
            self.report.returned += self.fleet.return_leases()
            self.leases.drop_all()
            last = self.fleet.leave()
        except redis.RedisError as error:
            logger.warning(
                "fleet %s: could not leave (%s); its heartbeat lapses", self.fleet.name, error
            )
            return
        if last and committed:
            try:
                # The last worker out ends the fleet run (complete or not, in the archive).
                complete = self.writer.finish_fleet_run()
                self.report.complete = self.report.complete and complete
            except StorageFailed:
                pass
