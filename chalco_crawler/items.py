"""Items the spider yields; pipelines fill in the later fields, in order, never going back."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pipelines.extraction import Extraction
    from pipelines.normalization import NormalizedArticle


@dataclass
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


@dataclass
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
    """The payload after content decoding, byte for byte."""
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
