"""Items the spider yields and what each pipeline stage reads into them, as plain dataclasses
that import nothing of the project: the spider, every stage and `reextract` build on them.

Stages fill in the later fields in order (extraction, normalization, attachments) and never
go back. The archive never sees them: pipelines.storage (and pipelines.content, for a page's
reading) map them onto the archive's own input types."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(slots=True)  # slots: a page may hold 100,000 of some of these
class ListedLink:
    """An article link on a list page."""

    article_url: str
    """Absolute URL of the article, as linked (before any redirect)."""
    title_listed: str | None
    """The link's title as the list shows it (the `title` attribute when present)."""


@dataclass
class ListPageItem:
    """A section's list page and the article links on it: how articles' sections are known."""

    site: str
    """Site profile name, e.g. `chalco`."""
    section: str
    """Section path without slashes at the ends, e.g. `xwdt/gsyw`."""
    section_name: str | None
    """The section's label in the navigation, e.g. 公司要闻."""
    list_url: str
    """The list page."""
    links: list[ListedLink]
    """Its article links, in page order (newest first)."""
    seen_at: datetime
    """When the list page was fetched, UTC."""


@dataclass(slots=True)
class FetchedFile:
    """An attachment or image named by an article, and the result of fetching it."""

    url: str
    """Absolute URL of the file."""
    role: str
    """`attachment` or `image`."""
    name: str | None
    """Human name from the page: the link text of an attachment, an image's caption."""
    capture_id: int | None
    """The archive capture holding its bytes; None when it was not fetched."""
    status: int | None = None
    """HTTP status of the fetch."""
    sha256: str | None = None
    """SHA-256 of the file's bytes (after content decoding), when fetched with status 200."""
    size: int | None = None
    """Bytes, after content decoding."""
    media_type: str | None = None
    """Content-Type as the server sent it."""
    problem: str | None = None
    """Why it could not be fetched (HTTP status, off-host, network error)."""


@dataclass(frozen=True, slots=True)
class ExtractedLink:
    """A link found in an article: an attachment or an image."""

    url: str
    """Absolute URL, resolved against the page URL and any `<base href>`."""
    name: str | None
    """Human name: the link text of an attachment; an image's caption, else its alt; else None."""


@dataclass
class Extraction:
    """What one page yielded, as seen on the page; `normalize` turns it into typed values."""

    title: str | None
    """Whitespace-cleaned title; the full one when the visible title is cut short with …"""
    source_raw: str | None
    """Text after the 来源 label; "" when the label has nothing after it; None when absent."""
    published_raw: str | None
    """The displayed time after the 时间 label, e.g. "2026-02-03" or "2024-09-30 15:27:51"."""
    author_raw: str | None
    """Text after the 作者 label; None when absent."""
    info_raw: str | None
    """The whole 来源/时间/作者 line as seen, kept for provenance."""
    meta: dict[str, str]
    """`<meta name=...>` values of ArticleTitle, PubDate, ContentSource, Keywords, Description."""
    body_text: str | None
    """One paragraph per line, captions included, boilerplate left out."""
    body_html: str | None
    """The body element's HTML without scripts and styles, every href/src absolute."""
    attachments: list[ExtractedLink] = field(default_factory=list)
    """Documents from the 附件 block and body links, de-duplicated by URL, in page order."""
    images: list[ExtractedLink] = field(default_factory=list)
    """Images inside the body, de-duplicated by URL, in page order."""
    encoding: str = "utf-8"
    """Codec used to decode the page (gb2312/gbk labels decode as gb18030)."""
    template: str = "none"
    """Which rules found the fields, for diagnostics: "selectors:<css>,…", "labels", "density",
    "meta:ArticleTitle", "title-tag", joined by "+"; "none" when nothing was found."""
    problems: list[str] = field(default_factory=list)
    """Why the page is flagged; empty when all is well."""
    provenance: dict[str, str] = field(default_factory=dict)
    """Which rule gave each field found (`title`, `source`, `published`, `author`, `body`,
    `attachments`, `images`), for `probe`: "selector:.content-title", "selector:.content-info
    label:来源", "selector:.content-info date" (a date in the element, no label),
    "labels:时间" (the text rules), "labels:heading" (the heading above the info line),
    "density" (the fallback), "meta:ArticleTitle", "title-tag", "body links" (documents
    linked in the body). A field not found has no key."""


@dataclass
class NormalizedArticle:
    """An article's fields ready to store, with the raw values they came from."""

    title: str | None
    """The title on one line, whitespace cleaned."""
    source: str | None
    """The 来源 text; None when the label is absent or empty."""
    author: str | None
    """The 作者 text; None when the label is absent or empty."""
    published: str | None
    """ISO 8601: "2026-02-03" for a date, "2024-09-30T15:27:51+08:00" when a clock time shows."""
    published_raw: str | None
    """The displayed time as extracted, kept so normalization can be redone from the archive."""
    source_raw: str | None
    """The 来源 text as extracted."""
    author_raw: str | None
    """The 作者 text as extracted."""
    body: str | None
    """One paragraph per line."""
    body_html: str | None
    """The body's HTML as extracted."""
    attachments: list[ExtractedLink] = field(default_factory=list)
    """As extracted: documents, in page order."""
    images: list[ExtractedLink] = field(default_factory=list)
    """As extracted: the body's images, in page order."""
    problems: list[str] = field(default_factory=list)
    """Extraction problems followed by normalization problems."""


@dataclass
class ArticlePageItem:
    """An article page as fetched, then read by the extraction and normalization pipelines."""

    site: str
    """Site profile name, e.g. `chalco`."""
    requested_url: str
    """The URL the list page linked to."""
    final_url: str
    """The URL that answered, after redirects; the article's identity in the archive."""
    status: int
    """HTTP status of the final response."""
    content_type: str | None
    """Content-Type header of the final response (its charset wins over the page's meta)."""
    body: bytes = field(repr=False)
    """The payload after content decoding, byte for byte; emptied once the extraction stage
    has read it (the capture keeps it), so that a 50 MB page is not held while its files are
    fetched."""
    fetched_at: datetime
    """When the final response arrived, UTC."""
    capture_id: int
    """The archive capture of the final response."""
    section: str | None
    """The section whose list led here first, e.g. `xwdt/gsyw`."""
    list_url: str | None
    """The list page that led here first."""
    docid: int | None
    """The TRS document id from the URL (`t20260204_163644.html` → 163644)."""
    oversize: str | None = None
    """Why the page was not read: its payload decodes past the size limit (a decompression
    bomb). It is archived as it came, `body` is empty and extraction flags it unread."""
    extraction: Extraction | None = None
    """Set by pipelines.extraction: the fields read from the page, with any problems."""
    article: NormalizedArticle | None = None
    """Set by pipelines.normalization: the cleaned record."""
    files: list[FetchedFile] = field(default_factory=list)
    """Set by pipelines.attachments: every attachment and image, fetched once per URL."""


@dataclass
class ArticleSeenItem:
    """An article request answered without content: unchanged (a revisit's 304), or gone."""

    url: str
    """The URL that answered: the article's own URL, or where a redirect led."""
    status: int
    """304 (unchanged since the last capture), 404 or 410 (removed from the site)."""
    capture_id: int
    """The archive capture of this answer."""
    seen_at: datetime
    """When the answer arrived, UTC."""
    requested_url: str | None = None
    """The URL as listed or archived, when a redirect led from it to `url`."""


@dataclass
class FileSeenItem:
    """A revisited attachment or image answered 200, or 304 (the newest capture's bytes)."""

    url: str
    """The file URL, as archived."""
    capture_id: int
    """The archive capture of this answer."""
    sha256: str
    """SHA-256 of the content (after content decoding), to compare with the archived bytes."""
    seen_at: datetime
    """When the answer arrived, UTC."""
