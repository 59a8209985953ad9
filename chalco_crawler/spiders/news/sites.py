"""The sites of one news crawl: which profiles, served where (`--site`, `--base-url`), what the
archive knows of each, and the spider's view of them that every part of the spider shares."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit

import scrapy
from protego import Protego

from archive.read.frontier import ArchivedUrl, UnarchivedListing
from chalco_crawler.discovery import netloc_of
from chalco_crawler.profile import DEFAULT_SITE, SiteProfile, bundled_profile_names


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


def site_names(site: str | list[str] | None, all_sites: bool, profile_dirs: list[str]) -> list[str]:
    if all_sites:
        return bundled_profile_names(profile_dirs)
    if isinstance(site, str):
        site = [s for s in site.split(",") if s.strip()]
    return [s.strip() for s in site or [DEFAULT_SITE]]


def base_urls(base_url: str | list[str] | None, names: list[str]) -> dict[str, str]:
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


class SiteGroupSpider(scrapy.Spider):
    """What the parts of the news spider share: the run's sites and mode, set by NewsSpider."""

    sites: dict[str, SiteTarget]
    allowed_netlocs: set[str]
    mode: str
    """incremental, full or revisit."""
    requested_sections: list[str]
    overlap: int
    revisit_days: float | None

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
