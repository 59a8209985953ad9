"""The writer's files: attachments and images, each indexed once by URL with the capture of
its bytes, or with the reason it was not fetched."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select, update

from archive.store.home import ArchiveHome
from archive.store.tables import CAPTURES, FILES
from archive.store.writer.captures import LAST_GOOD_CAPTURE
from archive.store.writer.durability import DurableWriter, WriterOptions, guarded
from archive.store.writer.values import FileRecord

FILE_BY_URL = select(FILES).where(FILES.c.url == bindparam("url"))
UPDATE_UNARCHIVED_FILE = update(FILES).where(
    FILES.c.id == bindparam("row_id"), FILES.c.sha256.is_(None)
)


class FileWriter(DurableWriter):
    """Indexes files; knows which capture holds the bytes a version should name."""

    def __init__(self, home: ArchiveHome, options: WriterOptions):
        super().__init__(home, options)
        self._files: dict[str, FileRecord] = {}
        self._bytes_captures: dict[int, int | None] | None = None
        self._insert_file = (
            self._dialect_insert(FILES)
            .on_conflict_do_nothing(index_elements=["url"])
            .returning(FILES.c.id)
        )

    def _forget_batch(self) -> None:
        super()._forget_batch()
        self._files.clear()
        self._bytes_captures = None

    @guarded
    def file_by_url(self, url: str) -> FileRecord | None:
        if url not in self._files:
            row = self.connection.execute(FILE_BY_URL, {"url": url}).first()
            if row is None:
                return None
            self._files[url] = FileRecord(
                row.id,
                row.url,
                row.capture_id,
                row.status,
                row.sha256,
                row.size,
                row.media_type,
                row.problem,
            )
        return self._files[url]

    @guarded
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
    ) -> FileRecord:
        """Index an attachment or image; a failed fetch is kept with its reason.

        A file once archived with its bytes keeps them: a later failure does not unset them.
        """
        known = self.file_by_url(url)
        if known is not None and known.sha256 is not None:
            return known
        values: dict[str, Any] = {
            "capture_id": capture_id,
            "status": status,
            "sha256": sha256,
            "size": size,
            "media_type": media_type,
            "problem": None if sha256 else problem,
        }
        file_id = None
        if known is None:
            # Another worker of a distributed crawl may have saved the same URL meanwhile.
            file_id = self.connection.scalar(
                self._insert_file, dict(url=url, kind=kind, first_seen_at=seen_at, **values)
            )
            if file_id is None:
                known = self.file_by_url(url)
                assert known is not None
                if known.sha256 is not None:
                    return known
        if file_id is None:
            assert known is not None
            file_id = known.id
            # Only over a row without bytes: another worker may have archived the file since
            # this writer last read it, and its bytes (and ledger entry) stand.
            updated = self.connection.execute(
                UPDATE_UNARCHIVED_FILE, {"row_id": file_id, **values}
            ).rowcount
            if not updated:
                self._files.pop(url, None)
                archived = self.file_by_url(url)
                assert archived is not None
                return archived
        if sha256 is not None:
            self._ledger.add_row("file", FILES, file_id)
        record = FileRecord(
            file_id, url, capture_id, status, sha256, size, media_type, values["problem"]
        )
        self._files[url] = record
        self._wrote()
        return record

    def _bytes_capture(self, file: FileRecord) -> int | None:
        """The capture holding a file's newest bytes when they are not its first fetch's
        (a revisit found the file changed); None otherwise."""
        if file.sha256 is None or file.capture_id is None:
            return None
        if self.run_id is None:
            # A writer without a run writes no captures (reextract, holding the home alone):
            # files' newest captures cannot change under it, and are read once for them all.
            if self._bytes_captures is None:
                self._bytes_captures = self._all_bytes_captures()
            if file.id in self._bytes_captures:
                return self._bytes_captures[file.id]
        return self._newest_bytes_capture(file)

    def _all_bytes_captures(self) -> dict[int, int | None]:
        """_newest_bytes_capture of every archived file, in one query."""
        first = CAPTURES.alias("first")
        newest = CAPTURES.alias("newest")
        newest_id = (
            select(CAPTURES.c.id)
            .where(CAPTURES.c.url == first.c.url, CAPTURES.c.status == 200)
            .order_by(CAPTURES.c.id.desc())
            .limit(1)
            .correlate(first)
            .scalar_subquery()
        )
        rows = self.connection.execute(
            select(
                FILES.c.id, FILES.c.capture_id, FILES.c.sha256, newest.c.id, newest.c.content_sha256
            )
            .join(first, first.c.id == FILES.c.capture_id)
            .outerjoin(newest, newest.c.id == newest_id)
            .where(FILES.c.sha256.is_not(None))
        )
        return {
            file_id: None
            if newest_capture is None or newest_capture == capture_id or newest_sha256 == sha256
            else int(newest_capture)
            for file_id, capture_id, sha256, newest_capture, newest_sha256 in rows
        }

    def _newest_bytes_capture(self, file: FileRecord) -> int | None:
        # Captures are under the URL as sent, which may be the page's link percent-encoded.
        fetched_url = self.connection.scalar(
            select(CAPTURES.c.url).where(CAPTURES.c.id == file.capture_id)
        )
        newest = self.connection.execute(LAST_GOOD_CAPTURE, {"url": fetched_url}).first()
        if newest is None or newest.id == file.capture_id:
            return None
        return int(newest.id) if newest.content_sha256 != file.sha256 else None
