"""Reading navigation and list pages: which sections exist, which articles a list links, how
many list pages there are. Pure functions of a parsel Selector, testable without a crawl."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from parsel import Selector

from chalco_crawler.profile import SiteProfile

# TRS pagers: createPageHTML(<pages>, <current>, "index", "html"), or `countPage = N`.
PAGER_CALL = re.compile(r"createPageHTML\s*\(\s*['\"]?(\d+)['\"]?\s*,")
PAGER_VARIABLE = re.compile(r"countPage\s*=\s*['\"]?(\d+)")
SECTION_INDEX = re.compile(r"(?:index(?:_\d+)?\.s?html?)?$")
SECTION_ROOT = re.compile(r"/(?:index\.s?html?)?$")


@dataclass(frozen=True)
class Section:
    path: str
    """Without slashes at the ends: `xwdt/gsyw`."""
    name: str | None


@dataclass(frozen=True)
class ListedArticle:
    url: str
    title: str | None


def section_path(value: str) -> str:
    """`/xwdt/gsyw/`, `xwdt/gsyw`, `https://host/xwdt/gsyw/index.html` → `xwdt/gsyw`."""
    path = urlsplit(value).path if "://" in value else value
    path = SECTION_INDEX.sub("", path.strip())
    return path.strip("/")


def section_url(base_url: str, path: str) -> str:
    return urljoin(base_url, "/" + path.strip("/") + "/")


def list_page_url(base_url: str, path: str, page: int) -> str:
    """Page 0 is the section root; then index_1.html, index_2.html …"""
    root = section_url(base_url, path)
    return root if page == 0 else urljoin(root, f"index_{page}.html")


def netloc_of(url: str) -> str:
    """`host:port` with the scheme's default port written out, lower case."""
    parts = urlsplit(url)
    port = parts.port or {"http": 80, "https": 443}.get(parts.scheme, 0)
    return f"{(parts.hostname or '').lower()}:{port}"


def same_host(url: str, other_url: str) -> bool:
    """Same host and port: two sites may share a host name on different ports (replicas)."""
    return netloc_of(url) == netloc_of(other_url)


def _text(anchor: Selector) -> str:
    return "".join(anchor.css("::text").getall()).strip()


def section_labels(page: Selector, page_url: str) -> dict[str, str | None]:
    """Every same-host link to a section root (`/xwdt/gsyw/`) and its first non-empty label."""
    labels: dict[str, str | None] = {}
    for anchor in page.css("a[href]"):
        url = urljoin(page_url, anchor.attrib["href"].strip())
        if not same_host(url, page_url) or not SECTION_ROOT.search(urlsplit(url).path):
            continue
        path = section_path(url)
        if path and not labels.get(path):
            labels[path] = _text(anchor) or anchor.attrib.get("title") or None
    return labels


def discover_sections(page: Selector, page_url: str, profile: SiteProfile) -> list[Section]:
    """The children of the news roots (新闻动态 …) linked from a page's navigation.

    A root is a profile path (`xwdt/`) or the target of a link labelled with a root label,
    in case a site moves its news under another slug. A child is a link one level below a
    root: `/xwdt/gsyw/`. Links to other hosts are ignored.
    """
    labels = section_labels(page, page_url)
    roots = {section_path(root) for root in profile.news_roots}
    roots |= {path for path, name in labels.items() if name in profile.news_root_labels}
    return [
        Section(path, name)
        for path, name in labels.items()
        if any(path.startswith(root + "/") and "/" not in path[len(root) + 1 :] for root in roots)
    ]


def is_article_url(url: str, profile: SiteProfile) -> bool:
    path = urlsplit(url).path
    return bool(profile.article_url.search(path) or profile.legacy_article_url.search(path))


def listed_articles(page: Selector, page_url: str, profile: SiteProfile) -> list[ListedArticle]:
    """The article links of a list page's main list, in page order.

    Side boxes (hot news, other sections) also link articles, so the links are grouped by
    the list element that holds them and the largest group is taken as the page's list.
    """
    groups: dict[str, list[ListedArticle]] = defaultdict(list)
    for anchor in page.xpath("//a[@href]"):
        url = urljoin(page_url, anchor.attrib["href"].strip())
        if not same_host(url, page_url) or not is_article_url(url, profile):
            continue
        container = anchor.xpath("ancestor::*[self::ul or self::ol or self::table][1]")
        key = container[0].root.getroottree().getpath(container[0].root) if container else ""
        title = anchor.attrib.get("title") or _text(anchor) or None
        groups[key].append(ListedArticle(url.split("#", 1)[0], title))
    if not groups:
        return []
    best = max(groups.values(), key=len)
    seen: set[str] = set()
    unique = []
    for item in best:
        if item.url not in seen:
            seen.add(item.url)
            unique.append(item)
    return unique


def page_count(html_text: str) -> int | None:
    """The number of list pages the pager script announces, or None if there is no pager."""
    for pattern in (PAGER_CALL, PAGER_VARIABLE):
        match = pattern.search(html_text)
        if match:
            return int(match.group(1))
    return None


def docid_of(url: str, profile: SiteProfile) -> int | None:
    match = profile.article_url.search(urlsplit(url).path)
    if match and "docid" in match.groupdict():
        return int(match.group("docid"))
    return None
