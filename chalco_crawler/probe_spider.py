"""The probe's spider: a polite sample of a site (home page, news roots, the first list page
of each section, one or two articles each) read with the profile, nothing archived.

It only gathers what it saw (`SiteProbe`); chalco_crawler/probe_report.py judges it.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

import scrapy
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from chalco_crawler.challenge import detect_challenge
from chalco_crawler.discovery import (
    SECTION_ROOT,
    discover_sections,
    is_article_url,
    list_page_url,
    listed_articles,
    netloc_of,
    page_count,
    same_host,
    section_labels,
    section_path,
    section_url,
)
from chalco_crawler.download_errors import describe
from chalco_crawler.profile import SiteProfile
from chalco_crawler.robots import RobotsTxtUnreachable
from chalco_crawler.spooled import slim_response
from pipelines.extraction import extract_article
from pipelines.normalization import normalize, parse_published

MAX_REQUESTS = 40
"""Requests per site at most, robots.txt, retries and redirects included (PROBE_MAX_REQUESTS)."""
ARTICLES_PER_SECTION = 2
HOME_META = {"max_retry_times": 1, "download_timeout": 20}
_LIST_PAGE = re.compile(r"/index_\d+\.s?html?$")
_PAGE_LIKE = re.compile(r"\.s?html?$|\d{4,}")
_LIST_DATE = re.compile(r"\d{4}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}")
UNKNOWN_EXAMPLES = 3


@dataclass
class ArticleSample:
    """One sampled article: where it was listed, what came back, how the profile read it."""

    url: str
    section: str
    listed_title: str | None = None
    """The list's title for it (its `title` attribute, else the link text)."""
    listed_date: str | None = None
    """The date printed beside it on the list, ISO."""
    url_date: str | None = None
    """The date in the URL (t20260204_…), ISO: the CMS's creation date."""
    status: int | None = None
    final_url: str | None = None
    error: str | None = None
    challenge: str | None = None
    charset: str | None = None
    fields: dict[str, Any] = field(default_factory=dict)
    """title, source, source_raw, published, published_raw, author, body_paragraphs,
    body_chars, attachments, images, as normalization gives them."""
    provenance: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


@dataclass
class SectionProbe:
    path: str
    name: str | None
    origin: str
    """Where the section came from: navigation, news root page, extra (the profile's extra
    sections), fallback (the profile's fallback list: nothing was found), requested (a
    crawl's --sections)."""
    list_url: str = ""
    status: int | None = None
    error: str | None = None
    challenge: str | None = None
    pages: int | None = None
    """Page count the pager script announces; None when there is no pager script."""
    listed: int = 0
    """Article links on the first list page that match the profile's URL pattern."""
    unknown_links: list[str] = field(default_factory=list)
    """Links of the page's main list the profile's article URL pattern does not match."""
    unknown_count: int = 0
    samples: list[ArticleSample] = field(default_factory=list)
    skipped: bool = False
    """Not fetched: the request budget was spent."""


@dataclass
class RootProbe:
    path: str
    """The profile's news root, `xwdt`, or a path a root label links to."""
    label: str | None
    linked: bool
    """Whether the home page's navigation links it."""
    children: list[str] = field(default_factory=list)


@dataclass
class SiteProbe:
    name: str
    base_url: str
    reachable: bool = True
    error: str | None = None
    """Why the home page could not be read (unreachable, or an HTTP error)."""
    challenge: str | None = None
    roots: list[RootProbe] = field(default_factory=list)
    sections: list[SectionProbe] = field(default_factory=list)
    requests: int = 0
    """Requests sent to the site, robots.txt included."""
    budget: int = MAX_REQUESTS
    budget_refused: int = 0
    """Requests the budget stopped."""
    articles_not_sampled: int = 0
    """Articles left out of the sample for want of budget."""


class ProbeBudgetMiddleware:
    """Downloader middleware next to the downloader: counts every request a host is sent
    (robots.txt, retries and redirects too) and refuses those beyond PROBE_MAX_REQUESTS."""

    def __init__(self, crawler: Crawler, limit: int):
        self.crawler = crawler
        self.limit = limit

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ProbeBudgetMiddleware:
        return cls(crawler, crawler.settings.getint("PROBE_MAX_REQUESTS", MAX_REQUESTS))

    def process_request(self, request: scrapy.Request) -> None:
        spider = self.crawler.spider
        probe = spider.probe_for(request.url) if isinstance(spider, ProbeSpider) else None
        if probe is None:
            return
        if probe.requests >= self.limit:
            probe.budget_refused += 1
            raise IgnoreRequest(f"probe budget of {self.limit} requests spent")
        probe.requests += 1


class ProbeSpider(scrapy.Spider):
    name = "probe"

    def __init__(
        self,
        sites: list[tuple[SiteProfile, str]] | None = None,
        articles_per_section: int = ARTICLES_PER_SECTION,
        sections: list[str] | None = None,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        # The sections a crawl was asked to walk (--sections): those, not the navigation's.
        self.requested_sections = [section_path(p) for p in sections or []]
        self.profiles = {profile.name: profile for profile, _ in sites or []}
        self.probes = {
            profile.name: SiteProbe(profile.name, url.rstrip("/") + "/")
            for profile, url in sites or []
        }
        self.articles_per_section = articles_per_section
        self.allowed_netlocs = {netloc_of(p.base_url) for p in self.probes.values()}
        self._planned: dict[str, int] = {}
        # Sections found on the news roots' own pages, and how many roots are still to answer.
        self._root_sections: dict[str, list[SectionProbe]] = {}
        self._roots_waiting: dict[str, int] = {}
        self._sampled: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> ProbeSpider:
        spider: ProbeSpider = super().from_crawler(crawler, *args, **kwargs)
        budget = crawler.settings.getint("PROBE_MAX_REQUESTS", MAX_REQUESTS)
        for probe in spider.probes.values():
            probe.budget = budget
        return spider

    def allows(self, url: str) -> bool:
        """Only the probed sites' own host and port (politeness.PolitenessMiddleware)."""
        return netloc_of(url) in self.allowed_netlocs

    def probe_for(self, url: str) -> SiteProbe | None:
        netloc = netloc_of(url)
        for probe in self.probes.values():
            if netloc_of(probe.base_url) == netloc:
                return probe
        return None

    def _reserve(self, site: str, count: int = 1) -> bool:
        """Take `count` requests of the site's budget (robots.txt and the home page are
        reserved at the start); False when they would exceed it."""
        probe = self.probes[site]
        planned = self._planned.get(site, 2)
        if planned + count > probe.budget:
            return False
        self._planned[site] = planned + count
        return True

    # The home page ------------------------------------------------------------------------

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for name, probe in self.probes.items():
            yield scrapy.Request(
                probe.base_url,
                callback=self.parse_home,
                errback=self.home_failed,
                cb_kwargs={"site": name},
                meta=dict(HOME_META),
                dont_filter=True,
            )

    def home_failed(self, failure: Failure) -> None:
        probe = self.probes[failure.request.cb_kwargs["site"]]
        if failure.check(HttpError):
            response = failure.value.response
            challenge = _challenge(response)
            if challenge:
                probe.challenge = challenge
            elif response.status >= 500:
                probe.reachable, probe.error = False, f"HTTP {response.status}"
            else:
                probe.error = f"HTTP {response.status}"
        elif failure.check(RobotsTxtUnreachable):
            probe.reachable, probe.error = False, str(failure.value)
        elif failure.check(IgnoreRequest):
            probe.error = str(failure.value) or "refused"  # robots.txt forbids the home page
        else:
            probe.reachable, probe.error = False, _reason(failure)

    def parse_home(self, response: Response, site: str) -> Iterator[scrapy.Request]:
        probe, profile = self.probes[site], self.profiles[site]
        probe.challenge = _challenge(response)
        if probe.challenge:
            return
        labels = section_labels(response, response.url)
        roots = [section_path(r) for r in profile.news_roots]
        roots += [p for p, n in labels.items() if n in profile.news_root_labels and p not in roots]
        for root in roots:
            children = [p for p in labels if _is_child(p, root)]
            probe.roots.append(RootProbe(root, labels.get(root), root in labels, children))
        if self.requested_sections:
            yield from self._walk(
                site, [SectionProbe(p, labels.get(p), "requested") for p in self.requested_sections]
            )
            return
        found = discover_sections(response, response.url, profile)
        if found:
            sections = [SectionProbe(s.path, s.name, "navigation") for s in found]
            yield from self._walk(site, sections + self._extra(profile, labels))
            return
        # As the crawl does: no news children in the navigation, look on the roots' pages.
        pending = [r for r in profile.news_roots if self._reserve(site)]
        self._roots_waiting[site] = len(pending)
        self._root_sections[site] = []
        if not pending:
            self._roots_waiting[site] = 1
            yield from self._news_roots_read(site)
        for root in pending:
            yield scrapy.Request(
                section_url(probe.base_url, root),
                callback=self.parse_news_root,
                errback=self.news_root_failed,
                cb_kwargs={"site": site},
            )

    def parse_news_root(self, response: Response, site: str) -> Iterator[scrapy.Request]:
        probe, profile = self.probes[site], self.profiles[site]
        if not _challenge(response):
            found = discover_sections(response, response.url, profile)
            self._root_sections[site] += [
                SectionProbe(s.path, s.name, "news root page") for s in found
            ]
            for root in probe.roots:
                if section_url(probe.base_url, root.path) == response.url:
                    root.children = [s.path for s in found]
        yield from self._news_roots_read(site)

    def news_root_failed(self, failure: Failure) -> Iterator[scrapy.Request]:
        yield from self._news_roots_read(failure.request.cb_kwargs["site"])

    def _news_roots_read(self, site: str) -> Iterator[scrapy.Request]:
        """One more news root page has answered; the walk starts after the last one."""
        self._roots_waiting[site] -= 1
        if self._roots_waiting[site] > 0:
            return
        profile = self.profiles[site]
        found = self._root_sections[site]
        if not found:
            found = [
                SectionProbe(section_path(p), None, "fallback") for p in profile.fallback_sections
            ]
        yield from self._walk(site, found + self._extra(profile, {}))

    @staticmethod
    def _extra(profile: SiteProfile, labels: dict[str, str | None]) -> list[SectionProbe]:
        return [
            SectionProbe(section_path(p), labels.get(section_path(p)), "extra")
            for p in profile.extra_sections
        ]

    # Sections -----------------------------------------------------------------------------

    def _walk(self, site: str, sections: list[SectionProbe]) -> Iterator[scrapy.Request]:
        probe = self.probes[site]
        seen: set[str] = set()
        for section in sections:
            if section.path in seen:
                continue
            seen.add(section.path)
            probe.sections.append(section)
        # Every list page first, then what is left of the budget goes to articles.
        for section in probe.sections:
            section.list_url = list_page_url(probe.base_url, section.path, 0)
            if not self._reserve(site):
                section.skipped = True
                continue
            yield scrapy.Request(
                section.list_url,
                callback=self.parse_list,
                errback=self.list_failed,
                cb_kwargs={"site": site, "section": section},
            )

    def list_failed(self, failure: Failure) -> None:
        section: SectionProbe = failure.request.cb_kwargs["section"]
        if failure.check(HttpError):
            response = failure.value.response
            section.status = response.status
            section.challenge = _challenge(response)
            if not section.challenge:
                section.error = f"HTTP {response.status}"
        else:
            section.error = _reason(failure)

    def parse_list(
        self, response: Response, site: str, section: SectionProbe
    ) -> Iterator[scrapy.Request]:
        profile = self.profiles[site]
        section.status = response.status
        section.challenge = _challenge(response)
        if section.challenge:
            return
        response = slim_response(response, response.body)  # a 50 MB list page read lightly
        articles = listed_articles(response, response.url, profile)
        section.listed = len(articles)
        section.pages = page_count(response.text)
        unknown = unknown_article_links(response, profile)
        section.unknown_count = len(unknown)
        section.unknown_links = unknown[:UNKNOWN_EXAMPLES]
        dates = listed_dates(response)
        # The newest and the oldest of the page (templates change over time), each article
        # once over all sections: an article listed in two is not asked for twice.
        fresh = [a for a in articles if a.url not in self._sampled]
        picks = fresh[:1] + fresh[-1:] if len(fresh) > 1 else fresh
        wanted = picks[: self.articles_per_section]
        for index, listed in enumerate(wanted):
            if not self._reserve(site):
                self.probes[site].articles_not_sampled += len(wanted) - index
                break
            match = profile.article_url.search(urlsplit(listed.url).path)
            url_date = None
            if match and "date" in match.groupdict():
                url_date = parse_published(match.group("date"))
            sample = ArticleSample(
                listed.url, section.path, listed.title, dates.get(listed.url), url_date
            )
            self._sampled.add(listed.url)
            section.samples.append(sample)
            yield scrapy.Request(
                listed.url,
                callback=self.parse_article,
                errback=self.article_failed,
                cb_kwargs={"site": site, "sample": sample},
            )

    # Articles -----------------------------------------------------------------------------

    def article_failed(self, failure: Failure) -> None:
        sample: ArticleSample = failure.request.cb_kwargs["sample"]
        if failure.check(HttpError):
            response = failure.value.response
            sample.status, sample.final_url = response.status, response.url
            sample.challenge = _challenge(response)
            if not sample.challenge:
                sample.error = f"HTTP {response.status}"
        elif failure.check(IgnoreRequest) and failure.request.meta.get("redirect_urls"):
            sample.error = f"redirected to {failure.request.url}: {failure.value}"
        else:
            sample.error = _reason(failure)

    def parse_article(self, response: Response, site: str, sample: ArticleSample) -> None:
        profile = self.profiles[site]
        sample.status, sample.final_url = response.status, response.url
        sample.challenge = _challenge(response)
        if sample.challenge:
            return
        content_type = response.headers.get("Content-Type", b"").decode("latin-1") or None
        extraction = extract_article(
            response.body, response.url, content_type=content_type, rules=profile.extraction
        )
        article = normalize(extraction, profile.timezone)
        sample.charset = extraction.encoding
        sample.provenance = dict(extraction.provenance)
        sample.problems = list(article.problems)
        sample.fields = {
            "title": article.title,
            "source": article.source,
            "source_raw": article.source_raw,
            "published": article.published,
            "published_raw": article.published_raw,
            "author": article.author,
            "body_paragraphs": len(article.body.splitlines()) if article.body else 0,
            "body_chars": len(article.body or ""),
            "attachments": len(article.attachments),
            "images": len(article.images),
        }


def unknown_article_links(response: Response, profile: SiteProfile) -> list[str]:
    """Links of the page's main list (the container with most same-host page links that are
    not section roots or list pages) that the profile's article URL pattern does not match:
    a new URL pattern shows here before a crawl silently skips it."""
    groups: dict[str, list[str]] = {}
    for anchor in response.xpath("//a[@href]"):
        url = urljoin(response.url, anchor.attrib["href"].strip()).split("#", 1)[0]
        path = urlsplit(url).path
        if not same_host(url, response.url) or not url.startswith("http"):
            continue
        if SECTION_ROOT.search(path) or _LIST_PAGE.search(path) or not _PAGE_LIKE.search(path):
            continue
        container = anchor.xpath("ancestor::*[self::ul or self::ol or self::table][1]")
        key = container[0].root.getroottree().getpath(container[0].root) if container else ""
        groups.setdefault(key, []).append(url)
    if not groups:
        return []
    best = max(groups.values(), key=len)
    return list(dict.fromkeys(u for u in best if not is_article_url(u, profile)))


def listed_dates(response: Response) -> dict[str, str]:
    """Article URL → the date printed in its list item (ISO), where one is printed."""
    dates: dict[str, str] = {}
    for anchor in response.xpath("//li[a[@href]] | //tr[.//a[@href]]"):
        links = anchor.xpath(".//a/@href").getall()
        text = " ".join(anchor.xpath(".//text()[not(ancestor::a)]").getall())
        found = _LIST_DATE.search(text)
        if not found or len(links) != 1:
            continue
        date = parse_published(found.group(0))
        if date:
            dates[urljoin(response.url, links[0].strip()).split("#", 1)[0]] = date
    return dates


def _is_child(path: str, root: str) -> bool:
    return path.startswith(root + "/") and "/" not in path[len(root) + 1 :]


def _challenge(response: Response) -> str | None:
    content_type = response.headers.get("Content-Type", b"").decode("latin-1") or None
    found = detect_challenge(response.status, content_type, response.body)
    return found.reason if found else None


def _reason(failure: Failure) -> str:
    if failure.check(RobotsTxtUnreachable):
        return str(failure.value)
    return describe(failure.value)
