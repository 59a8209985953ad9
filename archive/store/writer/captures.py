"""The writer's captures: each HTTP exchange written to WARC (a revisit record when its
payload is stored already in a record that reads back whole, or when the server answered
304) and indexed as a capture row; the rows of the WARC files they are in; and the losses of
captures `repair` replaced."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sqlalchemy import bindparam, exists, func, select, update

from archive.errors import ContentOversize, ContentUndecodable
from archive.evidence.warc_check import record_whole
from archive.evidence.warc_seal import close_file
from archive.store.decoding import DEFAULT_MAX_DECODED, decoded_digest, is_encoded
from archive.store.home import ArchiveHome
from archive.store.models import utc_now
from archive.store.tables import CAPTURE_LOSSES, CAPTURES, WARC_FILES
from archive.store.warcstore import (
    HttpExchange,
    RevisitTarget,
    WrittenRecord,
    sha256_hex,
)
from archive.store.writer.durability import DurableWriter, WriterOptions, guarded
from archive.store.writer.values import CaptureInfo

# Below this size a duplicate payload is not worth a revisit record (redirects, empty pages).
MIN_DEDUP_PAYLOAD = 1

# How many stored responses holding a payload are tried, oldest first, for one whose record
# reads back whole; past them the payload is stored again, whole.
HOLDERS_TRIED = 3
# A capture whose loss is on record (`repair`): its record is known bad.
LOST = exists().where(CAPTURE_LOSSES.c.capture_id == CAPTURES.c.id)
PAYLOAD_HOLDERS = (
    select(CAPTURES.c.id, CAPTURES.c.url, CAPTURES.c.fetched_at, CAPTURES.c.record_id)
    .where(
        CAPTURES.c.payload_sha256 == bindparam("digest"),
        CAPTURES.c.record_type == "response",
        ~LOST,
    )
    .order_by(CAPTURES.c.id)
    .limit(HOLDERS_TRIED)
)
# Where a capture's record is, and whether its loss is on record.
RECORD_OF = (
    select(
        CAPTURES.c.offset,
        CAPTURES.c.length,
        CAPTURES.c.record_id,
        CAPTURES.c.record_type,
        CAPTURES.c.payload_sha256,
        WARC_FILES.c.name,
        LOST.label("lost"),
    )
    .join(WARC_FILES, WARC_FILES.c.id == CAPTURES.c.warc_file_id)
    .where(CAPTURES.c.id == bindparam("capture_id"))
)
# The newest capture holding a URL's content, and the capture whose record holds the
# payload (itself, or the original of an identical-payload revisit).
LAST_GOOD_CAPTURE = (
    select(
        CAPTURES.c.id,
        CAPTURES.c.url,
        CAPTURES.c.fetched_at,
        CAPTURES.c.record_id,
        CAPTURES.c.payload_sha256,
        CAPTURES.c.content_sha256,
        CAPTURES.c.content_size,
        CAPTURES.c.payload_size,
        CAPTURES.c.media_type,
        CAPTURES.c.oversize,
        func.coalesce(CAPTURES.c.refers_to_id, CAPTURES.c.id).label("holder_id"),
    )
    .where(CAPTURES.c.url == bindparam("url"), CAPTURES.c.status == 200)
    .order_by(CAPTURES.c.id.desc())
    .limit(1)
)


def _whole(home: ArchiveHome, row: Any) -> bool:
    """Does a row of RECORD_OF point at its record, whole? Verify's fast pass decides at the
    speed of zlib; warcio's careful reading, where the pass does not vouch for the record."""
    payload_sha256 = row.payload_sha256 if row.record_type == "response" else None
    return record_whole(
        home.warc_dir / row.name, row.offset, row.length, row.record_id, payload_sha256
    )


class CaptureWriter(DurableWriter):
    """Writes WARC records and the capture rows that point at them."""

    def __init__(self, home: ArchiveHome, options: WriterOptions):
        super().__init__(home, options)
        self._warc_ids: dict[str, int] = {}
        self._payload_owner: dict[str, tuple[int, RevisitTarget] | None] = {}
        self._intact_records: dict[int, bool] = {}

    def _forget_batch(self) -> None:
        super()._forget_batch()
        # Captures written in the lost batch no longer exist. (The WARC files' ids stay:
        # the files opened in it are deleted, and their names never come again.)
        self._payload_owner.clear()

    def _warc_file_id(self, name: str) -> int:
        if name not in self._warc_ids:
            self._warc_ids[name] = self._add(WARC_FILES, name=name, created_at=utc_now())
        return self._warc_ids[name]

    def _revisit_target(self, payload_sha256: str) -> tuple[int, RevisitTarget] | None:
        """The stored response that already holds this payload, if any whose record reads
        back whole: a revisit must never point at a record known bad (found damaged, or
        its loss on record), or the payload would be lost with it."""
        if payload_sha256 not in self._payload_owner:
            rows = self.connection.execute(PAYLOAD_HOLDERS, {"digest": payload_sha256})
            holder = next((row for row in rows.all() if self._intact(row.id)), None)
            self._payload_owner[payload_sha256] = (
                None
                if holder is None
                else (holder.id, RevisitTarget(holder.url, holder.fetched_at, holder.record_id))
            )
        return self._payload_owner[payload_sha256]

    def _intact(self, capture_id: int) -> bool:
        """Does the capture's record read back whole, its loss not on record? Read once a
        run: a record written by an earlier run (this run's own are known whole)."""
        if capture_id not in self._intact_records:
            row = self.connection.execute(RECORD_OF, {"capture_id": capture_id}).first()
            self._intact_records[capture_id] = (
                row is not None and not row.lost and _whole(self.home, row)
            )
        return self._intact_records[capture_id]

    @guarded
    def record_exchange(
        self, exchange: HttpExchange, max_decoded: int = DEFAULT_MAX_DECODED, whole: bool = False
    ) -> CaptureInfo:
        """Write the exchange to WARC (a revisit if the payload is stored) and index it;
        `whole`: a response record holding the payload in any case (`repair`).

        The content digest is taken while decoding in chunks, never holding the content; a
        payload that decodes past `max_decoded` bytes (0: no limit) is flagged oversize, and
        its content digest and size are the wire payload's."""
        assert self.warc is not None and self.run_id is not None, "start_run() first"
        if exchange.status == 304:
            return self._record_not_modified(exchange)
        payload_sha256 = exchange.payload_sha256
        payload_size = exchange.payload_size
        dedup = payload_size >= MIN_DEDUP_PAYLOAD
        owner = self._revisit_target(payload_sha256) if dedup and not whole else None
        written = self.warc.write_exchange(exchange, payload_sha256, owner[1] if owner else None)
        content_sha256, content_size = payload_sha256, payload_size
        oversize = None
        encoding = exchange.header("Content-Encoding")
        if is_encoded(encoding):
            try:
                content_sha256, content_size = decoded_digest(
                    exchange.payload_chunks(), encoding, max_decoded
                )
            except ContentOversize as error:
                oversize = str(error)
            except ContentUndecodable:
                pass  # undecodable: the payload is what we have
        info = CaptureInfo(
            id=0,
            url=exchange.url,
            status=exchange.status,
            payload_sha256=payload_sha256,
            content_sha256=content_sha256,
            content_size=content_size,
            media_type=exchange.header("Content-Type"),
            record_type=written.record_type,
            oversize=oversize,
        )
        return self._index(
            exchange,
            written,
            info,
            payload_size=payload_size,
            refers_to_id=owner[0] if owner else None,
            dedup=dedup and owner is None,
        )

    def _record_not_modified(self, exchange: HttpExchange) -> CaptureInfo:
        """A 304: a revisit record pointing at the newest good capture of the URL. Without
        one (the server answered 304 to a request we did not make conditional) the 304 is
        stored as it came."""
        assert self.warc is not None
        last = self.connection.execute(LAST_GOOD_CAPTURE, {"url": exchange.url}).first()
        if last is not None and not self._intact(last.holder_id):
            last = None  # what it confirms is lost: never a revisit pointing at a bad record
        if last is None:
            written = self.warc.write_exchange(exchange, sha256_hex(exchange.payload), None)
            info = CaptureInfo(
                0,
                exchange.url,
                304,
                sha256_hex(b""),
                sha256_hex(b""),
                0,
                exchange.header("Content-Type"),
                written.record_type,
            )
            return self._index(
                exchange, written, info, payload_size=0, refers_to_id=None, dedup=False
            )
        target = RevisitTarget(last.url, last.fetched_at, last.record_id, not_modified=True)
        written = self.warc.write_exchange(exchange, last.payload_sha256, target)
        info = CaptureInfo(
            0,
            exchange.url,
            304,
            last.payload_sha256,
            last.content_sha256,
            last.content_size,
            last.media_type,
            written.record_type,
            # A 304 stands for the bytes it confirms: not inflated if those were not.
            "the page it confirms is oversize: not inflated" if last.oversize else None,
        )
        return self._index(
            exchange,
            written,
            info,
            payload_size=last.payload_size,
            refers_to_id=last.holder_id,
            dedup=False,
        )

    def _index(
        self,
        exchange: HttpExchange,
        written: WrittenRecord,
        info: CaptureInfo,
        *,
        payload_size: int,
        refers_to_id: int | None,
        dedup: bool,
    ) -> CaptureInfo:
        """Insert the capture row of a record just written."""
        capture_id = self._add(
            CAPTURES,
            run_id=self.run_id,
            url=exchange.url,
            method=exchange.method,
            status=exchange.status,
            fetched_at=exchange.fetched_at,
            media_type=info.media_type,
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
            payload_sha256=info.payload_sha256,
            payload_size=payload_size,
            content_sha256=info.content_sha256,
            content_size=info.content_size,
            oversize=info.oversize is not None,
            refers_to_id=refers_to_id,
        )
        if dedup:
            target = RevisitTarget(exchange.url, exchange.fetched_at, written.record_id)
            self._payload_owner[info.payload_sha256] = (capture_id, target)
        self._wrote()
        return replace(info, id=capture_id)

    @guarded
    def record_loss(self, capture_id: int, record_id: str, found: str, replacement_id: int) -> int:
        """Put on record that capture `capture_id`'s record (`record_id`) was lost, as
        verify `found` it, and that capture `replacement_id` replaces it; its ledger entry
        names both. The lost capture's row and record are left as they are."""
        assert self.run_id is not None, "start_run() first"
        loss_id = self._add(
            CAPTURE_LOSSES,
            capture_id=capture_id,
            record_id=record_id,
            found=found,
            replacement_id=replacement_id,
            run_id=self.run_id,
            recorded_at=utc_now(),
        )
        self._intact_records[capture_id] = False
        self._wrote()
        return loss_id

    def _close_warc_files(self) -> None:
        assert self.warc is not None
        self.warc.close()
        for name in self.warc.closed_names:
            path = self.home.warc_dir / name
            self.connection.execute(
                update(WARC_FILES)
                .where(WARC_FILES.c.id == self._warc_ids[name], WARC_FILES.c.closed_at.is_(None))
                .values(**close_file(path)._asdict(), closed_at=utc_now())
            )
            self._ledger.add_warc_file(name)
