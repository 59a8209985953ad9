"""Captures of a URL: the list of them with where their records are, and a page's bytes as
received at a time (`get_snapshot`), read back from its WARC record and checked."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from archive.errors import ContentOversize, ContentUndecodable, SnapshotCorrupt, SnapshotNotFound
from archive.read.sql import Reader, Row, reader_for
from archive.store.decoding import DEFAULT_MAX_DECODED, decode_content
from archive.store.home import ArchiveHome
from archive.store.times import read_time, stored_time
from archive.store.warc_records import StoredResponse, read_record, sha256_hex

if TYPE_CHECKING:
    from sqlalchemy import Connection
    from sqlalchemy.orm import Session

# `offset` is a reserved word in PostgreSQL: quoted, as an identifier on both.
CAPTURES_WITH_WARC_FILE = (
    "SELECT c.id, c.url, c.status, c.fetched_at, c.record_type, c.record_id,"
    ' c.payload_sha256, c.content_sha256, c.content_size, c.oversize, c."offset", c.length,'
    " c.refers_to_id, w.name AS warc_file_name"
    " FROM captures AS c JOIN warc_files AS w ON w.id = c.warc_file_id"
)


# The replacement of a lost capture (`repair`), as a row of CAPTURES_WITH_WARC_FILE, with
# what was found and when the lost capture was made.
LOSS_OF = (
    CAPTURES_WITH_WARC_FILE.replace(
        "SELECT c.id,", "SELECT l.found, lost.fetched_at AS lost_fetched_at, c.id,"
    )
    + " JOIN capture_losses AS l ON l.replacement_id = c.id"
    " JOIN captures AS lost ON lost.id = l.capture_id WHERE l.capture_id = :id"
)


@dataclass(frozen=True)
class WarcFileName:
    name: str
    """Relative to the home's warc/ directory."""


@dataclass(frozen=True)
class CaptureRow:
    """A capture (captures) and the WARC file of its record."""

    id: int
    url: str
    status: int
    fetched_at: datetime
    record_type: str
    record_id: str
    payload_sha256: str
    content_sha256: str
    content_size: int
    oversize: bool
    offset: int
    length: int
    refers_to_id: int | None
    warc_file: WarcFileName

    @classmethod
    def of(cls, row: Row) -> CaptureRow:
        """From a row of CAPTURES_WITH_WARC_FILE (SQLite gives its booleans as 0 and 1)."""
        values = dict(row)
        values["fetched_at"] = read_time(values["fetched_at"])
        values["oversize"] = bool(values["oversize"])
        values["warc_file"] = WarcFileName(values.pop("warc_file_name"))
        return cls(**values)


def captures(database: Reader | Session | Connection, url: str) -> list[dict[str, Any]]:
    """Every capture of a URL, oldest first, with where its record is."""
    rows = reader_for(database).rows(
        CAPTURES_WITH_WARC_FILE + " WHERE c.url = :url ORDER BY c.fetched_at, c.id", url=url
    )
    return [
        {
            "url": capture.url,
            "fetched_at": capture.fetched_at.isoformat(),
            "status": capture.status,
            "record_type": capture.record_type,
            "record_id": capture.record_id,
            "payload_sha256": capture.payload_sha256,
            "content_sha256": capture.content_sha256,
            "content_size": capture.content_size,
            "oversize": capture.oversize,
            "warc_file": capture.warc_file.name,
            "offset": capture.offset,
            "length": capture.length,
            "refers_to_id": capture.refers_to_id,
        }
        for capture in map(CaptureRow.of, rows)
    ]


@dataclass(frozen=True)
class LostCapture:
    """The capture asked for, whose record was lost, and the one `repair` replaced it with."""

    capture: CaptureRow
    """The lost one (or the revisit whose original was lost)."""
    lost_fetched_at: datetime
    """When the capture whose record was lost was made."""
    found: str
    """What verify found wrong with that record."""
    replacement: CaptureRow


@dataclass
class Snapshot:
    """A capture's response as received: `content` is the payload after content decoding."""

    capture: CaptureRow
    response: StoredResponse
    content: bytes
    origin: StoredResponse | None = None
    """For a 304: the earlier response whose body it confirmed (its status and headers
    describe `content`)."""
    lost: LostCapture | None = None
    """Set when the capture asked for was lost and `capture` is its replacement."""


def _read(home: ArchiveHome, capture: CaptureRow) -> StoredResponse:
    return read_record(home.warc_dir / capture.warc_file.name, capture.offset, capture.length)


def _newest(
    reader: Reader, url: str, statuses: tuple[int, int], at: datetime | None
) -> CaptureRow | None:
    """The newest capture of `url` answered with one of `statuses`, at or before `at`."""
    params: dict[str, Any] = {"url": url, "first": statuses[0], "second": statuses[1]}
    when = ""
    if at is not None:
        when, params["at"] = " AND c.fetched_at <= :at", stored_time(at)
    row = reader.one(
        CAPTURES_WITH_WARC_FILE + f" WHERE c.url = :url AND c.status IN (:first, :second){when}"
        " ORDER BY c.fetched_at DESC, c.id DESC LIMIT 1",
        **params,
    )
    return None if row is None else CaptureRow.of(row)


def get_snapshot(
    database: Reader | Session | Connection,
    home: ArchiveHome,
    url: str,
    at: datetime | None = None,
    max_decoded: int | None = None,
) -> Snapshot:
    """The newest successful capture of `url` at or before `at` (default: the newest).

    Its content is decoded up to `max_decoded` bytes (default DEFAULT_MAX_DECODED, the
    crawl's): more raises ContentOversize, and so does a capture the crawl flagged oversize,
    unless a limit is given. A payload whose coding cannot be undone is given as stored,
    as the crawl digested it."""
    reader = reader_for(database)
    # A 304 to a conditional request confirms the content it refers to at its time.
    capture = _newest(reader, url, (200, 304), at)
    _check_not_gone(reader, url, at, capture)
    if capture is None:
        when = f" at or before {at.isoformat()}" if at else ""
        raise SnapshotNotFound(f"no capture of {url}{when}")
    lost = None
    try:
        response, holder, holder_response = _exchange(reader, home, capture)
    except SnapshotCorrupt:
        # Its record, or the one holding its payload, was lost: `repair` may have put the
        # loss on record with a capture fetched again; that one is served, and says so.
        lost = _loss_of(reader, capture)
        if lost is None:
            raise
        capture = lost.replacement
        response, holder, holder_response = _exchange(reader, home, capture)
    encoding = next(
        (v for k, v in holder_response.headers if k.lower() == "content-encoding"), None
    )
    limit = DEFAULT_MAX_DECODED if max_decoded is None else max_decoded
    where = (
        f"the bytes as received are in {holder.warc_file.name} at offset {holder.offset}"
        " (warcio extract)"
    )
    if holder.oversize and max_decoded is None:
        raise ContentOversize(
            f"{url} as captured on {holder.fetched_at.isoformat()} is flagged oversize: it"
            f" decodes ({encoding}) past the crawl's size limit and is not inflated; {where}",
            limit,
        )
    try:
        content = decode_content(holder_response.payload, encoding, limit)
    except ContentOversize as error:
        raise ContentOversize(
            f"{url} as captured on {holder.fetched_at.isoformat()} {error}; {where}", limit
        ) from error
    except ContentUndecodable:
        content = holder_response.payload
    origin = holder_response if capture.status == 304 else None
    return Snapshot(capture=capture, response=response, content=content, origin=origin, lost=lost)


def _exchange(
    reader: Reader, home: ArchiveHome, capture: CaptureRow
) -> tuple[StoredResponse, CaptureRow, StoredResponse]:
    """The capture's response, the capture holding its payload (itself, or a revisit's
    original) and that one's response, each read back and checked."""
    response = _read(home, capture)
    holder, holder_response = capture, response
    if capture.record_type == "revisit":
        if capture.refers_to_id is None:
            raise SnapshotCorrupt(
                f"revisit capture {capture.id} of {capture.url} names no original"
            )
        original = reader.one(
            CAPTURES_WITH_WARC_FILE + " WHERE c.id = :id", id=capture.refers_to_id
        )
        assert original is not None
        holder = CaptureRow.of(original)
        holder_response = _read(home, holder)
    if sha256_hex(holder_response.payload) != holder.payload_sha256:
        raise SnapshotCorrupt(f"payload of capture {holder.id} does not match its SHA-256")
    return response, holder, holder_response


def _loss_of(reader: Reader, capture: CaptureRow) -> LostCapture | None:
    """The loss on record of the capture, or of the original holding a revisit's payload
    when its replacement holds those very bytes; None without one."""
    row = reader.one(LOSS_OF, id=capture.id)
    if row is None and capture.record_type == "revisit" and capture.refers_to_id is not None:
        row = reader.one(LOSS_OF, id=capture.refers_to_id)
        if row is not None and row["payload_sha256"] != capture.payload_sha256:
            row = None  # the page had changed: the revisit's bytes are not in the replacement
    if row is None:
        return None
    values = dict(row)
    found, lost_at = values.pop("found"), read_time(values.pop("lost_fetched_at"))
    return LostCapture(capture, lost_at, found, CaptureRow.of(values))


def _check_not_gone(reader: Reader, url: str, at: datetime | None, page: CaptureRow | None) -> None:
    """A page the site had removed by then (404 or 410 captured after the page's last
    capture) is not silently given as in effect: say what the site answered, and when the
    page was last captured."""
    gone = _newest(reader, url, (404, 410), at)
    if gone is None or (page is not None and page.fetched_at > gone.fetched_at):
        return
    answered = f"the site answered {gone.status} for {url} on {gone.fetched_at.isoformat()}"
    if page is None:
        raise SnapshotNotFound(f"no page captured: {answered}")
    raise SnapshotNotFound(
        f"{answered}; the page was last captured on {page.fetched_at.isoformat()}"
        f" (--at {page.fetched_at.isoformat()} gives it)"
    )
