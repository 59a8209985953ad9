"""The Scrapy side of one worker of a distributed crawl (chalco_crawler.fleet): the settings
that make a crawl a worker, the shared request queue and its scheduler, and each host's pace
kept for the whole fleet."""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import logging
import random
import uuid
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit

import redis
from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DontCloseSpider
from scrapy.http import Response
from scrapy.settings import Settings
from scrapy_redis.queue import PriorityQueue
from scrapy_redis.scheduler import Scheduler
from twisted.internet import task

from chalco_crawler.fleet import Fleet, fleet_key
from chalco_crawler.politeness import PolitenessMiddleware
from chalco_crawler.session import CrawlSession

logger = logging.getLogger(__name__)

FLEET_TOKEN = "fleet_token"
# How often a worker tells the fleet whether it is busy, and looks for queued requests.
BEAT_SECONDS = 0.25
# Requests of one host queued per priority before their turn numbers wrap around.
TURNS = 10_000_000


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
    middlewares["chalco_crawler.fleet_worker.FleetPolitenessMiddleware"] = 560
    settings.set("DOWNLOADER_MIDDLEWARES", middlewares, priority="cmdline")


class FleetQueue(PriorityQueue):
    """scrapy-redis's priority queue, popping with the worker's busy mark (see above), and
    taking the hosts in turn within a priority.

    Redis orders members of equal score by their bytes, that is by URL: a worker would take
    one host's requests, wait for that host's pace with all of them, and leave the other
    hosts idle. Each request's score is its priority plus its host's running count, so the
    queue gives each host's first request, then each host's second, and so on.
    """

    fleet: Fleet | None = None

    def push(self, request: Request) -> None:
        turn = self.server.incr(f"{self.key}:turns:{urlsplit(request.url).netloc}")
        score = -request.priority + (turn % TURNS) / TURNS
        self.server.zadd(self.key, {self._encode_request(request): score})

    def pop(self, timeout: int = 0) -> Request | None:
        if self.fleet is None:
            return super().pop(timeout)
        encoded = self.fleet.pop(self.key)
        return self._decode_request(encoded) if encoded is not None else None


class FleetScheduler(Scheduler):
    """scrapy-redis's scheduler, for one worker of the fleet: joins on open, leaves on close,
    beats while it runs, and keeps the spider open while another worker may still add work."""

    def __init__(self, server: Any, fleet: Fleet, crawler: Crawler, **kwargs: Any):
        super().__init__(server, **kwargs)
        self.fleet = fleet
        self.crawler = crawler
        self.beat = task.LoopingCall(self._beat)
        crawler.signals.connect(self._spider_idle, signal=signals.spider_idle)

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
            queue_cls="chalco_crawler.fleet_worker.FleetQueue",
            dupefilter_key=fleet.dupefilter_key,
            dupefilter_cls=settings.get("DUPEFILTER_CLASS"),
        )
        instance.stats = crawler.stats
        return instance

    def open(self, spider: Spider) -> None:
        super().open(spider)
        self.queue.fleet = self.fleet
        # Look for requests other workers queued several times a second, not every 5 s.
        engine = self.crawler.engine
        assert engine is not None
        engine._SLOT_HEARTBEAT_INTERVAL = BEAT_SECONDS
        self.beat.start(BEAT_SECONDS, now=False)

    # scrapy-redis 0.9.1's own two methods, but for the stats call: Scrapy 2.19 deprecates
    # its `spider` argument, and the warning filled every worker's log.
    def enqueue_request(self, request: Request) -> bool:
        if not request.dont_filter and self.df.request_seen(request):
            self.df.log(request, self.spider)
            return False
        self.crawler.stats.inc_value("scheduler/enqueued/redis")
        self.queue.push(request)
        return True

    def next_request(self) -> Request | None:
        request = self.queue.pop(self.idle_before_close)
        if request is not None:
            self.crawler.stats.inc_value("scheduler/dequeued/redis")
        return request

    def _beat(self) -> None:
        engine = self.crawler.engine
        idle = engine is not None and engine._slot is not None and engine.spider_is_idle()
        try:
            self.fleet.beat("idle" if idle else "busy")
        except redis.RedisError as error:
            logger.warning("fleet heartbeat failed: %s", error)

    def _spider_idle(self, spider: Spider) -> None:
        self.fleet.beat("idle")
        if self.fleet.others_busy():
            raise DontCloseSpider  # another worker may still queue list pages and articles

    def close(self, reason: str) -> None:
        if self.beat.running:
            self.beat.stop()
        self.fleet.leave()


class HostLine:
    """This worker's requests waiting for one host's turn: the highest priority first, then
    in order of arrival (list pages before articles, as the shared queue orders them), and
    only the first of the line asks Redis. Without it, a list page would wait behind every
    article already waiting, and the host would run out of work while it does."""

    def __init__(self) -> None:
        self._waiting: list[tuple[int, int, asyncio.Future[None]]] = []
        self._arrivals = itertools.count()

    @contextlib.asynccontextmanager
    async def turn(self, priority: int) -> AsyncIterator[None]:
        entry = (-priority, next(self._arrivals), asyncio.get_running_loop().create_future())
        heapq.heappush(self._waiting, entry)
        try:
            if self._waiting[0] is not entry:
                await entry[2]  # woken when it is first
            yield
        finally:
            first = self._waiting[0] is entry
            self._waiting.remove(entry)
            heapq.heapify(self._waiting)
            if first and self._waiting and not self._waiting[0][2].done():
                self._waiting[0][2].set_result(None)


class FleetPolitenessMiddleware(PolitenessMiddleware):
    """PolitenessMiddleware, with each host's delay and concurrency kept for the fleet."""

    def __init__(self, crawler: Crawler, user_agent: str, max_crawl_delay: float):
        super().__init__(crawler, user_agent, max_crawl_delay)
        fleet = CrawlSession.of(crawler).fleet
        assert fleet is not None, "FleetPolitenessMiddleware needs FLEET_REDIS_URL"
        self.fleet = fleet
        settings = crawler.settings
        self.delay = settings.getfloat("FLEET_HOST_DELAY", 1.0)
        self.jitter = settings.getfloat("DOWNLOAD_DELAY_JITTER", 0.5)
        self.concurrency = settings.getint("CONCURRENT_REQUESTS_PER_DOMAIN", 2)
        # A token left by a killed worker frees its host's place after this long.
        self.hold = settings.getfloat("DOWNLOAD_TIMEOUT", 30) + 30
        self._lines: dict[str, HostLine] = {}

    async def process_request(self, request: Request) -> None:
        await super().process_request(request)
        host = urlsplit(request.url).netloc
        delay = max(self.delay, self.crawl_delay.get(host, 0.0))
        delay *= random.uniform(1 - self.jitter, 1 + self.jitter) if self.jitter else 1
        token = uuid.uuid4().hex
        async with self._line(host).turn(request.priority):
            while (
                wait := self.fleet.acquire_host(host, delay, self.concurrency, token, self.hold)
            ) > 0:
                await asyncio.sleep(wait)
        request.meta[FLEET_TOKEN] = token

    def _line(self, host: str) -> HostLine:
        if host not in self._lines:
            self._lines[host] = HostLine()
        return self._lines[host]

    def _release(self, request: Request) -> None:
        token = request.meta.pop(FLEET_TOKEN, None)
        if token is not None:
            self.fleet.release_host(urlsplit(request.url).netloc, token)

    def process_response(self, request: Request, response: Response) -> Response:
        self._release(request)
        return super().process_response(request, response)

    def process_exception(self, request: Request, exception: Exception) -> None:
        self._release(request)
