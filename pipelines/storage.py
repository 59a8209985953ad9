"""Pipeline stage 4: write items into the archive. The one module that knows both the items
and the archive's API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem

from archive.store.writer.values import ArticleContent, FileLink
from chalco_crawler import signals as project_signals
from chalco_crawler.items import (
    ArticlePageItem,
    ArticleSeenItem,
    FetchedFile,
    FileSeenItem,
    ListPageItem,
)
from chalco_crawler.session import CrawlSession
from chalco_crawler.stop_signal import STOP
from pipelines.content import MAX_FILES_PER_PAGE, archive_content, extractor_version


def article_content(
    item: ArticlePageItem, extractor: str | None = None, max_files: int = MAX_FILES_PER_PAGE
) -> ArticleContent:
    """The archive's record of an article page, from the pipelines' fields."""
    assert item.article is not None and item.extraction is not None
    return archive_content(
        url=item.final_url,
        site=item.site,
        docid=item.docid,
        extraction=item.extraction,
        article=item.article,
        # As the attachments stage listed them (attachments, then images).
        files=[FileLink(f.url, f.role, f.name) for f in item.files],
        extractor_version=extractor,
        max_files=max_files,
    )


STOP_CHECK_FILES = 1000
"""Files of an article written between two looks at whether the crawl was told to stop."""


class StoragePipeline:
    def __init__(self, session: CrawlSession, crawler: Crawler | None = None):
        self.session = session
        self.writer = session.writer
        self.crawler = crawler
        settings = crawler.settings if crawler is not None else None
        self.max_files = (
            settings.getint("MAX_FILES_PER_PAGE", MAX_FILES_PER_PAGE) if settings else 500
        )
        self.stop_grace = settings.getfloat("DOWNLOAD_STOP_GRACE", 2.0) if settings else 2.0
        if crawler is not None:
            crawler.signals.connect(self._store_file, signal=project_signals.file_fetched)
        # Listed URL → the URL that answered, for articles reached through a redirect.
        self._final_url: dict[str, str] = {}
        # Article URL → what this run counted it as (new, updated, unchanged, gone): as of
        # the last commit, and since (dropped when a fleet worker's batch is lost).
        self._outcomes: dict[str, str] = {}
        self._outcomes_since_commit: dict[str, str] = {}
        self.writer.commit_listeners.append(self._committed)
        self.writer.reconnect_listeners.append(self._outcomes_since_commit.clear)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StoragePipeline:
        return cls(CrawlSession.of(crawler), crawler)

    def process_item(self, item: Any) -> Any:
        if isinstance(item, ListPageItem):
            self._store_list_page(item)
        elif isinstance(item, ArticlePageItem):
            self._store_article(item)
        elif isinstance(item, ArticleSeenItem):
            self._store_sighting(item)
        elif isinstance(item, FileSeenItem):
            self._store_file_sighting(item)
        return item

    def _store_list_page(self, item: ListPageItem) -> None:
        self.writer.note_listings(
            site=item.site,
            section=item.section,
            section_name=item.section_name,
            list_url=item.list_url,
            links=[
                (self._final_url.get(link.article_url, link.article_url), link.title_listed)
                for link in item.links
            ],
            seen_at=item.seen_at,
        )

    def _store_file(self, file: FetchedFile, seen_at: datetime) -> None:
        """A file's row as soon as it is fetched: a crawl stopped among a page's thousands
        of files keeps them (the article's own storing finds them written)."""
        self.writer.save_file(
            url=file.url,
            kind=file.role,
            seen_at=seen_at,
            capture_id=file.capture_id,
            status=file.status,
            sha256=file.sha256,
            size=file.size,
            media_type=file.media_type,
            problem=file.problem,
        )

    def _store_article(self, item: ArticlePageItem) -> None:
        if item.requested_url != item.final_url:
            self._final_url[item.requested_url] = item.final_url
            self.writer.move_listings(item.requested_url, item.final_url)
        for index, file in enumerate(item.files, 1):
            if index % STOP_CHECK_FILES == 0 and STOP.stopping_for(self.stop_grace):
                # Thousands of files to write: a stop must not wait for them.
                raise DropItem(
                    f"{item.final_url}: the crawl stopped while its files were written; the"
                    " next crawl reads it again"
                )
            self.writer.save_file(
                url=file.url,
                kind=file.role,
                seen_at=item.fetched_at,
                capture_id=file.capture_id,
                status=file.status,
                sha256=file.sha256,
                size=file.size,
                media_type=file.media_type,
                problem=file.problem,
            )
        outcome, _version = self.writer.save_article(
            article_content(item, self._extractor_version(item.site), self.max_files),
            item.capture_id,
            item.fetched_at,
        )
        flagged = item.extraction is not None and bool(item.extraction.problems)
        self._count(item.final_url, outcome, flagged)

    def _extractor_version(self, site: str) -> str | None:
        """Which extraction read the site's pages in this crawl (the profile's rules)."""
        spider = self.crawler.spider if self.crawler is not None else None
        if spider is None or not hasattr(spider, "profile_for"):
            return None
        return extractor_version(spider.profile_for(site))

    def _store_sighting(self, item: ArticleSeenItem) -> None:
        if item.status == 304:
            if self.writer.note_unchanged(item.url, item.capture_id, item.seen_at):
                self._count(item.url, "unchanged")
        elif self.writer.mark_gone(item.url, item.seen_at):
            self._count(item.url, "gone")
        else:
            # Not an archived article now gone (never archived, or gone already): a dead link.
            listed = item.requested_url or item.url
            where = f" at {item.url}" if listed != item.url else ""
            self.session.crawler.signals.send_catch_log(
                project_signals.dead_link, url=listed, reason=f"HTTP {item.status}{where}"
            )

    def _store_file_sighting(self, item: FileSeenItem) -> None:
        # Each article whose latest version named other bytes gets a version naming these.
        for article_url in self.writer.note_file_fetched(
            item.url, item.capture_id, item.sha256, item.seen_at
        ):
            self._count(article_url, "updated")

    def _count(self, article_url: str, outcome: str, flagged: bool = False) -> None:
        """Count each article once a run: a revisit may see its page unchanged (304) and a
        file it names changed, in either order; then it was updated."""
        previous = self._outcomes_since_commit.get(article_url, self._outcomes.get(article_url))
        if previous is None:
            self.session.count(outcome, flagged)
        elif previous == "unchanged" and outcome == "updated":
            self.session.recount("unchanged", "updated")
        else:
            return
        self._outcomes_since_commit[article_url] = outcome

    def _committed(self) -> None:
        self._outcomes.update(self._outcomes_since_commit)
        self._outcomes_since_commit.clear()

    def close_spider(self) -> None:
        self.writer.commit()
