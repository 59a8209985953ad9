"""The writer's articles: a page saved (a new article, a new version, or one more sighting),
seen again unchanged (304), gone (404/410), read again by a newer extractor, or given a new
version because a file it names changed."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import partial

from sqlalchemy import bindparam, func, select, update

from archive.store.models import CAUSE_CRAWL, CAUSE_FILE, CAUSE_REEXTRACT
from archive.store.tables import (
    ARTICLES,
    CAPTURES,
    FILES,
    VERSION_CAPTURES,
    VERSION_FILES,
    VERSIONS,
)
from archive.store.version_texts import whole_version_columns
from archive.store.writer.durability import guarded
from archive.store.writer.values import ArticleContent, NamedFile, Reading, SaveOutcome
from archive.store.writer.versions import NextVersion, VersionWriter, version_values

LATEST_VERSION = (
    select(
        ARTICLES.c.id,
        VERSIONS.c.id.label("version_id"),
        VERSIONS.c.number,
        VERSIONS.c.content_sha256,
    )
    .select_from(ARTICLES.outerjoin(VERSIONS, VERSIONS.c.article_id == ARTICLES.c.id))
    .where(ARTICLES.c.url == bindparam("url"))
    .order_by(VERSIONS.c.number.desc())
    .limit(1)
)
SET_STATUS = (
    update(ARTICLES)
    .where(ARTICLES.c.id == bindparam("row_id"), ARTICLES.c.status != bindparam("new_status"))
    .values(status=bindparam("new_status"), gone_at=bindparam("gone_at"))
)


class ArticleWriter(VersionWriter):
    """Records what happens to an article; each change of its fields is a new version."""

    @guarded
    def save_article(
        self, content: ArticleContent, capture_id: int, seen_at: datetime
    ) -> tuple[SaveOutcome, int]:
        """Store a page's record: a new article, a new version, or one more sighting.

        Returns the outcome and the id of the version the page shows.
        """
        outcome = self._retrying(lambda: self._save_article(content, capture_id, seen_at))
        self._wrote()
        return outcome

    def _save_article(
        self, content: ArticleContent, capture_id: int, seen_at: datetime
    ) -> tuple[SaveOutcome, int]:
        latest = self.connection.execute(LATEST_VERSION, {"url": content.url}).first()
        if latest is None:
            article_id = self._add(
                ARTICLES,
                url=content.url,
                site=content.site,
                docid=content.docid,
                status="live",
                first_seen_at=seen_at,
                last_seen_at=seen_at,
            )
        else:
            article_id = latest.id
            self._set(ARTICLES, article_id, last_seen_at=seen_at)
            self._set_status(article_id, "live", None)

        digest = content.content_sha256()
        if latest is not None and latest.content_sha256 == digest:
            self._set(VERSIONS, latest.version_id, last_seen_at=seen_at)
            self._link_capture(latest.version_id, capture_id)
            return "unchanged", latest.version_id

        version_id = self._new_version(
            article_id,
            latest.version_id if latest is not None else None,
            latest.number if latest is not None and latest.number is not None else 0,
            version_values(content, capture_id, CAUSE_CRAWL),
            self._named_files(content, seen_at),
            seen_at,
        )
        self._link_capture(version_id, capture_id)
        return ("new" if latest is None else "updated"), version_id

    @guarded
    def save_reextracted(self, readings: Sequence[Reading]) -> list[int | None]:
        """New readings of archived pages: each article's next version, with cause
        `reextract`. Nothing about the articles themselves changes (status, when seen).

        Returns each new version's id; None for a reading whose `version_id` is no longer
        its article's latest (something wrote a version since it was read): nothing is
        written for it.
        """
        written = self._retrying(lambda: self._reextracted_versions(readings))
        self._pending += len(readings) - 1
        self._wrote()
        return written

    def _reextracted_versions(self, readings: Sequence[Reading]) -> list[int | None]:
        read = {reading.version_id for reading in readings}
        latest = {
            row.id: row
            for row in self.connection.execute(
                select(VERSIONS.c.id, VERSIONS.c.article_id, VERSIONS.c.number).where(
                    VERSIONS.c.id.in_(read), VERSIONS.c.is_latest
                )
            )
        }
        batch, kept = [], []
        for reading in readings:
            version = latest.pop(reading.version_id, None)  # one new version each
            if version is None:
                continue
            kept.append(reading)
            batch.append(
                NextVersion(
                    version.article_id,
                    version.id,
                    version.number,
                    version_values(reading.content, reading.capture_id, CAUSE_REEXTRACT),
                    self._named_files(reading.content, reading.seen_at),
                    reading.seen_at,
                )
            )
        ids = self._new_versions(batch) if batch else []
        if ids:
            self.connection.execute(
                self._link_version_capture,
                [
                    {"version_id": version_id, "capture_id": reading.capture_id}
                    for version_id, reading in zip(ids, kept, strict=True)
                ],
            )
        made = {id(reading): version_id for reading, version_id in zip(kept, ids, strict=True)}
        return [made.get(id(reading)) for reading in readings]

    @guarded
    def note_file_fetched(
        self, url: str, capture_id: int, sha256: str, seen_at: datetime
    ) -> list[str]:
        """A revisit fetched an archived attachment or image again (`sha256`: its content).

        When the bytes differ from those an article's latest version names, the article
        gets a new version naming the new bytes (the page's fields as they were); the older
        versions keep naming theirs. Returns the URLs of the articles given a new version.
        """
        file = self.file_by_url(url)
        if file is None or file.sha256 is None:  # revisits ask only for files with bytes
            return []
        articles = self.connection.execute(
            select(VERSIONS.c.article_id, ARTICLES.c.url)
            .join(VERSION_FILES, VERSION_FILES.c.version_id == VERSIONS.c.id)
            .join(ARTICLES, ARTICLES.c.id == VERSIONS.c.article_id)
            # A gone article keeps its versions as they were.
            .where(VERSION_FILES.c.file_id == file.id, VERSIONS.c.is_latest)
            .where(ARTICLES.c.status == "live")
            .distinct()
        ).all()
        # Bytes back to the file's own (its first fetch's) are named as the file's.
        named_capture = None if sha256 == file.sha256 else capture_id
        updated = [
            article_url
            for article_id, article_url in sorted(articles)
            if self._retrying(
                partial(
                    self._file_changed_version, article_id, file.id, named_capture, sha256, seen_at
                )
            )
        ]
        self._wrote()
        return updated

    def _file_changed_version(
        self,
        article_id: int,
        file_id: int,
        capture_id: int | None,
        sha256: str,
        seen_at: datetime,
    ) -> int:
        """The article's latest version again, naming the file's bytes of `capture_id`
        (None: the file's own), if it named other bytes; 1 if it made a version, else 0."""
        latest = self.connection.execute(
            select(*whole_version_columns()).where(
                VERSIONS.c.article_id == article_id, VERSIONS.c.is_latest
            )
        ).one()
        rows = self.connection.execute(
            select(VERSION_FILES, func.coalesce(CAPTURES.c.content_sha256, FILES.c.sha256))
            .join(FILES, FILES.c.id == VERSION_FILES.c.file_id)
            .outerjoin(CAPTURES, CAPTURES.c.id == VERSION_FILES.c.capture_id)
            .where(VERSION_FILES.c.version_id == latest.id)
            .order_by(VERSION_FILES.c.position)
        ).all()
        if all(row[-1] == sha256 for row in rows if row.file_id == file_id):
            return 0  # the latest version names these bytes already
        files = [
            NamedFile(
                row.file_id,
                row.role,
                row.name,
                capture_id if row.file_id == file_id else row.capture_id,
            )
            for row in rows
        ]
        kept = ("id", "article_id", "number", "is_latest", "first_seen_at", "last_seen_at")
        values = {key: value for key, value in latest._mapping.items() if key not in kept}
        # The fields, and the extractor that read them, are the latest version's.
        values["cause"] = CAUSE_FILE
        # The page is the latest version's: the capture it was last seen in goes on.
        page_capture = self.connection.scalar(
            select(func.max(VERSION_CAPTURES.c.capture_id)).where(
                VERSION_CAPTURES.c.version_id == latest.id
            )
        )
        version_id = self._new_version(article_id, latest.id, latest.number, values, files, seen_at)
        if page_capture is not None:
            self._link_capture(version_id, page_capture)
        return 1

    @guarded
    def note_unchanged(self, url: str, capture_id: int, seen_at: datetime) -> bool:
        """A revisit answered 304: the article's latest version was seen again.

        Returns False when the URL is not an archived article.
        """
        latest = self.connection.execute(LATEST_VERSION, {"url": url}).first()
        if latest is None or latest.version_id is None:
            return False
        self._set(ARTICLES, latest.id, last_seen_at=seen_at)
        self._set_status(latest.id, "live", None)
        self._set(VERSIONS, latest.version_id, last_seen_at=seen_at)
        self._link_capture(latest.version_id, capture_id)
        self._wrote()
        return True

    @guarded
    def mark_gone(self, url: str, seen_at: datetime) -> bool:
        """The site no longer has the article (404/410). Its versions stay as they are.

        Returns True when the article was live until now.
        """
        article_id = self.connection.scalar(select(ARTICLES.c.id).where(ARTICLES.c.url == url))
        if article_id is None or not self._set_status(article_id, "gone", seen_at):
            return False
        self._wrote()
        return True

    def _set_status(self, article_id: int, status: str, gone_at: datetime | None) -> bool:
        """Set an article's status unless it has it already; True when it changed.

        The check is part of the UPDATE: on PostgreSQL, where workers of a distributed crawl
        may change the same article, it is made again on the row as the other left it.
        """
        changed = self.connection.execute(
            SET_STATUS, {"row_id": article_id, "new_status": status, "gone_at": gone_at}
        ).rowcount
        if changed:
            self._ledger.add_row("article", ARTICLES, article_id)
        return bool(changed)
