"""The walk: a site's news sections (from its home page or its news roots), their list pages
newest first, and the article links on them that are new to the archive."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import scrapy
from scrapy.http import Response

from chalco_crawler.discovery import (
    Section,
    discover_sections,
    list_page_url,
    listed_articles,
    page_count,
    section_labels,
    section_path,
    section_url,
)
from chalco_crawler.items import ListedLink, ListPageItem
from chalco_crawler.middlewares import CAPTURE_META_KEY
from chalco_crawler.spiders.news.articles import ArticlePages
from chalco_crawler.spiders.news.sites import SiteTarget
from chalco_crawler.spooled import page_body, slim_response

# List pages go before articles: the walk finds the work early, and each host always has
# articles queued while the next list page is fetched (queues are shared by priority).
LIST_PRIORITY = 10


class ListWalk(ArticlePages):
    """`--mode incremental` and `full`: sections, list pages and the articles they list."""

    def _section_requests(self, response: Response, target: SiteTarget) -> Iterator[scrapy.Request]:
        """The first list page of each section: those asked for (`--sections`), else those
        the home page's navigation shows, else the news roots' pages are asked for theirs."""
        site = target.name
        profile = target.profile
        discovered = {s.path: s for s in discover_sections(response, response.url, profile)}
        names = {p: Section(p, n) for p, n in section_labels(response, response.url).items()}
        if self.requested_sections:
            sections = [names.get(p, Section(p, None)) for p in self.requested_sections]
        elif discovered:
            extra = [section_path(p) for p in profile.extra_sections]
            sections = list(discovered.values()) + [names.get(p, Section(p, None)) for p in extra]
        else:
            # No news children in the navigation: look on the news roots' own pages.
            for root in profile.news_roots:
                yield scrapy.Request(
                    section_url(target.base_url, root),
                    callback=self.parse_news_root,
                    errback=self.request_failed,
                    cb_kwargs={"site": site},
                    priority=LIST_PRIORITY,
                )
            return
        self.logger.info("%s sections: %s", site, ", ".join(s.path for s in sections))
        for section in sections:
            yield self._list_request(site, section, 0)

    def _unarchived_requests(self, target: SiteTarget) -> Iterator[scrapy.Request]:
        """Links an earlier crawl listed and could not archive (a 5xx, a timeout, a stop):
        the walk may end before the list page that shows them."""
        for listing in target.unarchived:
            if self._is_new(target, listing.url):
                self.crawler.stats.inc_value("crawl/unarchived_asked_again")
                yield self._article_request(
                    listing.url, target.name, listing.section, listing.list_url, []
                )

    def parse_news_root(self, response: Response, site: str) -> Iterator[scrapy.Request]:
        if self._challenged(response):
            return
        profile = self.sites[site].profile
        sections = discover_sections(response, response.url, profile)
        if not sections:
            self.logger.warning("%s: no news sections found; using the fallback list", site)
            paths = profile.fallback_sections + profile.extra_sections
            sections = [Section(section_path(p), None) for p in paths]
        for section in sections:
            yield self._list_request(site, section, 0)

    def _list_request(
        self, site: str, section: Section, page: int, pages: int | None = None, quiet: int = 0
    ) -> scrapy.Request:
        return scrapy.Request(
            list_page_url(self.sites[site].base_url, section.path, page),
            callback=self.parse_list,
            errback=self.request_failed,
            priority=LIST_PRIORITY,
            cb_kwargs={
                "site": site,
                "section": section,
                "page": page,
                "pages": pages,
                "quiet": quiet,
            },
            # Without a pager script, the walk steps on until the site answers 404 past the
            # last page: that ends it, it is no error.
            meta={"handle_httpstatus_list": [404]} if page and pages is None else {},
        )

    def parse_list(
        self,
        response: Response,
        site: str,
        section: Section,
        page: int,
        pages: int | None,
        quiet: int,
    ) -> Iterator[ListPageItem | scrapy.Request]:
        if response.status == 404 or self._challenged(response):
            return
        if response.meta[CAPTURE_META_KEY].oversize:
            return  # archived as it came and listed as oversize; a bomb has no links to read
        response = slim_response(response, page_body(response, self._page_limit(response)))
        target = self.sites[site]
        articles = listed_articles(response, response.url, target.profile)
        if page == 0:
            pages = page_count(response.text)
            if not articles:
                self.logger.warning("no articles listed on %s", response.url)
        yield ListPageItem(
            site=site,
            section=section.path,
            section_name=section.name,
            list_url=response.url,
            links=[ListedLink(listed.url, listed.title) for listed in articles],
            seen_at=datetime.now(UTC),
        )
        fresh = [listed for listed in articles if self._is_new(target, listed.url)]
        for listed in fresh:
            yield self._article_request(listed.url, site, section.path, response.url, [])
        yield from self._next_list_pages(
            site, section, page, pages, quiet, bool(articles), bool(fresh)
        )

    def _is_new(self, target: SiteTarget, url: str) -> bool:
        if url in target.known:
            return False
        user_agent = self.settings.get("USER_AGENT") or "*"
        return target.robots is None or target.robots.can_fetch(url, user_agent)

    def _next_list_pages(
        self,
        site: str,
        section: Section,
        page: int,
        pages: int | None,
        quiet: int,
        listed: bool,
        fresh: bool,
    ) -> Iterator[scrapy.Request]:
        """Full: every page (all at once when the pager gives the count). Incremental: page
        after page, newest first, until `overlap` pages in a row hold nothing new."""
        cap = self.settings.getint("MAX_LIST_PAGES", 2000)
        if page == 0 and pages is not None and pages > cap:
            self._failed(
                list_page_url(self.sites[site].base_url, section.path, 0),
                f"pager claims {pages} list pages; walking the first {cap} (MAX_LIST_PAGES)",
            )
            pages = cap
        every_page = self.mode == "full" or self.sites[site].walk_every_page
        if every_page and pages is not None:
            if page == 0:
                for number in range(1, pages):
                    yield self._list_request(site, section, number, pages)
            return
        if pages is None and page + 1 >= cap:
            self._failed(
                list_page_url(self.sites[site].base_url, section.path, page),
                f"stopped after {cap} list pages (MAX_LIST_PAGES)",
            )
            return
        quiet = 0 if fresh or every_page else quiet + 1
        if quiet >= self.overlap or not listed or (pages is not None and page + 1 >= pages):
            return
        yield self._list_request(site, section, page + 1, pages, quiet)
