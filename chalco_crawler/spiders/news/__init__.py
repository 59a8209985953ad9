"""The news spider: home page → news sections → every list page → every article, once each,
for one site of the 中铝网站群 or several in one run.

It discovers and fetches; reading the pages is the pipelines' work. Its parts, one module
each: the sites of the run (sites), the walk of sections and list pages (walk), article pages
(articles), revisits (revisits) and what it reports instead of items (failures).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import scrapy
from protego import Protego
from scrapy.http import Response

from archive.read.frontier import (
    interrupted_walk,
    known_listed_urls,
    last_robots_txt,
    open_frontier_session,
    revisit_targets,
    unarchived_listings,
)
from archive.store.home import ArchiveHome
from chalco_crawler.discovery import netloc_of, section_path
from chalco_crawler.profile import DEFAULT_SITE, load_profile
from chalco_crawler.session import CrawlSession
from chalco_crawler.spiders.news.revisits import Revisits
from chalco_crawler.spiders.news.sites import SiteTarget, base_urls, site_names
from chalco_crawler.spiders.news.walk import ListWalk

# The home page decides whether the site is reachable: fail fast rather than retry for minutes.
HOME_REQUEST_META = {"max_retry_times": 1, "download_timeout": 20}
MODES = ("incremental", "full", "revisit")


class NewsSpider(ListWalk, Revisits):
    """`scrapy crawl news`, as `chalco-archive crawl` runs it: the arguments, the start at
    each site's home page, and what the archive already holds; the rest is in its parts."""

    name = "news"

    def __init__(
        self,
        site: str | list[str] | None = DEFAULT_SITE,
        base_url: str | list[str] | None = None,
        sections: str | list[str] | None = None,
        mode: str = "incremental",
        overlap: int | str = 1,
        revisit_days: float | str | None = None,
        all_sites: bool | str = False,
        profile_dirs: list[str] | None = None,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        dirs = list(profile_dirs or [])
        names = site_names(site, str(all_sites).lower() in ("1", "true", "yes"), dirs)
        urls = base_urls(base_url, names)
        self.sites = {}
        for name in names:
            profile = load_profile(name, dirs)
            url = (urls.get(name) or profile.base_url).rstrip("/") + "/"
            self.sites[profile.name] = SiteTarget(profile, url)
        self.allowed_domains = sorted({target.host for target in self.sites.values()})
        # Scrapy's filter compares host names only; replicas differ by port.
        self.allowed_netlocs = {netloc_of(target.base_url) for target in self.sites.values()}
        # For the run's record: which sites, served where.
        self.site_name = ",".join(self.sites)
        self.base_url = ",".join(target.base_url for target in self.sites.values())
        if isinstance(sections, str):
            sections = [s for s in sections.split(",") if s.strip()]
        self.requested_sections = [section_path(s) for s in sections or []]
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
        self.mode = mode
        # Incremental: stop a section after this many list pages in a row with nothing new.
        self.overlap = max(1, int(overlap))
        self.revisit_days = float(revisit_days) if revisit_days not in (None, "") else None
        self._unreachable = set()

    async def start(self) -> AsyncIterator[scrapy.Request]:
        self._read_frontier()
        for target in self.sites.values():
            yield scrapy.Request(
                target.base_url,
                callback=self.parse_home,
                errback=self.home_unreachable,
                cb_kwargs={"site": target.name},
                meta=dict(HOME_REQUEST_META),
                # Workers of a distributed crawl share the duplicate filter: one fetches it.
                dont_filter=not self.shared_frontier,
            )

    def _read_frontier(self) -> None:
        """What the archive holds already: the URLs an incremental crawl skips, or the URLs a
        revisit re-requests."""
        home = ArchiveHome.at(self.settings.get("ARCHIVE_HOME"))
        session = open_frontier_session(home)
        if session is None:
            return
        since = None
        if self.revisit_days is not None:
            since = datetime.now(UTC) - timedelta(days=self.revisit_days)
        try:
            for target in self.sites.values():
                if self.mode == "incremental":
                    target.known = known_listed_urls(session, target.name)
                    target.unarchived = unarchived_listings(session, target.name, target.known)
                    target.walk_every_page = interrupted_walk(
                        session, target.name, self._fleet_run()
                    )
                    if target.walk_every_page:
                        self.logger.warning(
                            "%s: an earlier crawl was interrupted; walking every list page",
                            target.name,
                        )
                    robots = last_robots_txt(session, home, target.base_url)
                    if robots is not None:
                        target.robots = Protego.parse(robots)
                elif self.mode == "revisit":
                    target.revisits = revisit_targets(session, target.name, since)
                self.logger.info(
                    "%s: %d known URLs, %d listed but not archived, %d to revisit",
                    target.name,
                    len(target.known),
                    len(target.unarchived),
                    len(target.revisits),
                )
        finally:
            bind = session.get_bind()
            session.close()
            bind.dispose()  # type: ignore[union-attr]

    def _fleet_run(self) -> int | None:
        """This worker's fleet run, when the crawl is one worker of a fleet."""
        report = CrawlSession.of(self.crawler).fleet_report
        return report.fleet_run if report is not None else None

    def parse_home(self, response: Response, site: str) -> Iterator[scrapy.Request]:
        if self._challenged(response):
            return
        target = self.sites[site]
        if self.mode == "revisit":
            yield from self._revisit_requests(target)
            return
        yield from self._unarchived_requests(target)
        yield from self._section_requests(response, target)
