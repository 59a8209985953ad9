"""The archive's write side: one writer per home records captures, articles, versions and files.

Order of durability: a WARC record is written and fsynced before the row that points at it
is committed. Commits are batched (every `commit_every` writes or `commit_seconds`), so a
crash loses at most the last batch of rows, never leaves a row pointing at nothing.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from archive.db import open_writer, session_factory
from archive.errors import ArchiveLocked
from archive.home import ArchiveHome
from archive.models import (
    Article,
    ArticleVersion,
    Capture,
    CrawlRun,
    File,
    Listing,
    VersionCapture,
    VersionFile,
    WarcFile,
    utc_now,
)
from archive.warcstore import HttpExchange, RevisitTarget, WarcStore, decode_content, sha256_hex

LOCK_NAME = ".lock"
# Below this size a duplicate payload is not worth a revisit record (redirects, empty pages).
MIN_DEDUP_PAYLOAD = 1

SaveOutcome = Literal["new", "updated", "unchanged"]


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


@dataclass(frozen=True)
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
        encoded = json.dumps(canonical, ensure_ascii=False, sort_keys=True).encode("utf-8")
        return hashlib.sha256(encoded).hexdigest()


class HomeLock:
    """An exclusive lock on a home: one writer at a time. Released by the OS if we die."""

    def __init__(self, home: ArchiveHome):
        home.create()
        self.path = home.root / LOCK_NAME
        self._handle = open(self.path, "a+")  # noqa: SIM115 (held for the writer's life)
        try:
            fcntl.flock(self._handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as error:
            self._handle.seek(0)
            holder = self._handle.read().strip() or "another process"
            self._handle.close()
            raise ArchiveLocked(
                f"{home.root} is in use by {holder}; wait for it to finish"
            ) from error
        self._handle.seek(0)
        self._handle.truncate()
        self._handle.write(f"pid {os.getpid()}")
        self._handle.flush()

    def release(self) -> None:
        if not self._handle.closed:
            fcntl.flock(self._handle, fcntl.LOCK_UN)
            self._handle.close()


class ArchiveWriter:
    """Records one crawl run into a home."""

    def __init__(
        self,
        home: ArchiveHome,
        *,
        commit_every: int = 200,
        commit_seconds: float = 2.0,
        max_warc_size: int | None = None,
    ):
        self.home = home
        self._lock = HomeLock(home)
        self.engine = open_writer(home)
        self.session: Session = session_factory(self.engine)()
        self.commit_every = commit_every
        self.commit_seconds = commit_seconds
        self._pending = 0
        self._last_commit = time.monotonic()
        self._warc_ids: dict[str, int] = {}
        self._payload_owner: dict[str, RevisitTarget | None] = {}
        self._payload_capture_id: dict[str, int] = {}
        self.run: CrawlRun | None = None
        self.warc: WarcStore | None = None
        self._max_warc_size = max_warc_size

    # Runs ---------------------------------------------------------------------------------

    def start_run(self, site: str, base_url: str, mode: str) -> CrawlRun:
        self.run = CrawlRun(
            site=site, base_url=base_url, mode=mode, started_at=utc_now(), status="running"
        )
        self.session.add(self.run)
        self.session.commit()
        stamp = self.run.started_at.strftime("%Y%m%d%H%M%S")
        prefix = f"chalco-{stamp}-run{self.run.id:05d}-{os.getpid()}"
        kwargs = {"max_file_size": self._max_warc_size} if self._max_warc_size else {}
        self.warc = WarcStore(self.home.warc_dir, prefix, **kwargs)
        return self.run

    def finish_run(self, status: str, exit_code: int, summary: dict[str, Any]) -> None:
        assert self.run is not None
        self.run.finished_at = utc_now()
        self.run.status = status
        self.run.exit_code = exit_code
        self.run.summary_json = json.dumps(summary, ensure_ascii=False, sort_keys=True)
        self.commit()

    # Captures -----------------------------------------------------------------------------

    def _warc_file_id(self, name: str) -> int:
        if name not in self._warc_ids:
            row = WarcFile(name=name, created_at=utc_now())
            self.session.add(row)
            self.session.flush()
            self._warc_ids[name] = row.id
        return self._warc_ids[name]

    def _revisit_target(self, payload_sha256: str) -> RevisitTarget | None:
        """The stored response that already holds this payload, if any."""
        if payload_sha256 in self._payload_owner:
            return self._payload_owner[payload_sha256]
        row = self.session.execute(
            select(Capture.id, Capture.url, Capture.fetched_at, Capture.record_id)
            .where(Capture.payload_sha256 == payload_sha256, Capture.record_type == "response")
            .order_by(Capture.id)
            .limit(1)
        ).first()
        target = None
        if row is not None:
            target = RevisitTarget(url=row.url, fetched_at=row.fetched_at, record_id=row.record_id)
            self._payload_capture_id[payload_sha256] = row.id
        self._payload_owner[payload_sha256] = target
        return target

    def record_exchange(self, exchange: HttpExchange) -> CaptureInfo:
        """Write the exchange to WARC (a revisit if the payload is stored) and index it."""
        assert self.warc is not None and self.run is not None, "start_run() first"
        payload_sha256 = sha256_hex(exchange.payload)
        dedup = len(exchange.payload) >= MIN_DEDUP_PAYLOAD
        revisit_of = self._revisit_target(payload_sha256) if dedup else None
        written = self.warc.write_exchange(exchange, payload_sha256, revisit_of)
        try:
            content = decode_content(exchange.payload, exchange.header("Content-Encoding"))
        except (OSError, ValueError, EOFError):  # undecodable: the payload is what we have
            content = exchange.payload
        capture = Capture(
            run_id=self.run.id,
            url=exchange.url,
            method=exchange.method,
            status=exchange.status,
            fetched_at=exchange.fetched_at,
            media_type=exchange.header("Content-Type"),
            location=exchange.header("Location"),
            etag=exchange.header("ETag"),
            last_modified=exchange.header("Last-Modified"),
            warc_file_id=self._warc_file_id(written.warc_name),
            record_type=written.record_type,
            record_id=written.record_id,
            offset=written.offset,
            length=written.length,
            request_offset=written.request_offset,
            request_length=written.request_length,
            payload_sha256=payload_sha256,
            payload_size=len(exchange.payload),
            content_sha256=sha256_hex(content),
            content_size=len(content),
            refers_to_id=self._payload_capture_id.get(payload_sha256) if revisit_of else None,
        )
        self.session.add(capture)
        self.session.flush()
        if dedup and revisit_of is None:
            self._payload_owner[payload_sha256] = RevisitTarget(
                url=exchange.url, fetched_at=exchange.fetched_at, record_id=written.record_id
            )
            self._payload_capture_id[payload_sha256] = capture.id
        self._wrote()
        return CaptureInfo(
            id=capture.id,
            url=capture.url,
            status=capture.status,
            payload_sha256=payload_sha256,
            content_sha256=capture.content_sha256,
            content_size=capture.content_size,
            media_type=capture.media_type,
            record_type=capture.record_type,
        )

    # Listings -----------------------------------------------------------------------------

    def note_listing(
        self,
        *,
        site: str,
        article_url: str,
        section: str,
        section_name: str | None,
        list_url: str,
        title_listed: str | None,
        seen_at: datetime,
    ) -> None:
        listing = self.session.scalar(
            select(Listing).where(Listing.article_url == article_url, Listing.section == section)
        )
        if listing is None:
            self.session.add(
                Listing(
                    site=site,
                    article_url=article_url,
                    section=section,
                    section_name=section_name,
                    list_url=list_url,
                    title_listed=title_listed,
                    first_seen_at=seen_at,
                    last_seen_at=seen_at,
                )
            )
        else:
            listing.last_seen_at = seen_at
            listing.list_url = list_url
            listing.title_listed = title_listed
        self._wrote()

    def move_listings(self, from_url: str, to_url: str) -> None:
        """An article reached through a redirect: its listings belong to the final URL."""
        for listing in self.session.scalars(
            select(Listing).where(Listing.article_url == from_url)
        ).all():
            duplicate = self.session.scalar(
                select(Listing.id).where(
                    Listing.article_url == to_url, Listing.section == listing.section
                )
            )
            if duplicate is None:
                listing.article_url = to_url
        self._wrote()

    # Files --------------------------------------------------------------------------------

    def file_by_url(self, url: str) -> File | None:
        return self.session.scalar(select(File).where(File.url == url))

    def save_file(
        self,
        *,
        url: str,
        kind: str,
        seen_at: datetime,
        capture_id: int | None = None,
        status: int | None = None,
        sha256: str | None = None,
        size: int | None = None,
        media_type: str | None = None,
        problem: str | None = None,
    ) -> File:
        """Index an attachment or image; a failed fetch is kept with its reason.

        A file once archived with its bytes keeps them: a later failure does not unset them.
        """
        row = self.file_by_url(url)
        if row is None:
            row = File(url=url, kind=kind, first_seen_at=seen_at)
            self.session.add(row)
        if sha256 is not None:
            row.capture_id, row.status, row.problem = capture_id, status, None
            row.sha256, row.size, row.media_type = sha256, size, media_type
        elif row.sha256 is None:
            row.capture_id, row.status, row.problem = capture_id, status, problem
        self.session.flush()
        self._wrote()
        return row

    # Articles -----------------------------------------------------------------------------

    def save_article(
        self, content: ArticleContent, capture_id: int, seen_at: datetime
    ) -> tuple[SaveOutcome, ArticleVersion]:
        """Store a page's record: a new article, a new version, or one more sighting."""
        article = self.session.scalar(select(Article).where(Article.url == content.url))
        if article is None:
            article = Article(
                url=content.url,
                site=content.site,
                docid=content.docid,
                status="live",
                first_seen_at=seen_at,
                last_seen_at=seen_at,
            )
            self.session.add(article)
            self.session.flush()
        article.last_seen_at = seen_at
        article.status = "live"
        article.gone_at = None

        digest = content.content_sha256()
        latest = self.session.scalar(
            select(ArticleVersion)
            .where(ArticleVersion.article_id == article.id)
            .order_by(ArticleVersion.number.desc())
            .limit(1)
        )
        if latest is not None and latest.content_sha256 == digest:
            latest.last_seen_at = seen_at
            self._link_capture(latest.id, capture_id)
            self._wrote()
            return "unchanged", latest

        version = ArticleVersion(
            article_id=article.id,
            number=1 if latest is None else latest.number + 1,
            content_sha256=digest,
            capture_id=capture_id,
            title=content.title,
            source=content.source,
            source_raw=content.source_raw,
            author=content.author,
            author_raw=content.author_raw,
            published=content.published,
            published_raw=content.published_raw,
            info_raw=content.info_raw,
            body=content.body,
            body_html=content.body_html,
            meta_json=json.dumps(content.meta, ensure_ascii=False, sort_keys=True),
            encoding=content.encoding,
            template=content.template,
            problems_json=json.dumps(content.problems, ensure_ascii=False),
            first_seen_at=seen_at,
            last_seen_at=seen_at,
        )
        self.session.add(version)
        self.session.flush()
        self._link_capture(version.id, capture_id)
        for position, link in enumerate(content.files):
            file_row = self.file_by_url(link.url)
            if file_row is None:  # not fetched (e.g. off-host): still named by the version
                file_row = self.save_file(
                    url=link.url, kind=link.role, seen_at=seen_at, problem="not fetched"
                )
            already = self.session.get(VersionFile, (version.id, file_row.id, link.role))
            if already is None:
                self.session.add(
                    VersionFile(
                        version_id=version.id,
                        file_id=file_row.id,
                        role=link.role,
                        name=link.name,
                        position=position,
                    )
                )
        self._wrote()
        return ("new" if latest is None else "updated"), version

    def _link_capture(self, version_id: int, capture_id: int) -> None:
        if self.session.get(VersionCapture, (version_id, capture_id)) is None:
            self.session.add(VersionCapture(version_id=version_id, capture_id=capture_id))

    # Durability ---------------------------------------------------------------------------

    def _wrote(self) -> None:
        self._pending += 1
        if (
            self._pending >= self.commit_every
            or time.monotonic() - self._last_commit >= self.commit_seconds
        ):
            self.commit()

    def commit(self) -> None:
        """Make the WARC records durable, then commit the rows that point at them."""
        if self.warc is not None:
            self.warc.sync()
        self.session.commit()
        self._pending = 0
        self._last_commit = time.monotonic()

    def _close_warc_files(self) -> None:
        assert self.warc is not None
        self.warc.close()
        for name in self.warc.closed_names:
            row = self.session.get(WarcFile, self._warc_ids[name])
            if row is None or row.closed_at is not None:
                continue
            path = self.home.warc_dir / name
            digest = hashlib.sha256()
            with open(path, "rb") as handle:
                for block in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(block)
            row.size = path.stat().st_size
            row.sha256 = digest.hexdigest()
            row.closed_at = utc_now()

    def close(self) -> None:
        try:
            if self.warc is not None:
                self._close_warc_files()
            self.commit()
        finally:
            self.session.close()
            self.engine.dispose()
            self._lock.release()
