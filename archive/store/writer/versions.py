"""The writer's versions: an article's next version with the files it names, its ledger
entries and its search entry, written again when a distributed crawl's workers collide."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import bindparam, insert, update
from sqlalchemy.exc import DBAPIError

from archive.store.home import ArchiveHome
from archive.store.ledger import named_files_row
from archive.store.search_index import index_new_versions
from archive.store.tables import VERSION_CAPTURES, VERSION_FILES, VERSIONS
from archive.store.version_texts import HUGE_COLUMNS, is_huge, write_beside
from archive.store.writer.durability import WriterOptions
from archive.store.writer.files import FileWriter
from archive.store.writer.values import ArticleContent, NamedFile

# PostgreSQL's SQLSTATEs on which a version write is run again (see VersionWriter._retrying).
UNIQUE_VIOLATION = "23505"
DEADLOCK_DETECTED = "40P01"
VERSION_WRITE_ATTEMPTS = 5
NAMED_ROWS_BATCH = 1000

T = TypeVar("T")


@dataclass(frozen=True)
class NextVersion:
    """An article's next version, to be inserted: the page's fields in `values`."""

    article_id: int
    previous_id: int | None
    previous_number: int
    values: dict[str, Any]
    files: list[NamedFile]
    seen_at: datetime


def version_values(content: ArticleContent, capture_id: int, cause: str) -> dict[str, Any]:
    """The article_versions columns a record fills, read from the capture `capture_id`."""
    return {
        "content_sha256": content.content_sha256(),
        "capture_id": capture_id,
        "title": content.title,
        "source": content.source,
        "source_raw": content.source_raw,
        "author": content.author,
        "author_raw": content.author_raw,
        "published": content.published,
        "published_raw": content.published_raw,
        "info_raw": content.info_raw,
        "body": content.body,
        "body_html": content.body_html,
        "meta_json": json.dumps(content.meta, ensure_ascii=False, sort_keys=True),
        "encoding": content.encoding,
        "template": content.template,
        "problems_json": json.dumps(content.problems, ensure_ascii=False),
        "cause": cause,
        "extractor_version": content.extractor_version,
    }


def _without_huge(row: dict[str, Any]) -> dict[str, Any]:
    return {key: None if is_huge(value) else value for key, value in row.items()}


class VersionWriter(FileWriter):
    """Inserts versions; links each to the captures it was seen in."""

    def __init__(self, home: ArchiveHome, options: WriterOptions):
        super().__init__(home, options)
        self._link_version_capture = self._dialect_insert(VERSION_CAPTURES).on_conflict_do_nothing()

    def _link_capture(self, version_id: int, capture_id: int) -> None:
        self.connection.execute(
            self._link_version_capture, {"version_id": version_id, "capture_id": capture_id}
        )

    def _named_files(self, content: ArticleContent, seen_at: datetime) -> list[NamedFile]:
        """The files a record names, each once per role, with the bytes it names."""
        named: list[NamedFile] = []
        seen: set[tuple[int, str]] = set()  # a page may name 100,000 files: no list scan each
        for link in content.files:
            # A file not fetched (e.g. off-host) is still named by the version.
            file = self.file_by_url(link.url) or self.save_file(
                url=link.url, kind=link.role, seen_at=seen_at, problem="not fetched"
            )
            if (file.id, link.role) in seen:
                continue
            seen.add((file.id, link.role))
            named.append(NamedFile(file.id, link.role, link.name, self._bytes_capture(file)))
        return named

    def _retrying(self, write: Callable[[], T]) -> T:
        """Run `write`, which reads an article's latest version and writes on it.

        On PostgreSQL, other workers of a distributed crawl write versions too: a file one of
        them fetched may be named by an article another is saving. Then the second insert of
        the same version number fails, or two batches wait on each other (a deadlock). The
        write runs in a savepoint, and is rolled back and run again on the committed state;
        after a deadlock this worker's batch is committed first, so that the other goes on.
        """
        if not self._shared_database:  # SQLite: one writer at a time
            return write()
        for _attempt in range(VERSION_WRITE_ATTEMPTS - 1):
            savepoint = self.connection.begin_nested()
            pending = len(self._ledger.entries)
            try:
                result = write()
            except DBAPIError as error:
                state = getattr(error.orig, "sqlstate", None)
                if state not in (UNIQUE_VIOLATION, DEADLOCK_DETECTED):
                    raise
                savepoint.rollback()
                self._ledger.discard(keep=pending)
                self._files.clear()  # it may hold rows the rollback took back
                if state == DEADLOCK_DETECTED:
                    self.commit()
                continue
            savepoint.commit()
            return result
        return write()  # the last attempt fails the batch like any storage error

    def _new_version(
        self,
        article_id: int,
        previous_id: int | None,
        previous_number: int,
        values: dict[str, Any],
        files: list[NamedFile],
        seen_at: datetime,
    ) -> int:
        """Insert the article's next version (the page's fields in `values`), the files it
        names and its search entry; the version before it stops being the latest."""
        return self._new_versions(
            [NextVersion(article_id, previous_id, previous_number, values, files, seen_at)]
        )[0]

    def _new_versions(self, batch: Sequence[NextVersion]) -> list[int]:
        """_new_version for several articles at once, a statement per table for them all
        (reextract writes thousands)."""
        earlier = [{"row_id": v.previous_id} for v in batch if v.previous_id is not None]
        if earlier:
            self.connection.execute(
                update(VERSIONS).where(VERSIONS.c.id == bindparam("row_id")),
                [dict(row, is_latest=False) for row in earlier],
            )
        template = {column.name: None for column in VERSIONS.columns}
        rows = [
            dict(
                template,
                article_id=v.article_id,
                number=v.previous_number + 1,
                is_latest=True,
                first_seen_at=v.seen_at,
                last_seen_at=v.seen_at,
                **v.values,
            )
            for v in batch
        ]
        for row in rows:
            del row["id"]
        # SQLite: a huge text is kept beside its row, written a slice at a time.
        huge = self.connection.dialect.name == "sqlite" and any(
            is_huge(row[column]) for row in rows for column in HUGE_COLUMNS
        )
        params = [_without_huge(row) for row in rows] if huge else rows
        inserted = self.connection.execute(
            insert(VERSIONS).returning(VERSIONS.c.id, sort_by_parameter_order=True), params
        )
        ids = [int(version_id) for version_id in inserted.scalars()]
        del params
        if huge:
            for version_id, row in zip(ids, rows, strict=True):
                write_beside(self.connection, version_id, row)
        named_rows: list[tuple[Any, ...]] = []
        for version_id, row, version in zip(ids, rows, batch, strict=True):
            self._ledger.add("version", version_id, row)
            self._ledger.add(
                "version_cause",
                version_id,
                {"cause": row["cause"], "extractor_version": row["extractor_version"]},
            )
            named = [
                (f.file_id, f.role, f.name, position, f.capture_id)
                for position, f in enumerate(version.files)
            ]
            self._ledger.add("named_files", version_id, named_files_row(version_id, named))
            named_rows += [(version_id, *file) for file in named]
        # In the same transaction as the versions: search never lags behind the archive.
        index_new_versions(
            self.connection,
            [
                (i, row["published"], row["title"], row["body"])
                for i, row in zip(ids, rows, strict=True)
            ],
        )
        # A statement per thousand rows, built as it goes: SQLAlchemy builds every row's
        # parameters at once, which for a page naming 100,000 files cost some 150 MB.
        columns = ("version_id", "file_id", "role", "name", "position", "capture_id")
        for start in range(0, len(named_rows), NAMED_ROWS_BATCH):
            batch_rows = named_rows[start : start + NAMED_ROWS_BATCH]
            self.connection.execute(
                insert(VERSION_FILES), [dict(zip(columns, row, strict=True)) for row in batch_rows]
            )
        return ids
