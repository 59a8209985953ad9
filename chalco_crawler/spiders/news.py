"""The news spider: home page → news sections → every list page → every article, once each.

It discovers and fetches; reading the pages is the pipelines' work.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import scrapy
from protego import Protego
from scrapy.exceptions import CloseSpider, IgnoreRequest
from scrapy.http import Response
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from archive.frontier import (
    ArchivedUrl,
    known_listed_urls,
    last_robots_txt,
    open_frontier_session,
    revisit_targets,
)
from archive.home import ArchiveHome
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
from chalco_crawler.items import ArticlePageItem, ArticleSeenItem, ListedLink, ListPageItem
from chalco_crawler.middlewares import CAPTURE_META_KEY
from chalco_crawler.profile import DEFAULT_SITE, load_profile
from chalco_crawler.session import UNREACHABLE_REASON

# The home page decides whether the site is reachable: fail fast rather than retry for minutes.
HOME_REQUEST_META = {"max_retry_times": 1, "download_timeout": 20}
MODES = ("incremental", "full", "revisit")


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
        mode: str = "incremental",
        overlap: int | str = 1,
        revisit_days: float | str | None = None,
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
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
        self.mode = mode
        # Incremental: stop a section after this many list pages in a row with nothing new.
        self.overlap = max(1, int(overlap))
        self.revisit_days = float(revisit_days) if revisit_days not in (None, "") else None
        self.known: set[str] = set()
        # Last crawl's robots.txt: a link it forbids is never fetched, so it is nothing new.
        self.robots: Protego | None = None
        self.revisits: list[ArchivedUrl] = []

    # Start: the home page ------------------------------------------------------------------

    async def start(self) -> AsyncIterator[scrapy.Request]:
        self._read_frontier()
        yield scrapy.Request(
            self.base_url,
            callback=self.parse_home,
            errback=self.home_unreachable,
            meta=dict(HOME_REQUEST_META),
            dont_filter=True,
        )

    def _read_frontier(self) -> None:
        """What the archive holds already: the URLs an incremental crawl skips, or the URLs a
        revisit re-requests."""
        home = ArchiveHome.at(self.settings.get("ARCHIVE_HOME"))
        session = open_frontier_session(home)
        if session is None:
            return
        try:
            if self.mode == "incremental":
                self.known = known_listed_urls(session, self.site_name)
                robots = last_robots_txt(session, home, self.base_url)
                if robots is not None:
                    self.robots = Protego.parse(robots)
            elif self.mode == "revisit":
                since = None
                if self.revisit_days is not None:
                    since = datetime.now(UTC) - timedelta(days=self.revisit_days)
                self.revisits = revisit_targets(session, self.site_name, since)
        finally:
            bind = session.get_bind()
            session.close()
            bind.dispose()  # type: ignore[union-attr]
        self.logger.info(
            "frontier: %d known URLs, %d to revisit", len(self.known), len(self.revisits)
        )

    def home_unreachable(self, failure: Failure) -> None:
        reason = _failure_reason(failure)
        self._failed(self.base_url, f"site unreachable: {reason}")
        raise CloseSpider(UNREACHABLE_REASON)

    def parse_home(self, response: Response) -> Iterator[scrapy.Request]:
        if self.mode == "revisit":
            yield from self._revisit_requests()
            return
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

    def _list_request(
        self, section: Section, page: int, pages: int | None = None, quiet: int = 0
    ) -> scrapy.Request:
        return scrapy.Request(
            list_page_url(self.base_url, section.path, page),
            callback=self.parse_list,
            errback=self.request_failed,
            cb_kwargs={"section": section, "page": page, "pages": pages, "quiet": quiet},
            # Without a pager script, the walk steps on until the site answers 404 past the
            # last page: that ends it, it is no error.
            meta={"handle_httpstatus_list": [404]} if page and pages is None else {},
        )

    def parse_list(
        self, response: Response, section: Section, page: int, pages: int | None, quiet: int
    ) -> Iterator[ListPageItem | scrapy.Request]:
        if response.status == 404:
            return
        articles = listed_articles(response, response.url, self.profile)
        if page == 0:
            pages = page_count(response.text)
            if not articles:
                self.logger.warning("no articles listed on %s", response.url)
        yield ListPageItem(
            site=self.site_name,
            section=section.path,
            section_name=section.name,
            list_url=response.url,
            links=[ListedLink(listed.url, listed.title) for listed in articles],
            seen_at=datetime.now(UTC),
        )
        fresh = [listed for listed in articles if self._is_new(listed.url)]
        for listed in fresh:
            yield scrapy.Request(
                listed.url,
                callback=self.parse_article,
                errback=self.request_failed,
                cb_kwargs={"section": section.path, "list_url": response.url},
            )
        yield from self._next_list_pages(section, page, pages, quiet, bool(articles), bool(fresh))

    def _is_new(self, url: str) -> bool:
        if url in self.known:
            return False
        user_agent = self.settings.get("USER_AGENT") or "*"
        return self.robots is None or self.robots.can_fetch(url, user_agent)

    def _next_list_pages(
        self,
        section: Section,
        page: int,
        pages: int | None,
        quiet: int,
        listed: bool,
        fresh: bool,
    ) -> Iterator[scrapy.Request]:
        """Full: every page (all at once when the pager gives the count). Incremental: page
        after page, newest first, until `overlap` pages in a row hold nothing new."""
        if self.mode == "full" and pages is not None:
            if page == 0:
                for number in range(1, pages):
                    yield self._list_request(section, number, pages)
            return
        quiet = 0 if fresh or self.mode == "full" else quiet + 1
        if quiet >= self.overlap or not listed or (pages is not None and page + 1 >= pages):
            return
        yield self._list_request(section, page + 1, pages, quiet)

    # Articles ------------------------------------------------------------------------------

    def parse_article(
        self, response: Response, section: str | None, list_url: str | None
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

    # Revisits ------------------------------------------------------------------------------

    def _revisit_requests(self) -> Iterator[scrapy.Request]:
        for target in self.revisits:
            headers = {}
            if target.etag:
                headers["If-None-Match"] = target.etag
            if target.last_modified:
                headers["If-Modified-Since"] = target.last_modified
            if headers:
                self.crawler.stats.inc_value("revisit/conditional")
            yield scrapy.Request(
                target.url,
                headers=headers,
                callback=self.parse_revisit,
                errback=self.request_failed,
                cb_kwargs={"kind": target.kind},
                meta={"handle_httpstatus_list": [304, 404, 410]},
                dont_filter=True,
            )

    def parse_revisit(
        self, response: Response, kind: str
    ) -> Iterator[ArticlePageItem | ArticleSeenItem]:
        self.crawler.stats.inc_value(f"revisit/status_{response.status}")
        if kind != "article":
            if response.status in (404, 410):
                self._failed(response.url, f"HTTP {response.status} on revisit")
            return  # the capture itself is the record of a file's revisit
        if response.status == 200:
            yield from self.parse_article(response, section=None, list_url=None)
            return
        yield ArticleSeenItem(
            url=response.url,
            status=response.status,
            capture_id=response.meta[CAPTURE_META_KEY].id,
            seen_at=datetime.now(UTC),
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
