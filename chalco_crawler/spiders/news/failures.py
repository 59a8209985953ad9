"""What the news spider reports instead of items: failures a rerun may fix, dead links and
challenge pages, each as a project signal the crawl session records."""

from __future__ import annotations

from scrapy.exceptions import CloseSpider, IgnoreRequest
from scrapy.http import Response
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from chalco_crawler import signals as project_signals
from chalco_crawler.challenge import detect_challenge
from chalco_crawler.download_errors import describe
from chalco_crawler.robots import RobotsTxtUnreachable
from chalco_crawler.session import UNREACHABLE_REASON, is_policy_refusal
from chalco_crawler.spiders.news.sites import SiteGroupSpider


def failure_reason(failure: Failure) -> str:
    if failure.check(HttpError):
        return f"HTTP {failure.value.response.status}"
    if failure.check(RobotsTxtUnreachable):
        return str(failure.value)
    return describe(failure.value)


class FailureReports(SiteGroupSpider):
    """The errbacks, and the reports every callback makes."""

    _unreachable: set[str]
    """Sites whose home page did not answer; when it is every site, the crawl closes."""

    def home_unreachable(self, failure: Failure) -> None:
        if failure.check(HttpError) and self._challenged(failure.value.response):
            return  # it answered, with a challenge page: nothing more of the site this run
        site = failure.request.cb_kwargs["site"]
        reason = failure_reason(failure)
        base_url = self.sites[site].base_url
        if failure.check(HttpError) and failure.value.response.url != base_url:
            reason += f" from {failure.value.response.url}"  # the home page redirected there
        self._failed(base_url, f"site unreachable: {reason}")
        self._unreachable.add(site)
        if self._unreachable == set(self.sites):
            raise CloseSpider(UNREACHABLE_REASON)

    def request_failed(self, failure: Failure) -> None:
        if failure.check(HttpError) and self._challenged(failure.value.response):
            return
        request = failure.request
        if failure.check(IgnoreRequest) and not failure.check(HttpError):
            if is_policy_refusal(failure.value) and not request.meta.get("redirect_urls"):
                # robots.txt or the host filter said no to a link: policy, not failure.
                self.crawler.stats.inc_value("crawl/ignored")
                return
            if request.meta.get("redirect_urls"):
                # A listed page that redirects off the configured hosts is not archived.
                origin = request.meta["redirect_urls"][0]
                self._failed(origin, f"redirected to {request.url}: {failure.value}")
                return
        self._failed(request.url, failure_reason(failure))

    def _challenged(self, response: Response) -> bool:
        """Is the response a challenge page (chalco_crawler/challenge.py)? Then it is
        reported once and goes no further than its capture."""
        content_type = response.headers.get("Content-Type", b"").decode("latin-1") or None
        challenge = detect_challenge(response.status, content_type, response.body)
        if challenge is None:
            return False
        self.logger.warning("challenge page: %s (%s)", response.url, challenge.reason)
        self.crawler.signals.send_catch_log(
            project_signals.challenge_seen,
            url=response.url,
            status=response.status,
            reason=challenge.reason,
        )
        return True

    def _dead(self, url: str, reason: str) -> None:
        self.crawler.signals.send_catch_log(project_signals.dead_link, url=url, reason=reason)

    def _failed(self, url: str, reason: str) -> None:
        self.logger.warning("failed: %s (%s)", url, reason)
        self.crawler.signals.send_catch_log(project_signals.fetch_failed, url=url, reason=reason)
