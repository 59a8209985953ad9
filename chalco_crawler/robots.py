"""Scrapy's robots.txt middleware, with every request waiting for the parse getting it.

Under the asyncio reactor, Scrapy 2.19's RobotsTxtMiddleware hands the robots.txt parser
to the first request that waited for it and None ("no rules") to the others: turning a
Twisted Deferred into an asyncio Future consumes its result. The requests that reach a host
before its robots.txt is parsed (several at once for a worker joining a running fleet, or
for a host that only serves attachments) would then ignore its rules.
"""

from __future__ import annotations

from typing import Any

from scrapy import Request
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware as ScrapyRobotsTxt
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.defer import Deferred


class RobotsTxtMiddleware(ScrapyRobotsTxt):
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
