"""Each host's pace kept for the whole fleet (chalco_crawler.fleet): the politeness middleware
of a worker asks Redis for its host's turn, so that N workers press a host no harder than
one would. While Redis does not answer, a request waits for it (the scheduler gives the
crawl up after FLEET_RETRY_SECONDS)."""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import random
import uuid
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import redis
from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response

from chalco_crawler.fleet import FIRST_BACKOFF
from chalco_crawler.politeness import PolitenessMiddleware
from chalco_crawler.session import CrawlSession

FLEET_TOKEN = "fleet_token"


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
        self.session = CrawlSession.of(crawler)
        fleet = self.session.fleet
        assert fleet is not None, "FleetPolitenessMiddleware needs FLEET_REDIS_URL"
        self.fleet = fleet
        settings = crawler.settings
        self.delay = settings.getfloat("FLEET_HOST_DELAY", 1.0)
        self.jitter = settings.getfloat("DOWNLOAD_DELAY_JITTER", 0.5)
        self.concurrency = settings.getint("CONCURRENT_REQUESTS_PER_DOMAIN", 2)
        # A token left by a killed worker frees its host's place after this long.
        self.hold = settings.getfloat("DOWNLOAD_TIMEOUT", 30) + 30
        self._lines: dict[str, HostLine] = {}
        # Whatever becomes of the response after the downloader (a middleware nearer the
        # downloader that raises skips this one's process_response), the host's place is
        # given back when the request leaves the downloader.
        crawler.signals.connect(self._left_downloader, signal=signals.request_left_downloader)

    async def process_request(self, request: Request) -> None:
        await super().process_request(request)
        host = urlsplit(request.url).netloc
        delay = max(self.delay, self.crawl_delay.get(host, 0.0))
        delay *= random.uniform(1 - self.jitter, 1 + self.jitter) if self.jitter else 1
        token = uuid.uuid4().hex
        async with self._line(host).turn(request.priority):
            while (wait := self._turn(host, delay, token)) > 0:
                await asyncio.sleep(wait)
        request.meta[FLEET_TOKEN] = token

    def _turn(self, host: str, delay: float, token: str) -> float:
        """0 to go now, else the seconds to wait (for the host, or for Redis to answer)."""
        report = self.session.fleet_report
        if report is not None and report.unreachable is not None:
            raise IgnoreRequest(f"not fetched: {report.unreachable}")
        if self.fleet.away:
            return FIRST_BACKOFF
        try:
            return self.fleet.acquire_host(host, delay, self.concurrency, token, self.hold)
        except redis.RedisError as error:
            self.fleet.unreachable(error)
            return FIRST_BACKOFF

    def _line(self, host: str) -> HostLine:
        if host not in self._lines:
            self._lines[host] = HostLine()
        return self._lines[host]

    def _release(self, request: Request) -> None:
        token = request.meta.pop(FLEET_TOKEN, None)
        if token is not None and not self.fleet.away:
            try:
                self.fleet.release_host(urlsplit(request.url).netloc, token)
            except redis.RedisError as error:
                self.fleet.unreachable(error)  # the token lapses on its own

    def _left_downloader(self, request: Request, spider: object) -> None:
        self._release(request)

    def process_response(self, request: Request, response: Response) -> Response:
        self._release(request)
        return super().process_response(request, response)

    def process_exception(self, request: Request, exception: Exception) -> None:
        self._release(request)
