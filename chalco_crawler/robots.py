"""Scrapy's robots.txt middleware, with every request waiting for the parse getting it, and
no crawl of a host whose robots.txt got no answer.

Under the asyncio reactor, Scrapy 2.19's RobotsTxtMiddleware hands the robots.txt parser
to the first request that waited for it and None ("no rules") to the others: turning a
Twisted Deferred into an asyncio Future consumes its result. The requests that reach a host
before its robots.txt is parsed (several at once for a worker joining a running fleet, or
for a host that only serves attachments) would then ignore its rules.

Scrapy crawls a host as if it had no rules when its robots.txt cannot be downloaded at all.
Here a one-process crawl does not crawl such a host: its rules are unknown (as search
engines do), and a host that gives no answer to robots.txt gives none to the home page
either. (A worker of a distributed crawl goes on as Scrapy does: see _robots_error.)

robots.txt is the first request to a host, so it also gets a short budget
(ROBOTSTXT_TIMEOUT, one retry): a site that accepts connections and never answers ends the
crawl in seconds, not minutes. A robots.txt larger than ROBOTSTXT_MAXSIZE (500 KiB, Google's
limit) is read up to it, as search engines read it, instead of refused by the page size limit
(which made the whole site unreachable).
"""

from __future__ import annotations

from typing import Any

from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware as ScrapyRobotsTxt
from scrapy.exceptions import IgnoreRequest
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.defer import Deferred

from chalco_crawler.download_errors import describe


class RobotsTxtUnreachable(IgnoreRequest):
    """A request to a host whose robots.txt got no answer."""


class RobotsTxtMiddleware(ScrapyRobotsTxt):
    def __init__(self, crawler: Crawler):
        super().__init__(crawler)
        self._budget = {
            "download_timeout": crawler.settings.getfloat("ROBOTSTXT_TIMEOUT"),
            "max_retry_times": crawler.settings.getint("ROBOTSTXT_RETRY_TIMES"),
            # Read up to the limit and no further, whatever its size: never refused whole
            # (chalco_crawler/download.py cuts it at a line break).
            "download_maxsize": 0,
            "download_truncate_at": crawler.settings.getint("ROBOTSTXT_MAXSIZE", 500 * 1024),
        }
        self._unreachable: dict[str, str] = {}
        """Why each host's robots.txt could not be downloaded, by netloc."""

    async def process_request(self, request: Request, spider: Spider | None = None) -> None:
        url = urlparse_cached(request)
        if request.meta.get("dont_obey_robotstxt"):
            if url.path == "/robots.txt":
                for key, value in self._budget.items():
                    request.meta.setdefault(key, value)
            return
        await super().process_request(request)
        if url.netloc in self._unreachable:
            raise RobotsTxtUnreachable(
                f"{url.netloc}/robots.txt got no answer ({self._unreachable[url.netloc]})"
            )

    def _robots_error(self, exc: Exception, netloc: str) -> None:
        # Not for a worker of a distributed crawl: the fleet's queue and duplicate filter are
        # shared, and a worker failing at once every request it takes would lose them for
        # the whole fleet while the other workers may well reach the host. It crawls as
        # Scrapy does, with no rules.
        shared = getattr(self.crawler.spider, "shared_frontier", False)
        if not isinstance(exc, IgnoreRequest) and not shared:
            self._unreachable[netloc] = describe(exc)
        super()._robots_error(exc, netloc)

    async def robot_parser(self, request: Request) -> Any:
        pending = self._parsers.get(urlparse_cached(request).netloc)
        if not isinstance(pending, Deferred):
            return await super().robot_parser(request)
        # Wait on a Deferred of our own, fed from the shared one without consuming it.
        waiter: Deferred[Any] = Deferred()

        def relay(result: Any) -> Any:
            waiter.callback(result)
            return result

        pending.addBoth(relay)
        return await maybe_deferred_to_future(waiter)
