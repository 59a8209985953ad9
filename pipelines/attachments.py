"""Pipeline stage 3: fetch every attachment and image an article names, once per URL.

Files go through the downloader like pages (robots.txt, throttling, retries, the WARC
middleware), so their bytes are archived the same way. A file already archived with its
bytes is not fetched again. Each file's row is written as soon as it is fetched (the
`file_fetched` signal, which the storage stage writes), not with its article: a crawl stopped
among a page's thousands of files keeps the ones it has, and the next crawl, which reads the
page again, fetches only the others.

A page naming more than MAX_FILES_PER_PAGE files has the first of them fetched; the rest are
named but not fetched (each with that reason; the page gets a problem, the run a line). When
the crawl is told to stop, an article's files are fetched for DOWNLOAD_STOP_GRACE seconds
more; those left then stay for the next crawl: the article is not stored (the next crawl
reads it again and fetches only those) and the stop is not held up by them.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import redis
from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem, IgnoreRequest

from archive.store.writer.values import FileRecord
from chalco_crawler import signals as project_signals
from chalco_crawler.challenge import detect_challenge
from chalco_crawler.discovery import same_host
from chalco_crawler.download_errors import describe
from chalco_crawler.items import ArticlePageItem, FetchedFile
from chalco_crawler.middlewares import CAPTURE_META_KEY
from chalco_crawler.session import CrawlSession, is_policy_refusal
from chalco_crawler.stop_signal import STOP
from pipelines.content import capped_file_problem

FILE_POLL_SECONDS = 0.2


class AttachmentsPipeline:
    def __init__(self, crawler: Crawler, session: CrawlSession, maxsize: int, max_files: int = 500):
        self.crawler = crawler
        self.session = session
        self.maxsize = maxsize
        self.max_files = max_files
        self.stop_grace = crawler.settings.getfloat("DOWNLOAD_STOP_GRACE", 2.0)
        # Distributed crawl: how long to wait for a file another worker is fetching.
        self.wait = crawler.settings.getfloat("DOWNLOAD_TIMEOUT", 30) * 4
        # One fetch per URL even when two articles name the same file at once.
        self._fetches: dict[str, asyncio.Future[FetchedFile]] = {}
        # A fleet worker's writer that reconnects loses its batch: the files fetched in it
        # are fetched again, with the article that names them, by whichever worker.
        self._claimed: set[str] = set()
        session.writer.reconnect_listeners.append(self._batch_lost)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> AttachmentsPipeline:
        settings = crawler.settings
        return cls(
            crawler,
            CrawlSession.of(crawler),
            settings.getint("ATTACHMENT_MAXSIZE"),
            settings.getint("MAX_FILES_PER_PAGE", 500),
        )

    async def process_item(self, item: Any) -> Any:
        if not isinstance(item, ArticlePageItem) or item.article is None:
            return item
        site_url = self.crawler.spider.base_url_of(item.site)  # type: ignore[union-attr]
        wanted = [(link, "attachment") for link in item.article.attachments]
        wanted += [(link, "image") for link in item.article.images]
        cap = self.max_files if 0 < self.max_files < len(wanted) else len(wanted)
        if cap < len(wanted):
            self.crawler.signals.send_catch_log(
                project_signals.files_capped, url=item.final_url, named=len(wanted), fetched=cap
            )
        files = []
        for index, (link, role) in enumerate(wanted):
            if index >= cap:
                problem = capped_file_problem(len(wanted), cap)
                files.append(FetchedFile(link.url, role, link.name, None, problem=problem))
            elif not same_host(link.url, site_url):
                files.append(
                    FetchedFile(link.url, role, link.name, None, problem="off-host: not fetched")
                )
            elif self._stopping():
                raise DropItem(
                    f"{item.final_url}: the crawl stopped after {index} of its {cap} files;"
                    " the next crawl reads it again and fetches the others"
                )
            else:
                fetched = await self._fetch_once(link.url, role)
                files.append(
                    FetchedFile(
                        url=link.url,
                        role=role,
                        name=link.name,
                        capture_id=fetched.capture_id,
                        status=fetched.status,
                        sha256=fetched.sha256,
                        size=fetched.size,
                        media_type=fetched.media_type,
                        problem=fetched.problem,
                    )
                )
                if fetched.capture_id is not None or fetched.problem:
                    self.crawler.signals.send_catch_log(
                        project_signals.file_fetched, file=files[-1], seen_at=item.fetched_at
                    )
        item.files = files
        return item

    def _stopping(self) -> bool:
        """Told to stop DOWNLOAD_STOP_GRACE seconds ago (an article's few files are fetched
        within it, and it is stored; a page of thousands is left for the next crawl), or
        closing for another reason (a full disk)."""
        engine = self.crawler.engine
        if STOP.stopping:
            return STOP.stopping_for(self.stop_grace)
        return engine is None or not engine.running

    async def _fetch_once(self, url: str, role: str) -> FetchedFile:
        if url not in self._fetches:
            future: asyncio.Future[FetchedFile] = asyncio.get_running_loop().create_future()
            self._fetches[url] = future
            try:
                future.set_result(await self._fetch(url, role))
            except BaseException as error:  # never leave waiters hanging
                future.set_exception(error)
                raise
        return await asyncio.shield(self._fetches[url])

    async def _fetch(self, url: str, role: str) -> FetchedFile:
        archived = self.session.writer.file_by_url(url)
        fleet = self.session.fleet
        if archived is None and fleet is not None and not self._claim(url):
            # Another worker of the fleet fetches this file: its row tells the outcome.
            archived = await self._file_saved_elsewhere(url)
        if archived is not None and (archived.sha256 is not None or fleet is not None):
            self.crawler.stats.inc_value("archive/files_known")
            return FetchedFile(
                url,
                role,
                None,
                archived.capture_id,
                archived.status,
                archived.sha256,
                archived.size,
                archived.media_type,
                problem=None if archived.sha256 else archived.problem,
            )
        # Files may be far larger than pages (annual reports): their own size limit.
        request = Request(url, meta={"archive_role": role, "download_maxsize": self.maxsize})
        try:
            response = await self.crawler.engine.download_async(request)
        except IgnoreRequest as error:
            reason = f"not fetched: {error or 'robots.txt'}"
            if not is_policy_refusal(error):  # e.g. a decompression bomb: worth a failure line
                self._report(url, reason)
            return FetchedFile(url, role, None, None, problem=reason)
        except Exception as error:  # network failure after retries: keep the reason
            reason = describe(error)
            self._report(url, reason)
            return FetchedFile(url, role, None, None, problem=reason)
        capture = response.meta.get(CAPTURE_META_KEY)
        if capture is not None and capture.oversize and response.status == 200:
            # Archived as it came and listed as oversize; its content is unknown.
            return FetchedFile(
                url, role, None, capture.id, status=200, problem=f"oversize: {capture.oversize}"
            )
        content_type = (response.headers.get("Content-Type") or b"").decode("latin-1") or None
        challenge = detect_challenge(response.status, content_type, response.body)
        if challenge is not None:
            # A captcha is not the file's bytes: archived as a capture only, fetched again
            # by the next crawl.
            self.crawler.signals.send_catch_log(
                project_signals.challenge_seen,
                url=url,
                status=response.status,
                reason=challenge.reason,
            )
            return FetchedFile(
                url,
                role,
                None,
                None,
                status=response.status,
                problem=f"challenge page: {challenge.reason}",
            )
        if capture is None or response.status != 200:
            reason = f"HTTP {response.status}"
            if response.status in (404, 410):  # a finished fact, not a failure
                self.crawler.signals.send_catch_log(
                    project_signals.dead_link, url=url, reason=reason
                )
            else:
                self._report(url, reason)
            return FetchedFile(
                url,
                role,
                None,
                capture.id if capture else None,
                status=response.status,
                problem=reason,
            )
        self.crawler.stats.inc_value("archive/files_fetched")
        return FetchedFile(
            url,
            role,
            None,
            capture.id,
            capture.status,
            capture.content_sha256,
            capture.content_size,
            capture.media_type,
        )

    def _claim(self, url: str) -> bool:
        """Is this worker the fleet's one to fetch the file? (Yes when Redis cannot say: a
        file fetched twice is stored once.)"""
        fleet = self.session.fleet
        assert fleet is not None
        try:
            claimed = fleet.claim(f"file {url}", self.wait)
        except redis.RedisError:
            return True
        if claimed:
            self._claimed.add(url)
        return claimed

    def _batch_lost(self) -> None:
        """The writer reconnected: every file this worker claimed and did not commit is
        given up, so that no worker waits for a row that will not come."""
        self._fetches.clear()
        fleet = self.session.fleet
        lost = {url for url in self._claimed if self.session.writer.file_by_url(url) is None}
        try:
            for url in lost:
                if fleet is not None:
                    fleet.unclaim(f"file {url}")
        except redis.RedisError:
            pass  # the claims lapse on their own
        self._claimed -= lost

    async def _file_saved_elsewhere(self, url: str) -> FileRecord | None:
        """Wait (without blocking the crawl) for another worker's row of this file; None
        when it does not come in time, or the worker fetching it is gone (killed: its
        heartbeat lapsed), so that this one fetches it."""
        fleet = self.session.fleet
        assert fleet is not None
        deadline = time.monotonic() + self.wait
        while time.monotonic() < deadline:
            if self.session.writer.failed is not None:
                return None  # the database is away: the article is fetched again
            archived = self.session.writer.file_by_url(url)
            if archived is not None:
                return archived
            try:
                holder = fleet.claimant(f"file {url}")
                if holder is None or fleet.is_gone(holder):
                    return None
            except redis.RedisError:
                return None
            await asyncio.sleep(FILE_POLL_SECONDS)
        return None

    def _report(self, url: str, reason: str) -> None:
        self.crawler.signals.send_catch_log(project_signals.fetch_failed, url=url, reason=reason)
