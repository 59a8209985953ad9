"""`chalco-archive repair`'s spider: fetch again, from the site, each URL whose capture lost its
WARC record (archive.evidence.repair), and put each loss on record with its replacement.

The requests go through the crawl's own downloader middlewares: robots.txt obeyed, the
crawl's User-Agent, delays and retries, and every response archived by the WARC
middleware. A replacement is always a whole response record (never a revisit), fetched
without following redirects, so that its capture is of the very URL that was lost.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import scrapy
from scrapy.http import Response
from twisted.python.failure import Failure

from archive.errors import StorageFailed
from archive.evidence.findings import Progress
from archive.evidence.repair import LostCapture, RepairPlan, RepairTarget, plan_repair
from archive.store.db import open_reader, session_factory
from archive.store.home import ArchiveHome
from chalco_crawler import signals as project_signals
from chalco_crawler.middlewares import CAPTURE_META_KEY, WHOLE_META_KEY
from chalco_crawler.session import CrawlSession
from chalco_crawler.spiders.news.failures import failure_reason


@dataclass
class RepairOutcome:
    """What the repair did, for its summary."""

    replaced: list[tuple[str, LostCapture, int]] = field(default_factory=list)
    """Each lost capture replaced: its URL, and the capture that replaces it."""
    refused: list[tuple[str, LostCapture, str]] = field(default_factory=list)
    """Each lost capture that could not be, and why (the site no longer serves it)."""


class RepairSpider(scrapy.Spider):
    name = "repair"
    mode = "repair"
    site_name = "repair"
    base_url = ""
    # No item is ever made: the pipelines have nothing to do.
    custom_settings = {"ITEM_PIPELINES": {}}

    def __init__(self, progress: Progress | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        self.progress = progress
        self.plan: RepairPlan | None = None
        self.outcome = RepairOutcome()

    async def start(self) -> AsyncIterator[scrapy.Request]:
        # The writer holds the home by now (the WARC middleware opened it): nothing else
        # writes while the audit reads.
        home = ArchiveHome.at(self.settings.get("ARCHIVE_HOME"))
        engine = open_reader(home)
        try:
            with session_factory(engine)() as session:
                self.plan = plan_repair(session, home, self.progress)
        finally:
            engine.dispose()
        files_limit = self.settings.getint("ATTACHMENT_MAXSIZE")
        for target in self.plan.targets:
            meta: dict[str, Any] = {
                WHOLE_META_KEY: True,
                "dont_redirect": True,
                "handle_httpstatus_all": True,
            }
            if target.is_file:
                meta["download_maxsize"] = files_limit
            yield scrapy.Request(
                target.url,
                callback=self.fetched,
                errback=self.not_fetched,
                cb_kwargs={"target": target},
                meta=meta,
                dont_filter=True,
            )

    def fetched(self, response: Response, target: RepairTarget) -> None:
        capture = response.meta.get(CAPTURE_META_KEY)
        if capture is None or capture.url != target.url:
            self._refused(target, target.losses, "the response was not archived")
            return
        session = CrawlSession.of(self.crawler)
        for lost in target.losses:
            refusal = lost.refusal(response.status)
            if refusal is not None:
                self._refused(target, (lost,), refusal)
                continue
            try:
                session.writer.record_loss(lost.capture_id, lost.record_id, lost.found, capture.id)
            except StorageFailed as error:
                session.storage_failed(str(error))
                return
            self.outcome.replaced.append((target.url, lost, capture.id))
            self.crawler.stats.inc_value("repair/replaced")

    def not_fetched(self, failure: Failure) -> None:
        target = failure.request.cb_kwargs["target"]
        self._refused(target, target.losses, failure_reason(failure))

    def _refused(self, target: RepairTarget, losses: tuple[LostCapture, ...], why: str) -> None:
        self.outcome.refused.extend((target.url, lost, why) for lost in losses)
        self.logger.warning("not repaired: %s (%s)", target.url, why)
        self.crawler.signals.send_catch_log(
            project_signals.fetch_failed, url=target.url, reason=f"not repaired: {why}"
        )
