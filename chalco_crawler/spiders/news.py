"""The news spider: home page → news sections → every list page → every article, once each,
for one site of the 中铝网站群 or several in one run.

It discovers and fetches; reading the pages is the pipelines' work.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import scrapy
from protego import Protego
from scrapy.exceptions import CloseSpider, IgnoreRequest
from scrapy.http import Response
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from archive.read.frontier import (
    ArchivedUrl,
    UnarchivedListing,
    interrupted_walk,
    known_listed_urls,
    last_robots_txt,
    open_frontier_session,
    revisit_targets,
    unarchived_listings,
)
from archive.store.home import ArchiveHome
from chalco_crawler import signals as project_signals
from chalco_crawler.challenge import detect_challenge
from chalco_crawler.discovery import (
    Section,
    discover_sections,
    docid_of,
    list_page_url,
    listed_articles,
    netloc_of,
    page_count,
    section_labels,
    section_path,
    section_url,
)
from chalco_crawler.items import (
    ArticlePageItem,
    ArticleSeenItem,
    FileSeenItem,
    ListedLink,
    ListPageItem,
)
from chalco_crawler.middlewares import CAPTURE_META_KEY
from chalco_crawler.profile import DEFAULT_SITE, SiteProfile, bundled_profile_names, load_profile
from chalco_crawler.robots import RobotsTxtUnreachable
from chalco_crawler.session import UNREACHABLE_REASON, is_policy_refusal

# The home page decides whether the site is reachable: fail fast rather than retry for minutes.
# List pages go before articles: the walk finds the work early, and each host always has
# articles queued while the next list page is fetched (queues are shared by priority).
LIST_PRIORITY = 10
HOME_REQUEST_META = {"max_retry_times": 1, "download_timeout": 20}
MODES = ("incremental", "full", "revisit")
REDIRECT_STATUSES = (301, 302, 303, 307, 308)
# A page the site has removed: a finished fact (a dead link, or an archived article gone),
# never a failure that a rerun may fix.
MISSING_STATUSES = (404, 410)


def _failure_reason(failure: Failure) -> str:
    if failure.check(HttpError):
        return f"HTTP {failure.value.response.status}"
    if failure.check(RobotsTxtUnreachable):
        return str(failure.value)
    return f"{type(failure.value).__name__}: {failure.value}".strip().rstrip(":")


@dataclass
class SiteTarget:
    """One site of this run: its profile, where it is served, and what the archive knows."""

    profile: SiteProfile
    base_url: str
    known: set[str] = field(default_factory=set)
    """Incremental: listed URLs that need no fetch."""
    robots: Protego | None = None
    """Incremental: the last crawl's robots.txt; a link it forbids is nothing new."""
    revisits: list[ArchivedUrl] = field(default_factory=list)
    walk_every_page: bool = False
    """Incremental after an interrupted crawl: every list page, as in a full crawl."""
    unarchived: list[UnarchivedListing] = field(default_factory=list)
    """Incremental: links listed earlier that no crawl archived (failures): asked again."""

    @property
    def name(self) -> str:
        return self.profile.name

    @property
    def host(self) -> str:
        return urlsplit(self.base_url).hostname or ""


def _names(site: str | list[str] | None, all_sites: bool, profile_dirs: list[str]) -> list[str]:
    if all_sites:
        return bundled_profile_names(profile_dirs)
    if isinstance(site, str):
        site = [s for s in site.split(",") if s.strip()]
    return [s.strip() for s in site or [DEFAULT_SITE]]


def _base_urls(base_url: str | list[str] | None, names: list[str]) -> dict[str, str]:
    """`URL` (one site) or `NAME=URL` pairs, comma-separated or as a list."""
    if isinstance(base_url, str):
        base_url = [u for u in base_url.split(",") if u.strip()]
    mapping: dict[str, str] = {}
    for value in base_url or []:
        name, sep, url = value.partition("=")
        if sep and "://" not in name:
            mapping[name.strip()] = url.strip()
        elif len(names) == 1:
            mapping[names[0]] = value.strip()
        else:
            raise ValueError(f"with several sites, give --base-url as NAME=URL, not {value!r}")
    unknown = set(mapping) - set(names)
    if unknown:
        raise ValueError(f"--base-url names a site not crawled: {', '.join(sorted(unknown))}")
    return mapping


class NewsSpider(scrapy.Spider):
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
        names = _names(site, str(all_sites).lower() in ("1", "true", "yes"), dirs)
        urls = _base_urls(base_url, names)
        self.sites: dict[str, SiteTarget] = {}
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
        self._unreachable: set[str] = set()

    def profile_for(self, site: str) -> SiteProfile:
        return self.sites[site].profile

    def base_url_of(self, site: str) -> str:
        return self.sites[site].base_url

    @property
    def shared_frontier(self) -> bool:
        """Is the request queue shared with other workers (a distributed crawl)?"""
        return bool(self.settings.get("FLEET_REDIS_URL"))

    def allows(self, url: str) -> bool:
        """Only the configured sites' own host and port are ever requested."""
        return netloc_of(url) in self.allowed_netlocs

    # Start: the home pages -----------------------------------------------------------------

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
                    target.walk_every_page = interrupted_walk(session, target.name)
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

    def home_unreachable(self, failure: Failure) -> None:
        if failure.check(HttpError) and self._challenged(failure.value.response):
            return  # it answered, with a challenge page: nothing more of the site this run
        site = failure.request.cb_kwargs["site"]
        self._failed(self.sites[site].base_url, f"site unreachable: {_failure_reason(failure)}")
        self._unreachable.add(site)
        if self._unreachable == set(self.sites):
            raise CloseSpider(UNREACHABLE_REASON)

    def parse_home(self, response: Response, site: str) -> Iterator[scrapy.Request]:
        if self._challenged(response):
            return
        target = self.sites[site]
        if self.mode == "revisit":
            yield from self._revisit_requests(target)
            return
        yield from self._unarchived_requests(target)
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

    # List pages ----------------------------------------------------------------------------

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

    # Articles ------------------------------------------------------------------------------

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
            body=b"" if capture.oversize else response.body,
            fetched_at=datetime.now(UTC),
            capture_id=capture.id,
            section=section,
            list_url=list_url,
            docid=docid_of(response.url, self.sites[site].profile),
            oversize=capture.oversize,
        )

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

    # Revisits ------------------------------------------------------------------------------

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

    # Failures ------------------------------------------------------------------------------

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
        self._failed(request.url, _failure_reason(failure))

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
