"""Revisits: archived articles and files asked again with their validators (ETag,
Last-Modified), answered unchanged (304), changed, or gone."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import scrapy
from scrapy.http import Response

from chalco_crawler.items import ArticlePageItem, ArticleSeenItem, FileSeenItem
from chalco_crawler.middlewares import CAPTURE_META_KEY
from chalco_crawler.spiders.news.articles import MISSING_STATUSES, ArticlePages
from chalco_crawler.spiders.news.sites import SiteTarget


class Revisits(ArticlePages):
    """`--mode revisit`: what the archive holds, asked again instead of walking the lists."""

    def _revisit_requests(self, target: SiteTarget) -> Iterator[scrapy.Request]:
        for archived in target.revisits:
            headers = {}
            if archived.etag:
                headers["If-None-Match"] = archived.etag
            if archived.last_modified:
                headers["If-Modified-Since"] = archived.last_modified
            if headers:
                self.crawler.stats.inc_value("revisit/conditional")
            meta: dict[str, Any] = {"handle_httpstatus_list": [304, *MISSING_STATUSES]}
            if archived.kind != "article":  # files have their own, larger size limit
                meta["download_maxsize"] = self.settings.getint("ATTACHMENT_MAXSIZE")
            yield scrapy.Request(
                archived.url,
                headers=headers,
                callback=self.parse_revisit,
                errback=self.request_failed,
                # The URL as archived: Scrapy percent-encodes what it sends (附件.pdf).
                cb_kwargs={
                    "site": target.name,
                    "kind": archived.kind,
                    "archived_url": archived.url,
                },
                meta=meta,
                dont_filter=not self.shared_frontier,
            )

    def parse_revisit(
        self, response: Response, site: str, kind: str, archived_url: str | None = None
    ) -> Iterator[ArticlePageItem | ArticleSeenItem | FileSeenItem | scrapy.Request]:
        self.crawler.stats.inc_value(f"revisit/status_{response.status}")
        if self._challenged(response):
            return  # neither gone nor changed: the site did not show it
        capture = response.meta[CAPTURE_META_KEY]
        redirects = response.meta.get("redirect_urls")
        if kind != "article":
            if response.status in MISSING_STATUSES:
                self._dead(archived_url or response.url, f"HTTP {response.status} on revisit")
            elif capture.oversize and response.status == 200:
                pass  # listed as oversize; its bytes are not compared with the archived ones
            elif response.status in (200, 304) and not redirects:
                # Its bytes may have changed at the same URL: the storage stage compares. A
                # 304 stands for the newest capture's bytes, which a run killed before it
                # stored them has not compared yet.
                yield FileSeenItem(
                    url=archived_url or response.url,
                    capture_id=capture.id,
                    sha256=capture.content_sha256,
                    seen_at=datetime.now(UTC),
                )
            return
        if response.status == 200:
            yield from self.parse_article(response, site, section=None, list_url=None)
            return
        # Gone only on the article's own answer: after a redirect, the URL that answered.
        yield ArticleSeenItem(
            url=response.url,
            status=response.status,
            capture_id=capture.id,
            seen_at=datetime.now(UTC),
            requested_url=(archived_url or redirects[0]) if redirects else None,
        )
