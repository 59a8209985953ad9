"""Article pages: the request for a listed link, the redirects followed by hand, and the page
handed on as an item (or a sighting, when the site has removed it)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import scrapy
from scrapy.http import Response

from chalco_crawler.discovery import docid_of
from chalco_crawler.items import ArticlePageItem, ArticleSeenItem
from chalco_crawler.middlewares import CAPTURE_META_KEY
from chalco_crawler.spiders.news.failures import FailureReports
from chalco_crawler.spooled import page_body

REDIRECT_STATUSES = (301, 302, 303, 307, 308)
# A page the site has removed: a finished fact (a dead link, or an archived article gone),
# never a failure that a rerun may fix.
MISSING_STATUSES = (404, 410)


class ArticlePages(FailureReports):
    """Fetching an article page, whichever way its link was found."""

    def _article_request(
        self, url: str, site: str, section: str | None, list_url: str | None, chain: list[str]
    ) -> scrapy.Request:
        return scrapy.Request(
            url,
            callback=self.parse_article,
            errback=self.request_failed,
            cb_kwargs={"site": site, "section": section, "list_url": list_url, "chain": chain},
            # Redirects are followed here, not by Scrapy: a loop or a hop off the configured
            # hosts then becomes a failure with its reason instead of a silent drop.
            meta={
                "dont_redirect": True,
                "handle_httpstatus_list": [*REDIRECT_STATUSES, *MISSING_STATUSES],
            },
            dont_filter=bool(chain),
        )

    def parse_article(
        self,
        response: Response,
        site: str,
        section: str | None,
        list_url: str | None,
        chain: list[str] | None = None,
    ) -> Iterator[ArticlePageItem | scrapy.Request]:
        chain = chain or []
        if response.status in REDIRECT_STATUSES:
            yield from self._follow_redirect(response, site, section, list_url, chain)
            return
        if self._challenged(response):
            return  # archived as a capture; the article is asked again by the next crawl
        capture = response.meta[CAPTURE_META_KEY]
        redirects = chain or response.meta.get("redirect_urls")
        if response.status in MISSING_STATUSES:
            # Gone if it is an archived article (the storage stage tells), else a dead link.
            yield ArticleSeenItem(
                url=response.url,
                status=response.status,
                capture_id=capture.id,
                seen_at=datetime.now(UTC),
                requested_url=redirects[0] if redirects else None,
            )
            return
        yield ArticlePageItem(
            site=site,
            requested_url=redirects[0] if redirects else response.request.url,
            final_url=response.url,
            status=response.status,
            content_type=response.headers.get("Content-Type", b"").decode("latin-1") or None,
            # An oversize payload is not handed on: the pipelines flag the page unread.
            body=b"" if capture.oversize else page_body(response, self._page_limit(response)),
            fetched_at=datetime.now(UTC),
            capture_id=capture.id,
            section=section,
            list_url=list_url,
            docid=docid_of(response.url, self.sites[site].profile),
            oversize=capture.oversize,
        )

    def _page_limit(self, response: Response) -> int:
        return int(response.meta.get("download_maxsize", self.settings.getint("DOWNLOAD_MAXSIZE")))

    def _follow_redirect(
        self,
        response: Response,
        site: str,
        section: str | None,
        list_url: str | None,
        chain: list[str],
    ) -> Iterator[scrapy.Request]:
        location = response.headers.get("Location", b"").decode("latin-1")
        chain = [*chain, response.url]
        if not location:
            self._failed(chain[0], f"HTTP {response.status} without a Location")
            return
        target = response.urljoin(location)
        if not self.allows(target):
            self._failed(chain[0], f"redirected off the configured hosts to {target}")
        elif target in chain:
            self._failed(chain[0], f"redirect loop: {' -> '.join([*chain, target])}")
        elif len(chain) >= self.settings.getint("REDIRECT_MAX_TIMES", 10):
            self._failed(chain[0], f"more than {len(chain)} redirects")
        else:
            yield self._article_request(target, site, section, list_url, chain)
