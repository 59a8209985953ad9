"""The plain values the writer is handed (a page's record, the files it names, a new reading)
and hands back (a capture, a file, the outcome of a save): dataclasses, no database."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from archive.store.ledger import canonical_digest

SaveOutcome = Literal["new", "updated", "unchanged"]


@dataclass(frozen=True, slots=True)  # slots: the writer keeps one per file it has seen
class FileRecord:
    """An archived attachment or image."""

    id: int
    url: str
    capture_id: int | None
    status: int | None
    sha256: str | None
    size: int | None
    media_type: str | None
    problem: str | None = None


@dataclass(frozen=True, slots=True)  # slots: a version may name 100,000 files
class NamedFile:
    """A file as a version names it: the bytes of `capture_id`, or the file's own if None."""

    file_id: int
    role: str
    name: str | None
    capture_id: int | None


@dataclass(frozen=True)
class Reading:
    """A new reading of an archived page (`capture_id`, fetched at `seen_at`) whose fields
    differ from those of version `version_id`."""

    version_id: int
    content: ArticleContent
    capture_id: int
    seen_at: datetime


@dataclass(frozen=True)
class CaptureInfo:
    """What the crawler needs to know about a capture it just wrote."""

    id: int
    url: str
    status: int
    payload_sha256: str
    content_sha256: str
    content_size: int
    media_type: str | None
    record_type: str
    oversize: str | None = None
    """Why the payload was not inflated (it decodes past the size limit); None when it was."""


@dataclass(frozen=True, slots=True)
class FileLink:
    """An attachment or image as an article version names it."""

    url: str
    role: str
    """attachment | image"""
    name: str | None


@dataclass
class ArticleContent:
    """The normalized record of one article page, as the archive stores it."""

    url: str
    site: str
    docid: int | None
    title: str | None
    source: str | None
    source_raw: str | None
    author: str | None
    author_raw: str | None
    published: str | None
    published_raw: str | None
    info_raw: str | None
    body: str | None
    body_html: str | None
    meta: dict[str, str] = field(default_factory=dict)
    encoding: str | None = None
    template: str | None = None
    problems: list[str] = field(default_factory=list)
    files: list[FileLink] = field(default_factory=list)
    extractor_version: str | None = None
    """Which extraction read these fields (pipelines.content.extractor_version)."""

    def content_sha256(self) -> str:
        """Digest of what a reader sees; equal digests mean the same version."""
        canonical = {
            "title": self.title,
            "source": self.source,
            "author": self.author,
            "published": self.published,
            "body": self.body,
            "files": [[f.role, f.url, f.name] for f in self.files],
        }
        return canonical_digest(canonical)
