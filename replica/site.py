"""A deterministic generated replica of www.chalco.com.cn (TRS WCM), following SITE.md.

Two flavours: "chalco" (www.chalco.com.cn, the default) and "member", a member site of
the 中铝网站群 (中州铝业, zzly.chinalco.com.cn) with its news under /xwzx/, some of it
republished from the chalco flavour of the same seed (see `build_group`).
"""

from __future__ import annotations

import copy
import datetime as dt
import email.utils
import hashlib
import math
import posixpath
import random
from collections.abc import Callable
from dataclasses import dataclass, field

from replica import media, pages, redesign
from replica.text import Story, Writer, load_sample

CST = dt.timezone(dt.timedelta(hours=8))

SAMPLE_PATH = "/xwdt/gsyw/202602/t20260204_163644.html"
SAMPLE_DOCID = 163644
SAMPLE_CREATED = dt.datetime(2026, 2, 4, 9, 32, 17, tzinfo=CST)
SAMPLE_SHOWN = dt.datetime(2026, 2, 3, tzinfo=CST)
# 1482990000000 ms is 2016-12-29: the old CMS named pages after their publication time.
OLD_URL = "/zgly/xwdt/webinfo/2016/12/1482990000000001.htm"
OLD_URL_SHOWN = dt.datetime(2016, 12, 29, tzinfo=CST)
MIRROR = "http://mirror.example.invalid"
# Creation time of the newest generated article; a later site state adds articles after it.
NEWEST = dt.datetime(2026, 2, 6, 17, 40, tzinfo=CST)
STATIC_MODIFIED = dt.datetime(2025, 6, 30, 10, 0, tzinfo=CST)

NEWS_SECTIONS = {
    "xwdt/gsyw": "公司要闻",
    "xwdt/ggdt": "高管动态",
    "xwdt/qydt": "企业动态",
    "xwdt/mtgz": "媒体关注",
}
ANNOUNCEMENTS = "tzzgx/thygg"
SECTIONS = {**NEWS_SECTIONS, ANNOUNCEMENTS: "通函与公告"}
PARENTS = {"xwdt": "新闻动态", "tzzgx": "投资者关系"}
# SITE.md: createPageHTML(...), `countPage = N`, or no pager at all (step index_N until 404).
PAGER_STYLES: dict[str, str | None] = {
    "xwdt/gsyw": "createPageHTML",
    "xwdt/ggdt": "countPage",
    "xwdt/qydt": None,
    "xwdt/mtgz": "createPageHTML",
    ANNOUNCEMENTS: "createPageHTML",
}
_ELLIPSIS = {ANNOUNCEMENTS: "..."}
# Uneven shares, as on the live site where 公司要闻 publishes most.
_WEIGHTS = {
    "xwdt/gsyw": 0.30,
    "xwdt/ggdt": 0.18,
    "xwdt/qydt": 0.24,
    "xwdt/mtgz": 0.18,
    ANNOUNCEMENTS: 0.10,
}
MIN_ARTICLES = 30  # below this the special cases do not all fit

STATIC_PAGES = {
    "/gywm/": (
        "关于我们",
        "中国铝业股份有限公司是中国铝业集团有限公司的控股子公司，是中国有色金属行业的龙头企业。",
    ),
    "/gywm/lxwm/": ("联系我们", "地址：北京市海淀区西直门北大街62号　邮编：100082"),
    "/gywm/cyqy/": (
        "成员企业",
        "云铝股份、中铝几内亚、郑州铝业、广西分公司、中铝香港、兰州铝业、中州铝业等。",
    ),
    "/gywm/xflx/": ("信访联系", "信访接待时间：工作日上午9:00—11:30，下午14:00—17:00。"),
    "/flsm/": ("法律声明", "本网站所载内容版权归中国铝业股份有限公司所有，未经许可不得转载。"),
    "/kjcx/": ("科技创新", "中铝股份坚持创新驱动发展，持续打造原创技术策源地。"),
    "/en/": (
        "English",
        "Aluminum Corporation of China Limited (Chalco) is a leading aluminium producer.",
    ),
    "/search/": ("站内搜索", "请输入关键字进行搜索。"),
}


# -- the member flavour (a member site of the group: zzly.chinalco.com.cn) ---------------

MEMBER_NEWS_SECTIONS = {
    "xwzx/gsyw": "公司要闻",
    "xwzx/qydt": "企业动态",
    "xwzx/mtjj": "媒体聚焦",
}
MEMBER_PARENTS = {"xwzx": "新闻中心"}
MEMBER_PAGER_STYLES: dict[str, str | None] = {
    "xwzx/gsyw": "createPageHTML",
    "xwzx/qydt": "countPage",
    "xwzx/mtjj": None,
}
_MEMBER_WEIGHTS = {"xwzx/gsyw": 0.40, "xwzx/qydt": 0.35, "xwzx/mtjj": 0.25}
MEMBER_MIN_ARTICLES = 12
MEMBER_DOCID_BASE = 500_000
"""Member docids are above this; the chalco flavour's are all below it (163644 is its
sample). The one exception is the shared story that keeps the main site's docid."""
SHARED_STORIES = 3
"""Member articles republishing a chalco-flavour article (one of them with its docid)."""
# Member article pages made before this keep the old header with an <h1 class="logo">.
MEMBER_REDESIGN = dt.datetime(2026, 1, 1, tzinfo=CST)
MEMBER_DEFAULT_NEW_ARTICLES = {"xwzx/gsyw": 2, "xwzx/qydt": 2}
MEMBER_PRIVATE_TITLE = "关于加强内部资料保密管理的通知"
MEMBER_STATIC_PAGES = {
    "/zjzz/": (
        "走进中州",
        "中铝中州铝业有限公司位于河南省焦作市，是中国铝业股份有限公司的全资子公司。",
    ),
    "/zjzz/gsjj/": (
        "公司简介",
        "中州铝业是我国重要的氧化铝生产基地，拥有氧化铝、精细氧化铝、热电等生产系统。",
    ),
    "/zjzz/zzjg/": ("组织机构", "公司设综合管理部、党委工作部、安全环保健康部、生产运行部等部门。"),
    "/djgz/": ("党建工作", "坚持以高质量党建引领保障企业高质量发展。"),
    "/lxwm/": ("联系我们", "地址：河南省焦作市修武县　邮编：454171"),
    "/search/": ("站内搜索", "请输入关键字进行搜索。"),
}
FLAVOURS = ("chalco", "member")


@dataclass(frozen=True)
class _Profile:
    """What differs between the flavours, for rendering and later states."""

    chrome: pages.Chrome
    news_sections: dict[str, str]
    parents: dict[str, str]
    pager_styles: dict[str, str | None]
    ellipsis: dict[str, str]
    static_pages: dict[str, tuple[str, str]]
    template: str
    """Template of an ordinary article page."""
    default_new: dict[str, int]
    edit_section: str
    removal_section: str


@dataclass
class FileTruth:
    """An attachment or inline image as served."""

    url_path: str
    """Absolute path on the site, e.g. /tzzgx/thygg/202601/P020260130123456789012.pdf."""
    name: str | None
    """Link text of an attachment (中国铝业2025年年度报告.pdf); None for images."""
    sha256: str
    """Hex digest of the served bytes."""
    size: int
    """Length of the served bytes."""
    media_type: str
    """Content-Type the server sends: application/pdf, image/jpeg, image/png."""


@dataclass
class ArticleTruth:
    """What a correct crawler and extractor should get out of one article page."""

    url_path: str
    """Absolute path, /<section>/<YYYYMM>/t<YYYYMMDD>_<docid>.html."""
    docid: int
    """TRS document id, unique across the site group and growing with the URL date; a
    member-site shared story that quotes a main-site document keeps that docid."""
    sections: list[str]
    """Sections listing it, home section first, e.g. ["xwdt/gsyw"] (member flavour:
    ["xwzx/gsyw"]); no slashes at the ends."""
    title: str
    source: str | None
    """来源 as printed; None when the page prints an empty 来源."""
    author: str | None
    """作者 on member-template pages; None elsewhere."""
    published: str
    """Displayed 时间 in ISO: 2026-02-03, or 2024-09-30T15:27:51+08:00 when a clock time shows."""
    paragraphs: list[str]
    """Body lines as a reader sees them, image captions included, whitespace-cleaned."""
    attachments: list[FileTruth]
    images: list[FileTruth]
    status: int
    """200 when served, 404 for the listed article that is gone."""
    template: str
    """trs (content-title/content-info/content-con) or member (<h1>, 作者)."""
    encoding: str
    """Declared charset: utf-8, or gb2312/gbk on legacy pages (bytes are GB18030)."""
    created: str = ""
    """CMS creation time (the URL date and the PubDate meta), ISO with +08:00."""


@dataclass
class Specials:
    """Paths of the deliberate hard cases, so tests need not search for them."""

    sample: str = SAMPLE_PATH
    missing: str = ""
    """Listed in 高管动态, answers 404."""
    flaky: str = ""
    """Answers 500 to its first request on each ReplicaServer, then 200."""
    redirect_from: str = OLD_URL
    """Old pre-TRS URL linked from the 公司要闻 list; 301 to redirect_to."""
    redirect_to: str = ""
    shared: str = ""
    """One article listed in two sections (公司要闻 and 高管动态)."""
    shared_image: list[str] = field(default_factory=list)
    """Two image URLs on two articles with identical bytes."""
    disallowed: str = ""
    """Listed in 公司要闻 but under a robots.txt Disallow; served 200 if fetched anyway."""
    legacy: list[str] = field(default_factory=list)
    """Pages declared gb2312/gbk, encoded GB18030, with characters outside GB2312."""
    member: list[str] = field(default_factory=list)
    empty_source: list[str] = field(default_factory=list)
    ascii_colon: list[str] = field(default_factory=list)
    news_attachment: str = ""
    """A 公司要闻 article with a PDF attachment."""
    mirror_item: str = ""
    """Off-site URL written as an item of the 媒体关注 list."""
    search: str = "/search/"


@dataclass
class _Look:
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
class _File:
    media_type: str
    payload: bytes = field(repr=False)
    modified: dt.datetime


@dataclass(frozen=True)
class _Entry:
    """One item of a section's list."""

    target: str
    """Absolute path on the site, or an absolute off-site URL."""
    title: str
    date: str
    docid: int
    verbatim: bool = False
    """Write target as is (old URL, off-site) rather than relative to the list page."""


@dataclass
class LaterState:
    """What one `ReplicaSite.advance()` changed: the site as an archivist finds it a day later."""

    day: str
    """ISO date of the change (a day after anything the site held before)."""
    new_articles: list[ArticleTruth]
    """Truths of the added articles (same objects as in `site.articles`), newest first."""
    edited: str | None
    """url_path of the edited article; its truth in `site.article(edited)` is updated."""
    edited_before: ArticleTruth | None
    """A copy of the edited article's truth before the edit."""
    removed: str | None
    """url_path of the removed article: answers 404 (or 410), no longer listed."""
    removed_files: list[str] = field(default_factory=list)
    """Images and attachments that went with the removed article (they answer 404 too)."""

    @property
    def new_paths(self) -> list[str]:
        return [a.url_path for a in self.new_articles]


# What `ReplicaSite.advance()` adds when called without arguments (chalco flavour).
DEFAULT_NEW_ARTICLES = {"xwdt/gsyw": 3, "xwdt/qydt": 2}

_PROFILES = {
    "chalco": _Profile(
        chrome=pages.CHALCO,
        news_sections=NEWS_SECTIONS,
        parents=PARENTS,
        pager_styles=PAGER_STYLES,
        ellipsis=_ELLIPSIS,
        static_pages=STATIC_PAGES,
        template="trs",
        default_new=DEFAULT_NEW_ARTICLES,
        edit_section="xwdt/gsyw",
        removal_section="xwdt/ggdt",
    ),
    "member": _Profile(
        chrome=pages.MEMBER,
        news_sections=MEMBER_NEWS_SECTIONS,
        parents=MEMBER_PARENTS,
        pager_styles=MEMBER_PAGER_STYLES,
        ellipsis={},
        static_pages=MEMBER_STATIC_PAGES,
        template="member",
        default_new=MEMBER_DEFAULT_NEW_ARTICLES,
        edit_section="xwzx/gsyw",
        removal_section="xwzx/qydt",
    ),
}
# Title words an editor swaps when correcting a headline (first match wins).
_TITLE_SWAPS = (
    ("召开", "举行"),
    ("举行", "召开"),
    ("签署", "签订"),
    ("调研", "考察"),
    ("会见", "会晤"),
    ("开展", "启动"),
    ("顺利", "正式"),
    ("荣获", "获得"),
)

Response = tuple[int, dict[str, str], bytes]
_LOGO = media.png(0, width=48, height=16)


@dataclass
class ReplicaSite:
    """The generated site: truth for tests plus on-demand rendering of every URL."""

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
    replica/redesign.py (same URLs, lists and truths; other markup and labels)."""
    shared_stories: list[tuple[str, str]] = field(default_factory=list)
    """Member flavour: (member url_path, chalco url_path) of the articles republished from
    the chalco flavour of the same seed (same title and paragraphs), newest first."""
    _looks: dict[str, _Look] = field(default_factory=dict, repr=False)
    _files: dict[str, _File] = field(default_factory=dict, repr=False)
    _extras: dict[str, list[_Entry]] = field(default_factory=dict, repr=False)
    _list_hrefs: dict[str, str] = field(default_factory=dict, repr=False)
    _private: dict[str, tuple[str, dt.datetime]] = field(default_factory=dict, repr=False)
    _by_path: dict[str, ArticleTruth] = field(default_factory=dict, repr=False)
    _entries: dict[str, list[_Entry]] = field(default_factory=dict, repr=False)
    _modified: dict[str, dt.datetime] = field(default_factory=dict, repr=False)
    _routes: dict[str, tuple[str, str]] = field(default_factory=dict, repr=False)
    _unlisted: set[str] = field(default_factory=set, repr=False)
    """Removed articles: still answered (404/410) but on no list."""
    _touched: dict[str, dt.datetime] = field(default_factory=dict, repr=False)
    """Per section, when a later state last changed its list other than by adding."""

    def __post_init__(self) -> None:
        if self.flavour not in _PROFILES:
            raise ValueError(f"unknown flavour: {self.flavour}")
        if self.template not in redesign.TEMPLATES:
            raise ValueError(f"unknown template: {self.template}")
        self.reindex()

    @property
    def profile(self) -> _Profile:
        return _PROFILES[self.flavour]

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

    def file_bytes(self, url_path: str) -> bytes:
        return self._files[url_path].payload

    def replace_file(self, url_path: str, payload: bytes) -> None:
        """A corrected attachment or image uploaded under the same name, a day later: the
        URL serves `payload` with a new Last-Modified (so a new ETag), and the truth of
        every article naming it follows. Lists and pages keep their bytes."""
        if url_path not in self._files:
            raise ValueError(f"not a file of the site: {url_path}")
        old = self._files[url_path]
        day = self._next_day()
        self._files[url_path] = _File(old.media_type, payload, day)
        self._touched[url_path] = day  # so that a later advance() comes after it
        for article in self.articles:
            for truth in article.attachments + article.images:
                if truth.url_path == url_path:
                    truth.sha256 = hashlib.sha256(payload).hexdigest()
                    truth.size = len(payload)

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
        entries: dict[str, list[_Entry]] = {s: list(self._extras.get(s, [])) for s in self.sections}
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
                    _Entry(
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

    # -- later states ------------------------------------------------------------

    def advance(
        self,
        *,
        new_articles: dict[str, int] | None = None,
        edit: str | None = None,
        remove: str | None = None,
        remove_status: int = 404,
    ) -> LaterState:
        """Move the site on by a day, in place: a running ReplicaServer serves it at once.

        With no arguments at all, applies the defaults: `DEFAULT_NEW_ARTICLES` (member
        flavour: `MEMBER_DEFAULT_NEW_ARTICLES`), an edit of `default_edit()` and a removal
        of `default_removal()`. Otherwise only what is given:
        - new_articles: {section: count}; text-only articles (no images, no attachments) in
          the flavour's ordinary template on top of those sections, docids and dates after
          everything on the site.
        - edit: url_path of a live article; one title word changes and a paragraph is
          appended; its Last-Modified moves to the new day, so its ETag changes too.
        - remove: url_path of a live article; it answers `remove_status` (404 or 410), leaves
          every list, and its images and attachments answer 404.
        Every other article page, file and untouched list page keeps its bytes, ETag and
        Last-Modified. Pages that related to a changed article keep their stale 相关新闻
        items, as static pages do. Records the result in `changes` and returns it.
        """
        if new_articles is None and edit is None and remove is None:
            new_articles = dict(self.profile.default_new)
            edit = self.default_edit()
            remove = self.default_removal()
        new_articles = dict(new_articles or {})
        for section, count in new_articles.items():
            if section not in self.sections:
                raise ValueError(f"unknown section: {section}")
            if count < 0:
                raise ValueError(f"negative article count for {section}: {count}")
        for path in (edit, remove):
            if path is not None and (
                path not in self._by_path or self._by_path[path].status != 200
            ):
                raise ValueError(f"not a live article: {path}")
        if edit is not None and edit == remove:
            raise ValueError(f"cannot both edit and remove {edit}")
        if remove_status not in (404, 410):
            raise ValueError(f"remove_status must be 404 or 410, got {remove_status}")

        day = self._next_day()
        rng = random.Random(f"{self.seed}:later:{len(self.changes)}")
        added = self._add_articles(new_articles, day, rng)
        before = None
        if edit is not None:
            before = copy.deepcopy(self._by_path[edit])
            self._edit(self._by_path[edit], day.replace(hour=11, minute=rng.randrange(60)))
        removed_files: list[str] = []
        if remove is not None:
            removed_files = self._remove(
                self._by_path[remove], remove_status, day.replace(hour=12, minute=rng.randrange(60))
            )
        self.reindex()
        state = LaterState(
            day=day.date().isoformat(),
            new_articles=sorted(added, key=lambda a: a.docid, reverse=True),
            edited=edit,
            edited_before=before,
            removed=remove,
            removed_files=removed_files,
        )
        self.changes.append(state)
        return state

    def default_edit(self) -> str:
        """The article `advance()` edits by default: the newest ordinary live 公司要闻
        article (the flavour's usual template, UTF-8, listed only there, no attachments,
        not the sample, a shared story nor any other special case, not added or edited by
        an earlier advance)."""
        return self._ordinary(self.profile.edit_section, lambda a: not a.attachments)

    def default_removal(self) -> str:
        """The article `advance()` removes by default: the newest ordinary live 高管动态
        (member flavour: 企业动态) article (listed only there, not special), preferring one
        without files."""
        section = self.profile.removal_section
        try:
            return self._ordinary(section, lambda a: not a.attachments and not a.images)
        except LookupError:
            return self._ordinary(section, lambda a: True)

    def _special_paths(self) -> set[str]:
        s = self.specials
        paths = {
            s.sample,
            s.missing,
            s.flaky,
            s.redirect_to,
            s.shared,
            s.disallowed,
            s.news_attachment,
            *s.legacy,
            *s.empty_source,
            *s.ascii_colon,
            *(member for member, _ in self.shared_stories),
        }
        if self.flavour == "chalco":
            paths.update(s.member)  # on chalco.com.cn the member template is the odd one
        shared_images = set(s.shared_image)
        paths.update(
            a.url_path for a in self.articles if any(f.url_path in shared_images for f in a.images)
        )
        for state in self.changes:
            paths.update(state.new_paths)
            paths.update(p for p in (state.edited, state.removed) if p)
        return paths

    def _ordinary(self, section: str, accept: Callable[[ArticleTruth], bool]) -> str:
        special = self._special_paths()
        for entry in self._entries[section]:
            a = self._by_path.get(entry.target)
            if (
                a is not None
                and not entry.verbatim
                and a.status == 200
                and a.sections == [section]
                and a.template == self.profile.template
                and a.encoding == "utf-8"
                and a.url_path not in special
                and accept(a)
            ):
                return a.url_path
        raise LookupError(f"no ordinary live article in {section}")

    def _next_day(self) -> dt.datetime:
        latest = max(
            [look.created for look in self._looks.values()]
            + [look.modified for look in self._looks.values()]
            + list(self._touched.values())
            + [moment for _, moment in self._private.values()]
        )
        return dt.datetime.combine(latest.date() + dt.timedelta(days=1), dt.time(8), tzinfo=CST)

    def _add_articles(
        self, counts: dict[str, int], day: dt.datetime, rng: random.Random
    ) -> list[ArticleTruth]:
        writer = Writer()
        docid = max(
            [a.docid for a in self.articles]
            + [e.docid for extra in self._extras.values() for e in extra]
        )
        docid += 20  # a day of other channels and member sites taking ids
        moment = day
        added: list[ArticleTruth] = []
        for section, count in counts.items():
            # Newest live items of the section, for the new pages' 相关新闻.
            near = [
                self._by_path[e.target]
                for e in self._entries[section]
                if e.target in self._by_path and self._by_path[e.target].status == 200
            ][:2]
            for _ in range(count):
                docid += rng.randint(2, 12)
                moment += dt.timedelta(minutes=rng.randint(3, 25), seconds=rng.randrange(60))
                truth, look = self._new_article(writer, section, docid, moment, near, rng)
                self.articles.insert(0, truth)
                self._looks[truth.url_path] = look
                added.append(truth)
                near = [truth, *near][:2]
        self.articles.sort(key=lambda a: a.docid, reverse=True)
        return added

    def _new_article(
        self,
        writer: Writer,
        section: str,
        docid: int,
        created: dt.datetime,
        near: list[ArticleTruth],
        rng: random.Random,
    ) -> tuple[ArticleTruth, _Look]:
        if self.flavour == "member":
            return self._new_member_article(writer, section, docid, created, near, rng)
        text_rng = random.Random(f"{self.seed}:{docid}")
        shown = created.date()
        if section == ANNOUNCEMENTS:
            story = writer.announcement(text_rng, shown)
            # Text-only: no attachment for the 具体内容详见附件 line to point at.
            story.paragraphs = [t for t in story.paragraphs if "附件" not in t]
        else:
            story = writer.news(text_rng, section, shown)
        url_path = f"/{section}/{created:%Y%m}/t{created:%Y%m%d}_{docid}.html"
        blocks: list[tuple[str, str, str | None]] = [("p", t, None) for t in story.paragraphs]
        original = None
        if section == "xwdt/mtgz":
            original = f"{MIRROR}/{created:%Y-%m/%d}/content_{docid}.htm"
        truth = ArticleTruth(
            url_path=url_path,
            docid=docid,
            sections=[section],
            title=story.title,
            source=story.source,
            author=None,
            published=shown.isoformat(),
            paragraphs=_reader_lines(blocks),
            attachments=[],
            images=[],
            status=200,
            template="trs",
            encoding="utf-8",
            created=created.isoformat(),
        )
        look = _Look(
            colon="：",
            paragraph_style=rng.choice(["indent", "indent", "ideographic", "span"]),
            published_raw=shown.isoformat(),
            blocks=blocks,
            modified=created + dt.timedelta(minutes=rng.randint(1, 30)),
            created=created,
            related=[_related_item(t) for t in near],
            original=original,
        )
        return truth, look

    def _new_member_article(
        self,
        writer: Writer,
        section: str,
        docid: int,
        created: dt.datetime,
        near: list[ArticleTruth],
        rng: random.Random,
    ) -> tuple[ArticleTruth, _Look]:
        """A text-only article in the member template, shown at its creation time."""
        text_rng = random.Random(f"{self.seed}:member:{docid}")
        story = writer.member_news(
            text_rng, section.split("/")[1], created.date(), pages.MEMBER_SHORT_NAME
        )
        blocks: list[tuple[str, str, str | None]] = [("p", t, None) for t in story.paragraphs]
        truth = ArticleTruth(
            url_path=f"/{section}/{created:%Y%m}/t{created:%Y%m%d}_{docid}.html",
            docid=docid,
            sections=[section],
            title=story.title,
            source=story.source,
            author=writer.author(text_rng),
            published=created.isoformat(),
            paragraphs=_reader_lines(blocks),
            attachments=[],
            images=[],
            status=200,
            template="member",
            encoding="utf-8",
            created=created.isoformat(),
        )
        look = _Look(
            colon="：",
            paragraph_style=rng.choice(["mso", "indent", "ideographic"]),
            published_raw=created.strftime("%Y-%m-%d %H:%M:%S"),
            blocks=blocks,
            modified=created + dt.timedelta(minutes=rng.randint(1, 30)),
            created=created,
            related=[_related_item(t) for t in near],
            logo_h1=created < MEMBER_REDESIGN,
        )
        return truth, look

    def _edit(self, truth: ArticleTruth, moment: dt.datetime) -> None:
        look = self._looks[truth.url_path]
        for old, new in _TITLE_SWAPS:
            if old in truth.title:
                truth.title = truth.title.replace(old, new, 1)
                break
        else:
            truth.title += "（更新）"
        note = (
            f"（{moment.month}月{moment.day}日更新）截至目前，"
            "上述各项工作正在有序推进，后续进展将持续报道。"
        )
        look.blocks = [*look.blocks, ("p", note, None)]
        look.modified = moment
        truth.paragraphs = _reader_lines(look.blocks)
        for section in truth.sections:
            self._touched[section] = max(self._touched.get(section, moment), moment)

    def _remove(self, truth: ArticleTruth, status: int, moment: dt.datetime) -> list[str]:
        truth.status = status
        self._unlisted.add(truth.url_path)
        gone = [f.url_path for f in truth.attachments + truth.images if f.url_path in self._files]
        for path in gone:
            del self._files[path]
        for section in truth.sections:
            self._touched[section] = max(self._touched.get(section, moment), moment)
        return gone

    # -- rendering ---------------------------------------------------------------

    def render(self, path: str, host: str) -> Response | None:
        """The response for a GET of `path` with Host `host`; None when nothing is there."""
        host = host or "127.0.0.1"
        route = self._routes.get(path)
        if route is None:
            # Like Apache: a directory asked for without its slash is redirected.
            if not path.endswith("/") and self._routes.get(path + "/"):
                return _redirect(host, path + "/")
            return None
        kind, key = route
        if kind == "article":
            return self._article_page(self._by_path[key], host)
        if kind == "list":
            section, page = key.split("|")
            return self._list_page(section, int(page), host)
        if kind == "file":
            file = self._files[key]
            return 200, _validators(file.media_type, file.payload, file.modified), file.payload
        if kind == "home":
            return self._member_home() if self.flavour == "member" else self._home()
        if kind == "landing":
            return self._landing(key)
        if kind == "static":
            return self._static(key)
        if kind == "private":
            return self._private_page(key)
        if kind == "redirect":
            return _redirect(host, key)
        if kind == "robots":
            body = self.robots_txt.encode("utf-8")
            return 200, _validators("text/plain; charset=utf-8", body, STATIC_MODIFIED), body
        if kind == "logo":
            return 200, _validators("image/png", _LOGO, STATIC_MODIFIED), _LOGO
        body = pages.CSS.encode("utf-8")
        return 200, _validators("text/css", body, STATIC_MODIFIED), body

    def _news_children(self) -> list[tuple[str, str]]:
        return list(self.profile.news_sections.items())

    def _items(self, entries: list[_Entry], from_dir: str) -> list[pages.ListItem]:
        return [
            pages.ListItem(
                e.target if e.verbatim else _relative(from_dir, e.target), e.title, e.date
            )
            for e in entries
        ]

    def _list_page(self, section: str, page: int, host: str) -> Response:
        entries = self._entries[section]
        shown = entries[page * self.page_size : (page + 1) * self.page_size]
        parent = section.split("/")[0]
        newest = next((e for e in entries if e.target in self._by_path), None)
        hot = []
        if newest is not None:
            # Off-site links: the same server under its other host name, and a spam mirror.
            hot.append(
                pages.ListItem(
                    f"http://{other_host(host)}{newest.target}", newest.title, newest.date
                )
            )
            hot.append(pages.ListItem(f"{MIRROR}{newest.target}", newest.title, newest.date))
        profile = self.profile
        html = pages.list_page(
            channel=self.sections[section],
            parent=(parent, profile.parents[parent]),
            siblings=[(s, n) for s, n in self.sections.items() if s.startswith(parent + "/")],
            news_children=self._news_children(),
            items=self._items(shown, f"/{section}/"),
            hot=hot,
            pager_style=profile.pager_styles.get(section),
            pages=self.list_pages[section],
            current=page,
            ellipsis=profile.ellipsis.get(section, "…"),
            chrome=profile.chrome,
        )
        return _html(html, self._modified[section])

    def _recent(self, count: int) -> list[_Entry]:
        """The newest live articles over the news sections, each once."""
        seen: set[str] = set()
        recent: list[_Entry] = []
        for entry in sorted(
            (
                e
                for s in self.profile.news_sections
                for e in self._entries[s]
                if e.target in self._by_path
            ),
            key=lambda e: (e.date, e.docid),
            reverse=True,
        ):
            if entry.target not in seen and self._by_path[entry.target].status == 200:
                seen.add(entry.target)
                recent.append(entry)
            if len(recent) == count:
                break
        return recent

    def _member_home(self) -> Response:
        parent, name = next(iter(self.profile.parents.items()))
        blocks = [(f"{parent}/", name, self._items(self._recent(8), "/"))]
        for section, channel in list(self.profile.news_sections.items())[1:]:
            blocks.append((f"{section}/", channel, self._items(self._entries[section][:5], "/")))
        html = pages.member_home(self.profile.chrome, self._news_children(), blocks)
        return _html(html, max(self._modified.values()))

    def _home(self) -> Response:
        recent = self._recent(8)
        notices = self._entries[ANNOUNCEMENTS][:5]
        html = pages.home_page(
            self._news_children(), self._items(recent, "/"), self._items(notices, "/")
        )
        return _html(html, max(self._modified.values()))

    def _landing(self, parent: str) -> Response:
        blocks = []
        children = [(s, n) for s, n in self.sections.items() if s.startswith(parent + "/")]
        for section, name in children:
            slug = section.split("/")[1]
            items = self._items(self._entries[section][:5], f"/{parent}/")
            blocks.append(
                f'<div class="column"><h3><a href="./{slug}/">{pages.esc(name)}</a></h3>'
                f'<ul class="list">\n{pages.list_items(items, 26, "…")}\n</ul>'
                f'<a class="more" href="./{slug}/">更多&gt;&gt;</a></div>'
            )
        html = pages.plain_page(
            self.profile.parents[parent],
            "../",
            self._news_children(),
            "\n".join(blocks),
            current=parent + "/",
            chrome=self.profile.chrome,
        )
        return _html(html, max(self._modified[s] for s, _ in children))

    def _static(self, path: str) -> Response:
        title, text = self.profile.static_pages[path]
        root = "../" * (path.count("/") - 1)
        body = f'<div class="static-con"><p>{pages.esc(text)}</p></div>'
        html = pages.plain_page(
            title,
            root,
            self._news_children(),
            body,
            current=path.lstrip("/"),
            chrome=self.profile.chrome,
        )
        return _html(html, STATIC_MODIFIED)

    def _private_page(self, path: str) -> Response:
        title, modified = self._private[path]
        section = "/".join(path.split("/")[1:3])
        parent = section.split("/")[0]
        view = pages.ArticleView(
            charset="utf-8",
            channel=self.sections[section],
            parent=(parent, self.profile.parents[parent]),
            title=title,
            source="办公室",
            published_raw=modified.strftime("%Y-%m-%d"),
            author=None,
            colon="：",
            metas=[("ArticleTitle", title)],
            body=pages.paragraph("本页面为内部资料，仅限公司内部网络访问，请勿转载。", "indent"),
            files=[],
            related=[],
            original=None,
        )
        if self.flavour == "member":
            html = pages.member_article(view, self._news_children(), pages.MEMBER, logo_h1=True)
        else:
            html = pages.trs_article(view)
        return _html(html, modified)

    def _article_page(self, article: ArticleTruth, host: str) -> Response:
        if article.status != 200:
            message = "Gone" if article.status == 410 else "您访问的页面不存在或已被删除"
            body = pages.error_page(article.status, message).encode("utf-8")
            return article.status, {"Content-Type": "text/html; charset=utf-8"}, body
        look = self._looks[article.url_path]
        section = article.sections[0]
        parent = section.split("/")[0]
        folder = posixpath.dirname(article.url_path) + "/"
        related = []
        for i, (path, title, date) in enumerate(look.related):
            if look.related_offsite and i == 0:
                href = f"http://{other_host(host)}{path}"  # TRS sometimes writes absolute links
            else:
                href = _relative(folder, path)
            related.append(pages.ListItem(href, title, date))
        metas = [
            ("SiteName", self.site_name),
            ("ColumnName", self.sections[section]),
            ("ArticleTitle", article.title),
            ("PubDate", look.created.strftime("%Y-%m-%d %H:%M")),
        ]
        if article.source or article.template == "trs":
            metas.append(("ContentSource", article.source or ""))
        view = pages.ArticleView(
            charset=article.encoding,
            channel=self.sections[section],
            parent=(parent, self.profile.parents[parent]),
            title=article.title,
            source=article.source or "",
            published_raw=look.published_raw,
            author=article.author,
            colon=look.colon,
            metas=metas,
            body=_body_html(look),
            files=[(posixpath.basename(f.url_path), f.name or "") for f in article.attachments],
            related=related,
            original=look.original,
        )
        if self.template == "redesign":
            html = redesign.redesign_article(view, self._news_children(), self.profile.chrome)
        elif article.template == "member":
            html = pages.member_article(
                view, self._news_children(), self.profile.chrome, look.logo_h1
            )
        else:
            html = pages.trs_article(view)
        return _html(html, look.modified, article.encoding)


def other_host(host: str) -> str:
    """The same server under its other loopback name (127.0.0.1 <-> localhost)."""
    name, sep, port = host.rpartition(":")
    if not sep or not port.isdigit():
        name, port = host, ""
    alt = "127.0.0.1" if name == "localhost" else "localhost"
    return f"{alt}:{port}" if port else alt


def _relative(from_dir: str, target: str) -> str:
    rel = posixpath.relpath(target, from_dir)
    return rel if rel.startswith("../") else "./" + rel


def _body_html(look: _Look) -> str:
    parts = []
    for kind, text, caption in look.blocks:
        if kind == "p":
            parts.append(pages.paragraph(text, look.paragraph_style))
        elif kind == "img":
            parts.append(pages.image(text, caption))
        else:
            parts.append("<p>&nbsp;</p>")
    return "\n".join(parts)


def _http_date(moment: dt.datetime) -> str:
    return email.utils.format_datetime(moment.astimezone(dt.UTC), usegmt=True)


def _validators(content_type: str, body: bytes, modified: dt.datetime) -> dict[str, str]:
    return {
        "Content-Type": content_type,
        "Last-Modified": _http_date(modified),
        "ETag": '"' + hashlib.sha1(body).hexdigest()[:16] + '"',
    }


def _html(html: str, modified: dt.datetime, charset: str = "utf-8") -> Response:
    # Legacy labels are encoded as GB18030, a superset, as browsers decode them.
    body = html.encode("gb18030" if charset in ("gb2312", "gbk") else "utf-8")
    return 200, _validators(f"text/html; charset={charset}", body, modified), body


def _redirect(host: str, target: str) -> Response:
    body = pages.error_page(301, "Moved Permanently").encode("utf-8")
    return (
        301,
        {"Location": f"http://{host}{target}", "Content-Type": "text/html; charset=utf-8"},
        body,
    )


# -- generation ----------------------------------------------------------------------


def build_site(
    articles: int = 60,
    page_size: int = 5,
    seed: int = 2026,
    flavour: str = "chalco",
    template: str = "standard",
) -> ReplicaSite:
    """Generate the site: `articles` counts news and announcements together.

    flavour="chalco" is www.chalco.com.cn; flavour="member" a member site of the group
    with `articles` news articles under /xwzx/, the same as
    `build_group(seed, articles=60, member_articles=articles, page_size=page_size)[1]`
    (its shared stories republish articles of the default-sized chalco flavour).

    template="redesign" is the same site (articles, URLs, lists, truths) after a redesign
    of its article template (replica/redesign.py): the bundled profiles read its pages
    wrongly, `redesign.fitted_profile_toml(flavour)` reads them exactly. The template can
    also be switched on a built site (`site.template = "redesign"`), as on the day the
    live site changed.
    """
    if flavour not in FLAVOURS:
        raise ValueError(f"flavour must be one of {', '.join(FLAVOURS)}, got {flavour!r}")
    if template not in redesign.TEMPLATES:
        raise ValueError(
            f"template must be one of {', '.join(redesign.TEMPLATES)}, got {template!r}"
        )
    if flavour == "member":
        site = build_group(seed, articles=60, member_articles=articles, page_size=page_size)[1]
    else:
        if articles < MIN_ARTICLES:
            raise ValueError(f"articles must be at least {MIN_ARTICLES}, got {articles}")
        if page_size < 1:
            raise ValueError(f"page_size must be positive, got {page_size}")
        site = _Builder(articles, page_size, seed).build()
    site.template = template
    return site


def build_group(
    seed: int = 2026, articles: int = 60, member_articles: int = 40, page_size: int = 5
) -> tuple[ReplicaSite, ReplicaSite]:
    """The main site (chalco flavour, as `build_site(articles, page_size, seed)`) and a
    member site (member flavour) whose shared stories republish main-site articles.

    The member site has `SHARED_STORIES` shared stories in 公司要闻, recorded in its
    `shared_stories` as (member url_path, chalco url_path): same title and paragraphs as
    the chalco article, other URL, other template, its own docid (above
    `MEMBER_DOCID_BASE`), except one that keeps the chalco docid and URL date.
    """
    main = build_site(articles=articles, page_size=page_size, seed=seed)
    if member_articles < MEMBER_MIN_ARTICLES:
        raise ValueError(
            f"member_articles must be at least {MEMBER_MIN_ARTICLES}, got {member_articles}"
        )
    return main, _MemberBuilder(member_articles, page_size, seed, main).build()


def default_later_state(site: ReplicaSite) -> LaterState:
    """Advance `site` in place with the defaults (same as `site.advance()`)."""
    return site.advance()


def section_counts(articles: int, page_size: int) -> dict[str, int]:
    """Articles per section: largest remainder over _WEIGHTS, then news sections topped up."""
    return _counts(articles, page_size, _WEIGHTS, NEWS_SECTIONS)


def _counts(
    articles: int, page_size: int, weights: dict[str, float], news: dict[str, str]
) -> dict[str, int]:
    raw = {s: articles * w for s, w in weights.items()}
    counts = {s: int(v) for s, v in raw.items()}
    for s in sorted(raw, key=lambda s: raw[s] - counts[s], reverse=True)[
        : articles - sum(counts.values())
    ]:
        counts[s] += 1
    # Three list pages per news section when the total allows it, so pagers get exercised.
    floor = 2 * page_size + 1
    for s in news:
        while counts[s] < floor:
            donor = max(counts, key=lambda d: counts[d])
            if counts[donor] <= floor:
                break
            counts[donor] -= 1
            counts[s] += 1
    return counts


@dataclass
class _Plan:
    section: str
    kind: str
    """sample, regular, announcement, redirect, gb2312, gbk, migrated."""
    created: dt.datetime
    docid: int = 0
    shown: dt.datetime = NEWEST
    template: str = "trs"
    roles: set[str] = field(default_factory=set)
    origin: ArticleTruth | None = None
    """Member flavour: the chalco-flavour article a shared story republishes."""
    same_docid: bool = False
    """Member flavour: the shared story keeps the origin's docid (and its URL date)."""


class _Builder:
    def __init__(self, articles: int, page_size: int, seed: int) -> None:
        self.n = articles
        self.page_size = page_size
        self.seed = seed
        self.rng = random.Random(seed)
        self.writer = Writer()
        self.files: dict[str, _File] = {}
        self.specials = Specials()
        self.shared_payload = media.jpeg(seed * 7919 + 1)

    def build(self) -> ReplicaSite:
        plans = self._plan(section_counts(self.n, self.page_size))
        self._assign_docids(plans)
        self._style(plans)
        by_section = {
            s: sorted(
                (p for p in plans if p.section == s),
                key=lambda p: (p.shown.date(), p.docid),
                reverse=True,
            )
            for s in SECTIONS
        }
        self._assign_roles(by_section)

        truths: list[ArticleTruth] = []
        looks: dict[str, _Look] = {}
        by_docid: dict[int, ArticleTruth] = {}
        for plan in sorted(plans, key=lambda p: p.docid, reverse=True):
            truth, look = self._article(plan)
            truths.append(truth)
            looks[truth.url_path] = look
            by_docid[plan.docid] = truth
        self._relate(by_section, by_docid, looks)

        site = ReplicaSite(
            articles=truths,
            sections=dict(SECTIONS),
            page_size=self.page_size,
            specials=self.specials,
            flaky_paths={self.specials.flaky},
            seed=self.seed,
            _looks=looks,
            _files=self.files,
        )
        self._add_extras(site, by_section, by_docid)
        site.reindex()
        return site

    def _plan(self, counts: dict[str, int]) -> list[_Plan]:
        rng = self.rng
        remaining = dict(counts)
        plans = [_Plan("xwdt/gsyw", "sample", SAMPLE_CREATED)]
        remaining["xwdt/gsyw"] -= 1
        migrated = [("xwdt/gsyw", "redirect"), ("xwdt/gsyw", "gb2312"), ("xwdt/qydt", "gbk")]
        for i in range(self.n // 150):
            migrated.append(
                (("xwdt/gsyw", "xwdt/qydt")[i % 2], "gb2312" if i % 3 == 2 else "migrated")
            )
        for section, kind in migrated:
            remaining[section] -= 1
            # The 2020 move to TRS re-created old pages: URL dates in December 2020.
            created = dt.datetime(
                2020,
                12,
                rng.randint(14, 18),
                rng.randint(9, 17),
                rng.randrange(60),
                rng.randrange(60),
                tzinfo=CST,
            )
            plans.append(_Plan(section, kind, created))
        labels = [s for s, c in remaining.items() for _ in range(c)]
        rng.shuffle(labels)
        mean_gap = min(1.2, 1800 / self.n)  # days; keeps every regular article after 2020
        moment = NEWEST
        for label in labels:
            kind = "announcement" if label == ANNOUNCEMENTS else "regular"
            plans.append(_Plan(label, kind, moment.replace(microsecond=0)))
            moment -= dt.timedelta(days=rng.uniform(0.05, 2 * mean_gap - 0.05))
        return plans

    def _assign_docids(self, plans: list[_Plan]) -> None:
        mean = max(3, min(20, 100_000 // self.n))
        running = 0
        ordered = sorted(plans, key=lambda p: p.created)
        previous = ordered[0].created
        for plan in ordered:
            # Other channels and member sites take the ids in between, about 20 a day.
            days = (plan.created - previous).total_seconds() / 86400
            running += self.rng.randint(2, 2 * mean - 2) + int(days * 20)
            plan.docid = running
            previous = plan.created
        sample = next(p for p in plans if p.kind == "sample")
        shift = SAMPLE_DOCID - sample.docid
        for plan in plans:
            plan.docid += shift
        if ordered[0].docid <= 0:
            raise ValueError(f"too many articles for docids below {SAMPLE_DOCID}: {self.n}")

    def _style(self, plans: list[_Plan]) -> None:
        rng = self.rng
        for plan in plans:
            if plan.kind == "gbk" or (
                plan.kind == "regular" and plan.section == "xwdt/qydt" and rng.random() < 0.5
            ):
                plan.template = "member"
            elif plan.kind == "regular" and plan.section == "xwdt/mtgz" and rng.random() < 0.2:
                plan.template = "member"
        if not any(p.template == "member" and p.kind == "regular" for p in plans):
            next(
                p for p in plans if p.kind == "regular" and p.section == "xwdt/qydt"
            ).template = "member"
        for plan in plans:
            if plan.kind == "sample":
                shown = SAMPLE_SHOWN
            elif plan.kind == "redirect":
                shown = OLD_URL_SHOWN
            elif plan.kind in ("gb2312", "gbk", "migrated"):
                shown = dt.datetime(2016, 1, 4, tzinfo=CST) + dt.timedelta(days=rng.randrange(1450))
            else:
                # SITE.md: the displayed date is often 1-3 days before the URL (creation) date.
                lag = rng.choices([0, 1, 2, 3], weights=[45, 30, 15, 10])[0]
                shown = plan.created - dt.timedelta(days=lag)
            if plan.template == "member":
                shown = shown.replace(
                    hour=rng.randint(8, 21), minute=rng.randrange(60), second=rng.randrange(60)
                )
            else:
                shown = shown.replace(hour=0, minute=0, second=0)
            plan.shown = shown

    def _assign_roles(self, by_section: dict[str, list[_Plan]]) -> None:
        def pick(section: str, k: int, role: str, kind: str = "regular") -> None:
            free = [p for p in by_section[section] if p.kind == kind and not p.roles]
            free[min(k, len(free) - 1)].roles.add(role)

        pick("xwdt/gsyw", 0, "offsite_related")
        pick("xwdt/gsyw", 1, "shared")
        pick("xwdt/gsyw", 1, "image_a")
        pick("xwdt/gsyw", 1, "news_attachment")
        pick("xwdt/ggdt", 0, "ascii_colon")
        pick("xwdt/ggdt", 1, "missing")
        pick("xwdt/ggdt", 1, "empty_source")
        pick("xwdt/qydt", 1, "flaky")
        pick("xwdt/qydt", 1, "image_b")
        pick(ANNOUNCEMENTS, 0, "two_attachments", kind="announcement")

    def _image(
        self, plan: _Plan, rng: random.Random, index: int, shared: bool
    ) -> tuple[str, bytes]:
        ext = "jpg" if shared or rng.random() < 0.6 else "png"
        if shared:
            payload = self.shared_payload
        elif ext == "jpg":
            payload = media.jpeg(self.seed * 1_000_003 + plan.docid * 8 + index)
        else:
            payload = media.png(self.seed * 1_000_003 + plan.docid * 8 + index)
        return f"W0{plan.created:%Y%m%d}{rng.randrange(10**11, 10**12)}.{ext}", payload

    def _add_file(
        self, folder: str, name: str, payload: bytes, media_type: str, modified: dt.datetime
    ) -> str:
        path = folder + name
        if path in self.files:
            raise ValueError(f"file name collision: {path}")
        self.files[path] = _File(media_type, payload, modified)
        return path

    def _article(self, plan: _Plan) -> tuple[ArticleTruth, _Look]:
        rng = random.Random(f"{self.seed}:{plan.docid}")
        folder = f"/{plan.section}/{plan.created:%Y%m}/"
        url_path = f"{folder}t{plan.created:%Y%m%d}_{plan.docid}.html"
        shown_date = plan.shown.date()
        story = self._story(plan, rng, shown_date)
        modified = plan.created + dt.timedelta(minutes=rng.randint(3, 240))
        sections = [plan.section] + (["xwdt/ggdt"] if "shared" in plan.roles else [])

        source = story.source
        if "empty_source" in plan.roles or (plan.kind == "regular" and rng.random() < 0.08):
            source = None
        if plan.kind == "sample":
            colon, style = "：", "indent"
        else:
            colon = (
                ":"
                if "ascii_colon" in plan.roles
                else rng.choices(["：", ":", ": "], [75, 15, 10])[0]
            )
            styles = (
                ["mso", "indent", "ideographic"]
                if plan.template == "member"
                else ["indent", "indent", "ideographic", "span"]
            )
            style = rng.choice(styles)

        blocks: list[tuple[str, str, str | None]] = [("p", text, None) for text in story.paragraphs]
        images: list[FileTruth] = []
        gone = "missing" in plan.roles  # a removed page takes its files with it
        wants_images = (
            "image_a" in plan.roles
            or "image_b" in plan.roles
            or (plan.kind not in ("sample", "announcement") and rng.random() < 0.35 and not gone)
        )
        if wants_images:
            count = 2 if rng.random() < 0.2 else 1
            at = 1 if rng.random() < 0.7 else rng.randint(1, len(blocks))
            for index in range(count):
                shared = index == 0 and bool(plan.roles & {"image_a", "image_b"})
                name, payload = self._image(plan, rng, index, shared)
                media_type = "image/jpeg" if name.endswith(".jpg") else "image/png"
                path = self._add_file(folder, name, payload, media_type, modified)
                images.append(_file_truth(path, None, payload, media_type))
                caption = story.captions[index] if rng.random() < 0.85 else None
                blocks.insert(at, ("img", name, caption))
                at += 1
                if shared:
                    self.specials.shared_image.append(path)
        if plan.kind != "sample" and rng.random() < 0.2:
            for _ in range(rng.randint(1, 2)):
                blocks.insert(rng.randint(1, len(blocks)), ("blank", "", None))

        attachments = []
        names: list[str] = []
        if plan.kind == "announcement":
            names.append(f"{story.title}.pdf")
            if rng.random() < 0.2 or "two_attachments" in plan.roles:
                names.append(rng.choice(["独立非执行董事意见.pdf", f"{story.title}（英文版）.pdf"]))
        elif "news_attachment" in plan.roles or (
            plan.kind == "regular" and rng.random() < 0.04 and not gone
        ):
            names.append(self.writer.attachment_name(rng, story.title))
        for name in names:
            stem = f"P0{plan.created:%Y%m%d}{rng.randrange(10**11, 10**12)}"
            payload = media.pdf(
                name.removesuffix(".pdf"),
                ["Aluminum Corporation of China Limited", stem, f"docid {plan.docid}"],
            )
            path = self._add_file(folder, stem + ".pdf", payload, "application/pdf", modified)
            attachments.append(_file_truth(path, name, payload, "application/pdf"))

        if plan.template == "member":
            published = plan.shown.isoformat()
            published_raw = plan.shown.strftime("%Y-%m-%d %H:%M:%S")
            author: str | None = self.writer.author(rng)
        else:
            published = shown_date.isoformat()
            published_raw = published
            author = None
        encoding = plan.kind if plan.kind in ("gb2312", "gbk") else "utf-8"
        original = None
        if plan.section == "xwdt/mtgz":
            original = f"{MIRROR}/{plan.created:%Y-%m/%d}/content_{plan.docid}.htm"

        truth = ArticleTruth(
            url_path=url_path,
            docid=plan.docid,
            sections=sections,
            title=story.title,
            source=source,
            author=author,
            published=published,
            paragraphs=_reader_lines(blocks),
            attachments=attachments,
            images=images,
            status=404 if "missing" in plan.roles else 200,
            template=plan.template,
            encoding=encoding,
            created=plan.created.isoformat(),
        )
        look = _Look(
            colon=colon,
            paragraph_style=style,
            published_raw=published_raw,
            blocks=blocks,
            modified=modified,
            created=plan.created,
            related_offsite="offsite_related" in plan.roles or rng.random() < 0.25,
            original=original,
        )
        self._note(plan, truth, colon)
        return truth, look

    def _story(self, plan: _Plan, rng: random.Random, shown: dt.date) -> Story:
        if plan.kind == "sample":
            sample = load_sample()
            return Story(sample.title, sample.source, list(sample.paragraphs))
        if plan.kind == "redirect":
            return self.writer.year_end_meeting(rng, shown)
        if plan.kind in ("gb2312", "gbk"):
            return self.writer.legacy(rng, shown, in_title=plan.kind == "gb2312")
        if plan.kind == "announcement":
            return self.writer.announcement(rng, shown)
        return self.writer.news(rng, plan.section, shown)

    def _note(self, plan: _Plan, truth: ArticleTruth, colon: str) -> None:
        s = self.specials
        path = truth.url_path
        if "missing" in plan.roles:
            s.missing = path
        if "flaky" in plan.roles:
            s.flaky = path
        if "shared" in plan.roles:
            s.shared = path
        if "news_attachment" in plan.roles:
            s.news_attachment = path
        if plan.kind == "redirect":
            s.redirect_to = path
        if truth.encoding != "utf-8":
            s.legacy.append(path)
        if truth.template == "member":
            s.member.append(path)
        if truth.source is None:
            s.empty_source.append(path)
        if colon.strip() == ":":
            s.ascii_colon.append(path)

    def _relate(
        self,
        by_section: dict[str, list[_Plan]],
        by_docid: dict[int, ArticleTruth],
        looks: dict[str, _Look],
    ) -> None:
        for plans in by_section.values():
            live = [by_docid[p.docid] for p in plans if by_docid[p.docid].status == 200]
            for i, truth in enumerate(live):
                near = live[max(0, i - 2) : i] + live[i + 1 : i + 3]
                looks[truth.url_path].related = [_related_item(t) for t in near]

    def _add_extras(
        self,
        site: ReplicaSite,
        by_section: dict[str, list[_Plan]],
        by_docid: dict[int, ArticleTruth],
    ) -> None:
        # A 公司要闻 item under a robots.txt Disallow, beside the second newest item.
        anchor = by_docid[by_section["xwdt/gsyw"][1].docid]
        created = dt.datetime.fromisoformat(anchor.created)
        # Same depth as an article folder, so the template's relative links still resolve.
        private = f"/xwdt/gsyw/private/t{created:%Y%m%d}_{anchor.docid + 1}.html"
        site._private[private] = ("关于做好内部资料管理工作的通知", created)
        site._extras.setdefault("xwdt/gsyw", []).append(
            _Entry(
                private, "关于做好内部资料管理工作的通知", anchor.published[:10], anchor.docid + 1
            )
        )
        self.specials.disallowed = private
        # 媒体关注 lists a copy on a mirror site at its top.
        top = by_docid[by_section["xwdt/mtgz"][0].docid]
        mirror = f"{MIRROR}{top.url_path}"
        site._extras.setdefault("xwdt/mtgz", []).append(
            _Entry(mirror, f"【转载】{top.title}", top.published[:10], top.docid + 1, verbatim=True)
        )
        self.specials.mirror_item = mirror
        # The migrated year-end page is listed under its pre-TRS URL.
        site._list_hrefs[self.specials.redirect_to] = OLD_URL


def _related_item(truth: ArticleTruth) -> tuple[str, str, str]:
    return truth.url_path, truth.title, truth.published[:10]


def _reader_lines(blocks: list[tuple[str, str, str | None]]) -> list[str]:
    """Body lines a reader sees: paragraphs and captions; images and blank <p>s show no text."""
    lines = []
    for kind, text, caption in blocks:
        if kind == "p":
            lines.append(text)
        elif kind == "img" and caption:
            lines.append(caption)
    return lines


def _file_truth(path: str, name: str | None, payload: bytes, media_type: str) -> FileTruth:
    return FileTruth(path, name, hashlib.sha256(payload).hexdigest(), len(payload), media_type)


class _MemberBuilder(_Builder):
    """A member site (中州铝业): news under /xwzx/, member template throughout, a docid
    block of its own above MEMBER_DOCID_BASE, and stories republished from `main`."""

    def __init__(self, articles: int, page_size: int, seed: int, main: ReplicaSite) -> None:
        super().__init__(articles, page_size, seed)
        self.rng = random.Random(f"{seed}:member")
        self.main = main
        self.specials = Specials(sample="", redirect_from="")

    def build(self) -> ReplicaSite:
        plans = self._plan(_counts(self.n, self.page_size, _MEMBER_WEIGHTS, MEMBER_NEWS_SECTIONS))
        self._assign_docids(plans)
        self._style(plans)
        by_section = {
            s: sorted(
                (p for p in plans if p.section == s),
                key=lambda p: (p.shown.date(), p.docid),
                reverse=True,
            )
            for s in MEMBER_NEWS_SECTIONS
        }
        self._assign_roles(by_section)

        truths: list[ArticleTruth] = []
        looks: dict[str, _Look] = {}
        by_docid: dict[int, ArticleTruth] = {}
        for plan in sorted(plans, key=lambda p: p.docid, reverse=True):
            truth, look = self._article(plan)
            truths.append(truth)
            looks[truth.url_path] = look
            by_docid[plan.docid] = truth
        self._relate(by_section, by_docid, looks)
        shared = sorted(
            (p for p in plans if p.origin is not None), key=lambda p: p.created, reverse=True
        )
        site = ReplicaSite(
            articles=truths,
            sections=dict(MEMBER_NEWS_SECTIONS),
            page_size=self.page_size,
            specials=self.specials,
            flaky_paths=set(),
            seed=self.seed,
            flavour="member",
            shared_stories=[
                (by_docid[p.docid].url_path, p.origin.url_path)
                for p in shared
                if p.origin is not None
            ],
            _looks=looks,
            _files=self.files,
        )
        self._add_extras(site, by_section, by_docid)
        site.reindex()
        return site

    def _origins(self) -> list[ArticleTruth]:
        """Main-site articles to republish: recent text-only 公司要闻 (then other news)
        pages, not the sample nor another deliberate hard case, and none that the main
        site's default later state edits or removes."""
        main = self.main
        s = main.specials
        avoid = {s.sample, s.missing, s.flaky, s.redirect_to, s.news_attachment}
        for default in (main.default_edit, main.default_removal):
            try:
                avoid.add(default())
            except LookupError:  # a small main site may have no ordinary article there
                pass
        candidates = [
            a
            for section in NEWS_SECTIONS
            for a in main.articles
            if a.sections == [section]
            and a.status == 200
            and a.encoding == "utf-8"
            and not a.images
            and not a.attachments
            and a.url_path not in avoid
        ]
        count = min(SHARED_STORIES, len(candidates))
        if count < 2:
            raise ValueError("the main site has too few plain articles to share")
        chosen = self.rng.sample(candidates[: max(count, 8)], count)
        return sorted(chosen, key=lambda a: a.docid, reverse=True)

    def _plan(self, counts: dict[str, int]) -> list[_Plan]:
        rng = self.rng
        remaining = dict(counts)
        plans: list[_Plan] = []
        origins = self._origins()
        same = len(origins) // 2
        for i, origin in enumerate(origins):
            created = dt.datetime.fromisoformat(origin.created)
            if i != same:
                # Republished a few hours to a day and a half after the main site.
                created += dt.timedelta(
                    hours=rng.randint(2, 36), minutes=rng.randrange(60), seconds=rng.randrange(60)
                )
            plan = _Plan("xwzx/gsyw", "republish", created, template="member")
            plan.origin, plan.same_docid = origin, i == same
            plans.append(plan)
        remaining["xwzx/gsyw"] -= len(origins)
        labels = [s for s, c in remaining.items() for _ in range(c)]
        rng.shuffle(labels)
        mean_gap = min(2.0, 1800 / self.n)
        moment = NEWEST - dt.timedelta(minutes=rng.randint(30, 600))
        for label in labels:
            plans.append(_Plan(label, "regular", moment.replace(microsecond=0), template="member"))
            moment -= dt.timedelta(days=rng.uniform(0.05, 2 * mean_gap - 0.05))
        return plans

    def _assign_docids(self, plans: list[_Plan]) -> None:
        # The member site's own block of ids; steps of at least 2 leave docid + 1 free.
        running = MEMBER_DOCID_BASE
        ordered = sorted((p for p in plans if not p.same_docid), key=lambda p: p.created)
        previous = ordered[0].created
        for plan in ordered:
            days = (plan.created - previous).total_seconds() / 86400
            running += self.rng.randint(2, 9) + int(days * 3)
            plan.docid = running
            previous = plan.created
        for plan in plans:
            if plan.same_docid and plan.origin is not None:
                plan.docid = plan.origin.docid

    def _style(self, plans: list[_Plan]) -> None:
        rng = self.rng
        for plan in plans:
            # Mostly released minutes after creation; some pages show an earlier day's time.
            lag = 0 if plan.kind == "republish" else rng.choices([0, 1, 2], [60, 30, 10])[0]
            if lag:
                plan.shown = (plan.created - dt.timedelta(days=lag)).replace(
                    hour=rng.randint(8, 21), minute=rng.randrange(60), second=rng.randrange(60)
                )
            else:
                plan.shown = plan.created + dt.timedelta(
                    minutes=rng.randint(2, 90), seconds=rng.randrange(60)
                )

    def _assign_roles(self, by_section: dict[str, list[_Plan]]) -> None:
        def pick(section: str, k: int, role: str) -> None:
            free = [p for p in by_section[section] if p.kind == "regular" and not p.roles]
            free[min(k, len(free) - 1)].roles.add(role)

        pick("xwzx/gsyw", 0, "image")
        pick("xwzx/qydt", 1, "empty_source")
        pick("xwzx/mtjj", 0, "image")

    def _article(self, plan: _Plan) -> tuple[ArticleTruth, _Look]:
        rng = random.Random(f"{self.seed}:member:{plan.docid}")
        folder = f"/{plan.section}/{plan.created:%Y%m}/"
        url_path = f"{folder}t{plan.created:%Y%m%d}_{plan.docid}.html"
        origin = plan.origin
        if origin is not None:
            # A shared story: the main site's title and text; a quoted document (same
            # docid) keeps its source, a copy credits the main site.
            source = origin.source if plan.same_docid else "中铝股份"
            story = Story(origin.title, source, list(origin.paragraphs))
        else:
            story = self.writer.member_news(
                rng, plan.section.split("/")[1], plan.shown.date(), pages.MEMBER_SHORT_NAME
            )
        modified = plan.created + dt.timedelta(minutes=rng.randint(3, 240))
        source = story.source
        if "empty_source" in plan.roles or (origin is None and rng.random() < 0.1):
            source = None
        colon = rng.choices(["：", ":", ": "], [80, 12, 8])[0]
        style = rng.choice(["mso", "indent", "ideographic"])

        blocks: list[tuple[str, str, str | None]] = [("p", text, None) for text in story.paragraphs]
        images: list[FileTruth] = []
        forced = "image" in plan.roles
        if origin is None and (forced or rng.random() < 0.4):
            count = 2 if rng.random() < 0.25 else 1
            at = 1 if rng.random() < 0.7 else rng.randint(1, len(blocks))
            for index in range(count):
                name, payload = self._image(plan, rng, index, shared=False)
                media_type = "image/jpeg" if name.endswith(".jpg") else "image/png"
                path = self._add_file(folder, name, payload, media_type, modified)
                images.append(_file_truth(path, None, payload, media_type))
                caption = story.captions[index] if forced or rng.random() < 0.85 else None
                blocks.insert(at, ("img", name, caption))
                at += 1
        if rng.random() < 0.2:
            for _ in range(rng.randint(1, 2)):
                blocks.insert(rng.randint(1, len(blocks)), ("blank", "", None))

        truth = ArticleTruth(
            url_path=url_path,
            docid=plan.docid,
            sections=[plan.section],
            title=story.title,
            source=source,
            author=self.writer.author(rng),
            published=plan.shown.isoformat(),
            paragraphs=_reader_lines(blocks),
            attachments=[],
            images=images,
            status=200,
            template="member",
            encoding="utf-8",
            created=plan.created.isoformat(),
        )
        look = _Look(
            colon=colon,
            paragraph_style=style,
            published_raw=plan.shown.strftime("%Y-%m-%d %H:%M:%S"),
            blocks=blocks,
            modified=modified,
            created=plan.created,
            related_offsite=rng.random() < 0.2,
            logo_h1=plan.created < MEMBER_REDESIGN,
        )
        self._note(plan, truth, colon)
        return truth, look

    def _add_extras(
        self,
        site: ReplicaSite,
        by_section: dict[str, list[_Plan]],
        by_docid: dict[int, ArticleTruth],
    ) -> None:
        # A 公司要闻 item under a robots.txt Disallow, beside a recent item of the site's own.
        own = [p for p in by_section["xwzx/gsyw"] if not p.same_docid]
        anchor = by_docid[own[min(1, len(own) - 1)].docid]
        created = dt.datetime.fromisoformat(anchor.created)
        private = f"/xwzx/gsyw/nbzl/t{created:%Y%m%d}_{anchor.docid + 1}.html"
        site._private[private] = (MEMBER_PRIVATE_TITLE, created)
        site._extras.setdefault("xwzx/gsyw", []).append(
            _Entry(private, MEMBER_PRIVATE_TITLE, anchor.published[:10], anchor.docid + 1)
        )
        self.specials.disallowed = private
