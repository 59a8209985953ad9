"""The snapshot store: HTTP exchanges written to gzipped WARC/1.1 files with warcio, and read back.

Each exchange becomes a request record and a response record, or a revisit record when the
same payload is already stored (profile identical-payload-digest). Payloads are kept as they
came off the wire, before content decoding; digests are SHA-256 (base32, as WARC writes them).
"""

from __future__ import annotations

import io
import os
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from pathlib import Path
from typing import IO
from urllib.parse import urlsplit

from warcio.statusandheaders import StatusAndHeaders
from warcio.timeutils import datetime_to_iso_date
from warcio.utils import Digester
from warcio.warcwriter import WARCWriter

from archive.store.decoding import decode_content  # noqa: F401  (its old home; the one decoder)
from archive.store.warc_records import (  # noqa: F401  (their old home)
    StoredResponse,
    _whole_record,
    complete_prefix,
    read_record,
    record_intact,
    sha256_hex,
    warc_digest,
    whole_record_ends,
)

WARC_VERSION = "1.1"
SERVER_NOT_MODIFIED = "http://netpreserve.org/warc/1.1/revisit/server-not-modified"
DEFAULT_MAX_FILE_SIZE = 1024**3
# The HTTP client removed the chunked framing, so the stored payload is not chunked; the
# header is kept under another name so that readers do not try to de-chunk it.
RENAMED_RESPONSE_HEADERS = {"transfer-encoding": "X-Archive-Orig-Transfer-Encoding"}


SPOOL_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class SpooledPayload:
    """A response body too large to hold in memory, as received, in a file of its own: the
    crawl's downloader spools it there as it arrives (chalco_crawler/download.py)."""

    file: IO[bytes] = field(repr=False)
    """Holds the bytes from offset 0; read with `chunks()`, which seeks there first."""
    size: int
    sha256: str
    """Hex digest of the bytes, taken as they were written."""

    def chunks(self, size: int = SPOOL_CHUNK) -> Iterator[bytes]:
        self.file.seek(0)
        while chunk := self.file.read(size):
            yield chunk


@dataclass(frozen=True)
class HttpExchange:
    """One HTTP request and the response to it, as sent and received."""

    url: str
    method: str
    request_headers: list[tuple[str, str]]
    status: int
    protocol: str
    """`HTTP/1.1` as the server spoke it."""
    response_headers: list[tuple[str, str]]
    payload: bytes = field(repr=False)
    """The response body as received on the wire: still gzip-encoded if the server sent gzip."""
    fetched_at: datetime
    """When the response arrived, UTC."""
    ip_address: str | None = None
    spooled: SpooledPayload | None = None
    """The body, when it was spooled to a file (a large download); `payload` is then empty."""
    truncated: str | None = None
    """Why the body was cut short on purpose (a robots.txt read up to its size limit): the
    record says so (WARC-Truncated: length)."""

    @property
    def payload_size(self) -> int:
        return self.spooled.size if self.spooled is not None else len(self.payload)

    @property
    def payload_sha256(self) -> str:
        return self.spooled.sha256 if self.spooled is not None else sha256_hex(self.payload)

    def payload_chunks(self) -> Iterator[bytes]:
        """The body as received, a chunk at a time (one chunk unless it was spooled)."""
        if self.spooled is not None:
            yield from self.spooled.chunks()
        elif self.payload:
            yield self.payload

    def header(self, name: str) -> str | None:
        lowered = name.lower()
        for key, value in self.response_headers:
            if key.lower() == lowered:
                return value
        return None


@dataclass(frozen=True)
class RevisitTarget:
    """The stored record that already holds the payload of a revisit."""

    url: str
    fetched_at: datetime
    record_id: str
    not_modified: bool = False
    """True for a 304 answer to a conditional request (profile server-not-modified);
    False for a payload identical to the stored one (profile identical-payload-digest)."""


@dataclass(frozen=True)
class WrittenRecord:
    """Where an exchange went: enough to index it and read it back."""

    warc_name: str
    record_type: str
    record_id: str
    offset: int
    length: int
    request_offset: int
    request_length: int
    payload_sha256: str


class _Sha256WARCWriter(WARCWriter):
    """warcio's writer with SHA-256 block and payload digests instead of SHA-1."""

    @staticmethod
    def _create_digester() -> Digester:
        return Digester("sha256")


def _status_line(status: int) -> str:
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return str(status)


def _request_target(url: str) -> str:
    parts = urlsplit(url)
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def _response_headers(headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(RENAMED_RESPONSE_HEADERS.get(k.lower(), k), v) for k, v in headers]


class WarcStore:
    """Appends exchanges to WARC files under one directory, rolling over at a size limit.

    Records are flushed as written; `sync()` makes them durable (fsync), and must be called
    before a database row that points at them is committed.
    """

    def __init__(self, warc_dir: Path, prefix: str, max_file_size: int = DEFAULT_MAX_FILE_SIZE):
        self.warc_dir = warc_dir
        self.prefix = prefix
        self.max_file_size = max_file_size
        self._sequence = 0
        self._handle: io.BufferedWriter | None = None
        self._writer: _Sha256WARCWriter | None = None
        self.current_name: str | None = None
        self.closed_names: list[str] = []
        # Where the files stood at the last commit of the rows that point into them.
        self._commit_point: tuple[str | None, int] = (None, 0)
        self._opened_since_commit: list[str] = []

    def _open_next(self) -> None:
        self._sequence += 1
        name = f"{self.prefix}-{self._sequence:05d}.warc.gz"
        self._opened_since_commit.append(name)
        path = self.warc_dir / name
        # 'xb': never append to or overwrite a file that exists.
        self._handle = open(path, "xb")  # noqa: SIM115 (closed in close())
        self._writer = _Sha256WARCWriter(self._handle, gzip=True, warc_version=WARC_VERSION)
        self.current_name = name
        info = {
            "software": "chalco-archive (warcio)",
            "format": "WARC File Format 1.1",
            "hostname": socket.gethostname(),
            "isPartOf": self.prefix,
        }
        self._writer.write_record(self._writer.create_warcinfo_record(name, info))

    def _ensure_open(self) -> tuple[io.BufferedWriter, _Sha256WARCWriter]:
        if self._handle is not None and self._handle.tell() >= self.max_file_size:
            self.close_current()
        if self._handle is None or self._writer is None:
            self._open_next()
        assert self._handle is not None and self._writer is not None
        return self._handle, self._writer

    def write_exchange(
        self, exchange: HttpExchange, payload_sha256: str, revisit_of: RevisitTarget | None
    ) -> WrittenRecord:
        """Write the request record, then a response record (or a revisit record)."""
        handle, writer = self._ensure_open()
        warc_date = datetime_to_iso_date(
            exchange.fetched_at.astimezone(UTC).replace(tzinfo=None), use_micros=True
        )
        common: dict[str, str] = {"WARC-Date": warc_date}
        if exchange.ip_address:
            common["WARC-IP-Address"] = exchange.ip_address

        http_response = StatusAndHeaders(
            _status_line(exchange.status),
            _response_headers(exchange.response_headers),
            protocol=exchange.protocol or "HTTP/1.1",
        )
        if revisit_of is None:
            if exchange.spooled is not None:
                # Read from the file a chunk at a time by warcio, never whole; its digest is
                # known already.
                exchange.spooled.file.seek(0)
                payload: IO[bytes] = exchange.spooled.file
                headers = dict(common, **{"WARC-Payload-Digest": warc_digest(payload_sha256)})
            else:
                payload, headers = io.BytesIO(exchange.payload), dict(common)
            if exchange.truncated:
                headers["WARC-Truncated"] = "length"
            record = writer.create_warc_record(
                exchange.url,
                "response",
                payload=payload,
                length=exchange.payload_size,
                http_headers=http_response,
                warc_headers_dict=headers,
            )
        else:
            record = writer.create_revisit_record(
                exchange.url,
                digest=warc_digest(payload_sha256),
                refers_to_uri=revisit_of.url,
                refers_to_date=datetime_to_iso_date(
                    revisit_of.fetched_at.astimezone(UTC).replace(tzinfo=None), use_micros=True
                ),
                http_headers=http_response,
                warc_headers_dict=dict(common, **{"WARC-Refers-To": revisit_of.record_id}),
            )
            if revisit_of.not_modified:
                record.rec_headers.replace_header("WARC-Profile", SERVER_NOT_MODIFIED)
        record_id = record.rec_headers.get_header("WARC-Record-ID")

        host = urlsplit(exchange.url).netloc
        request_headers = list(exchange.request_headers)
        if not any(k.lower() == "host" for k, _ in request_headers):
            request_headers.insert(0, ("Host", host))
        http_request = StatusAndHeaders(
            f"{exchange.method} {_request_target(exchange.url)} HTTP/1.1",
            request_headers,
            is_http_request=True,
        )
        request = writer.create_warc_record(
            exchange.url,
            "request",
            http_headers=http_request,
            warc_headers_dict=dict(common, **{"WARC-Concurrent-To": record_id}),
        )

        request_offset = handle.tell()
        writer.write_record(request)
        offset = handle.tell()
        writer.write_record(record)
        end = handle.tell()
        assert self.current_name is not None
        return WrittenRecord(
            warc_name=self.current_name,
            record_type=record.rec_type,
            record_id=record_id,
            offset=offset,
            length=end - offset,
            request_offset=request_offset,
            request_length=offset - request_offset,
            payload_sha256=payload_sha256,
        )

    def sync(self) -> None:
        if self._handle is not None:
            self._handle.flush()
            os.fsync(self._handle.fileno())

    def mark_committed(self) -> None:
        """The rows pointing at everything written so far are committed."""
        self._commit_point = (self.current_name, self._handle.tell() if self._handle else 0)
        self._opened_since_commit = []

    def roll_back(self) -> None:
        """Undo what was written since the last commit (after a failed write or commit), so
        that no record is left that no row indexes. Truncation needs no free space."""
        if self._handle is not None:
            try:
                self._handle.close()
            except OSError:
                pass  # a buffered write that cannot be flushed is what we are undoing
        self._handle, self._writer = None, None
        committed_name, committed_size = self._commit_point
        for name in self._opened_since_commit:
            if name != committed_name:
                (self.warc_dir / name).unlink(missing_ok=True)
                if name in self.closed_names:
                    self.closed_names.remove(name)
        if committed_name is not None:
            os.truncate(self.warc_dir / committed_name, committed_size)
            if committed_name not in self.closed_names:
                self.closed_names.append(committed_name)
        self.current_name = None
        self._opened_since_commit = []

    def close_current(self) -> None:
        if self._handle is not None:
            self.sync()
            self._handle.close()
            assert self.current_name is not None
            self.closed_names.append(self.current_name)
        self._handle = None
        self._writer = None
        self.current_name = None

    def close(self) -> None:
        self.close_current()
