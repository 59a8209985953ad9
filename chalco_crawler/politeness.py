"""Politeness and backoff: retries wait (Retry-After, else exponential backoff), robots.txt's
Crawl-delay spaces the requests to each host (Scrapy itself ignores it), and nothing is
requested outside the configured sites' host and port."""

from __future__ import annotations

import asyncio
import email.utils
import time
from datetime import UTC, datetime
from urllib.parse import urlsplit

from protego import Protego
from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from scrapy.utils.response import response_status_message

from chalco_crawler.stop_signal import STOP

# request.meta key: do not send before this time.time().
NOT_BEFORE = "not_before"


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """Retry-After as seconds: either a number of seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    current = datetime.fromtimestamp(now if now is not None else time.time(), UTC)
    return max(0.0, (when - current).total_seconds())


class BackoffRetryMiddleware(RetryMiddleware):
    """Scrapy's retries, spaced out: a 429/503 waits as long as its Retry-After says (up to
    RETRY_AFTER_MAX, beyond which the URL is given up), other retries back off
    exponentially from RETRY_BACKOFF_BASE seconds."""

    def __init__(self, settings):  # type: ignore[no-untyped-def]
        super().__init__(settings)
        self.backoff_base = settings.getfloat("RETRY_BACKOFF_BASE", 1.0)
        self.backoff_max = settings.getfloat("RETRY_BACKOFF_MAX", 60.0)
        self.retry_after_max = settings.getfloat("RETRY_AFTER_MAX", 300.0)

    def _delay(self, request: Request) -> float:
        if request.url.endswith("/robots.txt"):
            return 0.0  # every other request waits on it: an unreachable site shows at once
        tries = request.meta.get("retry_times", 0)
        return min(self.backoff_max, self.backoff_base * 2**tries)

    def _later(self, request: Request, retry: Request | None, delay: float) -> Request | None:
        if retry is not None:
            retry.meta[NOT_BEFORE] = time.time() + delay
        return retry

    def process_response(  # type: ignore[override]
        self, request: Request, response: Response
    ) -> Request | Response:
        if (
            request.meta.get("dont_retry", False)
            or response.status not in self.retry_http_codes
            or STOP.stopping  # told to stop: a retry would only hold the stop up
        ):
            return response
        reason = response_status_message(response.status)
        wait = retry_after_seconds((response.headers.get("Retry-After") or b"").decode("latin-1"))
        if wait is not None and wait > self.retry_after_max:
            return response  # the server asks for more patience than a crawl has: give up
        delay = wait if wait is not None else self._delay(request)
        return self._later(request, self._retry(request, reason), delay) or response

    def process_exception(  # type: ignore[override]
        self, request: Request, exception: Exception
    ) -> Request | Response | None:
        if (
            isinstance(exception, self.exceptions_to_retry)
            and not request.meta.get("dont_retry", False)
            and not STOP.stopping
        ):
            return self._later(request, self._retry(request, exception), self._delay(request))
        return None


class PolitenessMiddleware:
    """Holds each request until its host's Crawl-delay has passed since the previous one,
    and until any retry delay (`not_before`) is over."""

    def __init__(self, crawler: Crawler, user_agent: str, max_crawl_delay: float):
        self.crawler = crawler
        self.user_agent = user_agent
        self.max_crawl_delay = max_crawl_delay
        self.crawl_delay: dict[str, float] = {}
        self._next_allowed: dict[str, float] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> PolitenessMiddleware:
        settings = crawler.settings
        return cls(
            crawler, settings.get("USER_AGENT") or "*", settings.getfloat("CRAWL_DELAY_MAX", 60.0)
        )

    async def process_request(self, request: Request) -> None:
        allows = getattr(self.crawler.spider, "allows", None)
        if allows is not None and not allows(request.url):
            # Same wording as Scrapy's own host filter: policy, not failure.
            raise IgnoreRequest(f"Filtered offsite request to {urlsplit(request.url).netloc!r}")
        now = time.time()
        ready = request.meta.get(NOT_BEFORE, now)
        host = urlsplit(request.url).netloc
        delay = self.crawl_delay.get(host)
        if delay and not request.url.endswith("/robots.txt"):
            ready = max(ready, self._next_allowed.get(host, now))
            self._next_allowed[host] = max(ready, now) + delay
        if ready > now:
            await asyncio.sleep(ready - now)

    def process_response(self, request: Request, response: Response) -> Response:
        if urlsplit(request.url).path == "/robots.txt" and response.status == 200:
            robots = Protego.parse(response.text if hasattr(response, "text") else "")
            delay = robots.crawl_delay(self.user_agent)
            if delay:
                host = urlsplit(request.url).netloc
                self.crawl_delay[host] = min(float(delay), self.max_crawl_delay)
        return response
