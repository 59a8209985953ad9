"""The replica's truth: what a correct crawler and extractor should get out of each article
and file, where the deliberate hard cases are, and what a later state changed."""

from __future__ import annotations

from dataclasses import dataclass, field

from replica.site.flavours import OLD_URL, SAMPLE_PATH


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
