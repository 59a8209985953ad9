"""What the fault site tells a test: each hostile case (`FaultCase`), and what a correct
crawl archives (`GoodArticle` with its `AttachmentTruth`s, `HostileArticle`)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FaultCase:
    """One hostile case: where it is and what a well-behaved crawler does about it."""

    name: str
    path: str
    """The path a crawler finds linked (an article URL, or the section root)."""
    description: str
    """What the server does, in a sentence."""
    expected: str
    """What a well-behaved crawler should do, in a few words."""
    good: bool = False
    """Whether an entry of `good_articles` comes from this case."""
    related: tuple[str, ...] = ()
    """Other paths or URLs involved: redirect targets, the attachment, the second URL."""


@dataclass(frozen=True)
class AttachmentTruth:
    """One attachment link of a good article."""

    url_path: str
    name: str
    """Link text as a browser shows it (the HTML spec's decoding: a literal NUL in text is
    dropped, `&#0;` becomes U+FFFD, other control characters stay). A crawler is expected
    to store it under a safe file name and keep the name as sanitized text."""
    size: int
    media_type: str
    sha256: str | None
    """Hex digest of the served bytes; None for the huge file, which is never built whole."""
    oversized: bool = False
    """Larger than any sane size limit: the crawler must refuse it and record the refusal."""


@dataclass(frozen=True)
class GoodArticle:
    """An article a correct crawler archives, with the exact fields it should extract."""

    url_path: str
    docid: int
    section: str
    """Section listing it, e.g. "xwdt/gsyw" (no slashes at the ends)."""
    title: str
    source: str | None
    published: str
    """Displayed 时间, ISO date (2026-02-05)."""
    paragraphs: tuple[str, ...]
    """Body lines as a reader sees them, whitespace-cleaned."""
    attachments: tuple[AttachmentTruth, ...] = ()
    needs_retry: bool = False
    """The first request(s) fail with 429/503 and Retry-After; only a retry gets it."""
    case: str | None = None
    """The fault case it belongs to; None for a plain article."""
    aliases: tuple[str, ...] = ()
    """Other URLs serving the same document (same docid)."""


@dataclass(frozen=True)
class HostileArticle:
    """An article of the 不可信内容 section (hostile.py): what the archive must hold,
    the text exactly as published, however hostile to whoever reads it."""

    url_path: str
    title: str
    source: str
    published: str
    paragraphs: tuple[str, ...]
    attachments: tuple[tuple[str, str], ...]
    """(url_path, name as archived) of each attachment fetched."""
    refused_hrefs: tuple[str, ...]
    """javascript:/data:/vbscript: 附件 links: never fetched, never an attachment."""
