"""The replica's state: its articles, how each page is drawn, its files and lists, and the
routes derived from them (`SiteState`, the base of `ReplicaSite`)."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

from replica.site import redesign
from replica.site.flavours import CST, PROFILES, STATIC_MODIFIED, Profile
from replica.site.truth import ArticleTruth, LaterState, Specials


@dataclass
class ArticleLook:
    """How one article page is drawn: markup choices that are not part of the truth."""

    colon: str
    paragraph_style: str
    published_raw: str
    blocks: list[tuple[str, str, str | None]]
    """("p", text, None) | ("img", file name, caption or None) | ("blank", "", None)."""
    modified: dt.datetime
    created: dt.datetime
    related: list[tuple[str, str, str]] = field(default_factory=list)
    """(path, title, date) of the 相关新闻 items, frozen when the page was published: a
    static page is not regenerated when a related article is later edited or removed."""
    related_offsite: bool = False
    original: str | None = None
    logo_h1: bool = False
    """Member template only: the header's logo is an <h1 class="logo"> with the site name."""


@dataclass(frozen=True)
class ServedFile:
    """An attachment or image as the server holds it."""

    media_type: str
    payload: bytes = field(repr=False)
    modified: dt.datetime


@dataclass(frozen=True)
class ListEntry:
    """One item of a section's list."""

    target: str
    """Absolute path on the site, or an absolute off-site URL."""
    title: str
    date: str
    docid: int
    verbatim: bool = False
    """Write target as is (old URL, off-site) rather than relative to the list page."""


@dataclass
class SiteState:
    """The site's articles, looks, files and lists, and the routes derived from them; the
    page kinds (replica/site/home.py, lists.py, articles.py, files.py) render from it and
    later states (later.py) change it."""

    articles: list[ArticleTruth]
    sections: dict[str, str]
    page_size: int = 5
    specials: Specials = field(default_factory=Specials)
    list_pages: dict[str, int] = field(default_factory=dict)
    """Number of list pages per section (index.html, index_1.html, …)."""
    flaky_paths: set[str] = field(default_factory=set)
    seed: int = 2026
    """Seed of the generated text; later states draw from it too."""
    changes: list[LaterState] = field(default_factory=list)
    """Every `advance()` applied so far, oldest first."""
    flavour: str = "chalco"
    """chalco (www.chalco.com.cn) or member (a member site of the group, news under /xwzx/)."""
    template: str = "standard"
    """standard, or redesign: every article page in the redesigned template of
    replica/site/redesign.py (same URLs, lists and truths; other markup and labels)."""
    shared_stories: list[tuple[str, str]] = field(default_factory=list)
    """Member flavour: (member url_path, chalco url_path) of the articles republished from
    the chalco flavour of the same seed (same title and paragraphs), newest first."""
    _looks: dict[str, ArticleLook] = field(default_factory=dict, repr=False)
    _files: dict[str, ServedFile] = field(default_factory=dict, repr=False)
    _extras: dict[str, list[ListEntry]] = field(default_factory=dict, repr=False)
    _list_hrefs: dict[str, str] = field(default_factory=dict, repr=False)
    _private: dict[str, tuple[str, dt.datetime]] = field(default_factory=dict, repr=False)
    _by_path: dict[str, ArticleTruth] = field(default_factory=dict, repr=False)
    _entries: dict[str, list[ListEntry]] = field(default_factory=dict, repr=False)
    _modified: dict[str, dt.datetime] = field(default_factory=dict, repr=False)
    _routes: dict[str, tuple[str, str]] = field(default_factory=dict, repr=False)
    _unlisted: set[str] = field(default_factory=set, repr=False)
    """Removed articles: still answered (404/410) but on no list."""
    _touched: dict[str, dt.datetime] = field(default_factory=dict, repr=False)
    """Per section, when a later state last changed its list other than by adding."""

    def __post_init__(self) -> None:
        if self.flavour not in PROFILES:
            raise ValueError(f"unknown flavour: {self.flavour}")
        if self.template not in redesign.TEMPLATES:
            raise ValueError(f"unknown template: {self.template}")
        self.reindex()

    @property
    def profile(self) -> Profile:
        return PROFILES[self.flavour]

    @property
    def site_name(self) -> str:
        """中国铝业股份有限公司, or the member's 中铝中州铝业有限公司."""
        return self.profile.chrome.site_name

    @property
    def robots_txt(self) -> str:
        return self.profile.chrome.robots

    def live_articles(self) -> list[ArticleTruth]:
        return [a for a in self.articles if a.status == 200]

    def article(self, url_path: str) -> ArticleTruth:
        return self._by_path[url_path]

    def list_paths(self, section: str) -> list[str]:
        """URL paths of a section's list pages, first page first."""
        first = f"/{section}/"
        return [first] + [f"{first}index_{i}.html" for i in range(1, self.list_pages[section])]

    def reindex(self) -> None:
        """Rebuild lists and routes from `articles`.

        A later site state (articles added on top, one edited, one removed) changes
        `articles`, `_looks` and `_files`, then calls this.
        """
        self._by_path = {a.url_path: a for a in self.articles}
        entries: dict[str, list[ListEntry]] = {
            s: list(self._extras.get(s, [])) for s in self.sections
        }
        modified: dict[str, dt.datetime] = {
            s: max(STATIC_MODIFIED, self._touched.get(s, STATIC_MODIFIED)) for s in self.sections
        }
        for a in self.articles:
            if a.url_path in self._unlisted:
                continue
            look = self._looks[a.url_path]
            old_href = self._list_hrefs.get(a.url_path)
            for section in a.sections:
                entries[section].append(
                    ListEntry(
                        old_href or a.url_path, a.title, a.published[:10], a.docid, bool(old_href)
                    )
                )
                modified[section] = max(modified[section], look.modified)
        for items in entries.values():
            items.sort(key=lambda e: (e.date, e.docid), reverse=True)
        self._entries = entries
        self._modified = modified
        self.list_pages = {
            s: max(1, math.ceil(len(e) / self.page_size)) for s, e in entries.items()
        }

        routes: dict[str, tuple[str, str]] = {
            "/": ("home", ""),
            "/index.html": ("home", ""),
            "/robots.txt": ("robots", ""),
            "/css/style.css": ("css", ""),
            "/images/logo.png": ("logo", ""),
        }
        for parent in self.profile.parents:
            routes[f"/{parent}/"] = routes[f"/{parent}/index.html"] = ("landing", parent)
        for path in self.profile.static_pages:
            routes[path] = routes[path + "index.html"] = ("static", path)
        for section in self.sections:
            for page, path in enumerate(self.list_paths(section)):
                routes[path] = ("list", f"{section}|{page}")
            routes[f"/{section}/index.html"] = ("list", f"{section}|0")
        for a in self.articles:
            routes[a.url_path] = ("article", a.url_path)
        for path in self._files:
            routes[path] = ("file", path)
        for path in self._private:
            routes[path] = ("private", path)
        if self.specials.redirect_to:
            routes[self.specials.redirect_from] = ("redirect", self.specials.redirect_to)
        self._routes = routes

    def _news_children(self) -> list[tuple[str, str]]:
        return list(self.profile.news_sections.items())

    def _next_day(self) -> dt.datetime:
        """08:00 of the day after anything the site holds: when a later change happens."""
        latest = max(
            [look.created for look in self._looks.values()]
            + [look.modified for look in self._looks.values()]
            + list(self._touched.values())
            + [moment for _, moment in self._private.values()]
        )
        return dt.datetime.combine(latest.date() + dt.timedelta(days=1), dt.time(8), tzinfo=CST)


def related_item(truth: ArticleTruth) -> tuple[str, str, str]:
    return truth.url_path, truth.title, truth.published[:10]


def reader_lines(blocks: list[tuple[str, str, str | None]]) -> list[str]:
    """Body lines a reader sees: paragraphs and captions; images and blank <p>s show no text."""
    lines = []
    for kind, text, caption in blocks:
        if kind == "p":
            lines.append(text)
        elif kind == "img" and caption:
            lines.append(caption)
    return lines
