"""The news spider: home page → news sections → every list page → every article, once each.

It discovers and fetches; reading the pages is the pipelines' work.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import scrapy
from scrapy.exceptions import CloseSpider, IgnoreRequest
from scrapy.http import Response
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from chalco_crawler import signals as project_signals
from chalco_crawler.discovery import (
    Section,
    discover_sections,
    docid_of,
    list_page_url,
    listed_articles,
    page_count,
    section_labels,
    section_path,
    section_url,
)
from chalco_crawler.items import ArticlePageItem, ListedLink, ListPageItem
from chalco_crawler.middlewares import CAPTURE_META_KEY
from chalco_crawler.profile import DEFAULT_SITE, load_profile
from chalco_crawler.session import UNREACHABLE_REASON

# The home page decides whether the site is reachable: fail fast rather than retry for minutes.
HOME_REQUEST_META = {"max_retry_times": 1, "download_timeout": 20}


def _failure_reason(failure: Failure) -> str:
    if failure.check(HttpError):
        return f"HTTP {failure.value.response.status}"
    return f"{type(failure.value).__name__}: {failure.value}".strip().rstrip(":")


class NewsSpider(scrapy.Spider):
    name = "news"

    def __init__(
        self,
        site: str = DEFAULT_SITE,
        base_url: str | None = None,
        sections: str | list[str] | None = None,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        self.profile = load_profile(site)
        self.site_name = self.profile.name
        self.base_url = (base_url or self.profile.base_url).rstrip("/") + "/"
        self.host = urlsplit(self.base_url).hostname or ""
        self.allowed_domains = [self.host]
        if isinstance(sections, str):
            sections = [s for s in sections.split(",") if s.strip()]
        self.requested_sections = [section_path(s) for s in sections or []]
        self.mode = "full"

    # Start: the home page ------------------------------------------------------------------

    async def start(self) -> AsyncIterator[scrapy.Request]:
        yield scrapy.Request(
            self.base_url,
            callback=self.parse_home,
            errback=self.home_unreachable,
            meta=dict(HOME_REQUEST_META),
            dont_filter=True,
        )

    def home_unreachable(self, failure: Failure) -> None:
        reason = _failure_reason(failure)
        self._failed(self.base_url, f"site unreachable: {reason}")
        raise CloseSpider(UNREACHABLE_REASON)

    def parse_home(self, response: Response) -> Iterator[scrapy.Request]:
        discovered = {s.path: s for s in discover_sections(response, response.url, self.profile)}
        names = {p: Section(p, n) for p, n in section_labels(response, response.url).items()}
        if self.requested_sections:
            sections = [names.get(p, Section(p, None)) for p in self.requested_sections]
        elif discovered:
            extra = [section_path(p) for p in self.profile.extra_sections]
            sections = list(discovered.values()) + [names.get(p, Section(p, None)) for p in extra]
        else:
            # No news children in the navigation: look on the news roots' own pages.
            for root in self.profile.news_roots:
                yield scrapy.Request(
                    section_url(self.base_url, root),
                    callback=self.parse_news_root,
                    errback=self.request_failed,
                )
            return
        self.logger.info("sections: %s", ", ".join(s.path for s in sections))
        for section in sections:
            yield self._list_request(section, 0)

    def parse_news_root(self, response: Response) -> Iterator[scrapy.Request]:
        sections = discover_sections(response, response.url, self.profile)
        if not sections:
            self.logger.warning("no news sections found; using the profile's fallback list")
            paths = self.profile.fallback_sections + self.profile.extra_sections
            sections = [Section(section_path(p), None) for p in paths]
        for section in sections:
            yield self._list_request(section, 0)

    # List pages ----------------------------------------------------------------------------

    def _list_request(self, section: Section, page: int, stepping: bool = False) -> scrapy.Request:
        return scrapy.Request(
            list_page_url(self.base_url, section.path, page),
            callback=self.parse_list,
            errback=self.request_failed,
            cb_kwargs={"section": section, "page": page, "stepping": stepping},
            # Past the last page a TRS site answers 404: that ends the walk, it is no error.
            meta={"handle_httpstatus_list": [404]} if stepping else {},
        )

    def parse_list(
        self, response: Response, section: Section, page: int, stepping: bool
    ) -> Iterator[ListPageItem | scrapy.Request]:
        if response.status == 404:
            return
        seen_at = datetime.now(UTC)
        articles = listed_articles(response, response.url, self.profile)
        if page == 0 and not articles:
            self.logger.warning("no articles listed on %s", response.url)
        yield ListPageItem(
            site=self.site_name,
            section=section.path,
            section_name=section.name,
            list_url=response.url,
            links=[ListedLink(listed.url, listed.title) for listed in articles],
            seen_at=seen_at,
        )
        for listed in articles:
            yield scrapy.Request(
                listed.url,
                callback=self.parse_article,
                errback=self.request_failed,
                cb_kwargs={"section": section.path, "list_url": response.url},
            )
        if page == 0:
            pages = page_count(response.text)
            if pages is not None:
                for number in range(1, pages):
                    yield self._list_request(section, number)
            elif articles:
                yield self._list_request(section, 1, stepping=True)
        elif stepping and articles:
            yield self._list_request(section, page + 1, stepping=True)

    # Articles ------------------------------------------------------------------------------

    def parse_article(
        self, response: Response, section: str, list_url: str
    ) -> Iterator[ArticlePageItem]:
        capture = response.meta[CAPTURE_META_KEY]
        yield ArticlePageItem(
            site=self.site_name,
            requested_url=response.request.url
            if not response.meta.get("redirect_urls")
            else response.meta["redirect_urls"][0],
            final_url=response.url,
            status=response.status,
            content_type=response.headers.get("Content-Type", b"").decode("latin-1") or None,
            body=response.body,
            fetched_at=datetime.now(UTC),
            capture_id=capture.id,
            section=section,
            list_url=list_url,
            docid=docid_of(response.url, self.profile),
        )

    # Failures ------------------------------------------------------------------------------

    def request_failed(self, failure: Failure) -> None:
        if failure.check(IgnoreRequest) and not failure.check(HttpError):
            # robots.txt or the off-site filter said no: policy, not failure.
            self.crawler.stats.inc_value("crawl/ignored")
            return
        self._failed(failure.request.url, _failure_reason(failure))

    def _failed(self, url: str, reason: str) -> None:
        self.logger.warning("failed: %s (%s)", url, reason)
        self.crawler.signals.send_catch_log(project_signals.fetch_failed, url=url, reason=reason)
