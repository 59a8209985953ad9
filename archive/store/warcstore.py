"""The snapshot store: HTTP exchanges written to gzipped WARC/1.1 files with warcio, and read back.

Each exchange becomes a request record and a response record, or a revisit record when the
same payload is already stored (profile identical-payload-digest). Payloads are kept as they
came off the wire, before content decoding; digests are SHA-256 (base32, as WARC writes them).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import io
import os
import socket
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from pathlib import Path
from typing import IO, Any, BinaryIO
from urllib.parse import urlsplit

from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed
from warcio.statusandheaders import StatusAndHeaders
from warcio.timeutils import datetime_to_iso_date
from warcio.utils import Digester
from warcio.warcwriter import WARCWriter

from archive.errors import SnapshotCorrupt, readable_reason
from archive.store.decoding import decode_content  # noqa: F401  (its old home; the one decoder)

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


@dataclass(frozen=True)
class StoredResponse:
    """A response read back from a WARC file."""

    status: int
    status_line: str
    protocol: str
    headers: list[tuple[str, str]]
    payload: bytes = field(repr=False)
    warc_headers: list[tuple[str, str]]


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def warc_digest(hex_digest: str) -> str:
    """`sha256:<base32>`, the form WARC-Payload-Digest uses."""
    return "sha256:" + base64.b32encode(bytes.fromhex(hex_digest)).decode("ascii")


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


def read_record(path: Path, offset: int, length: int) -> StoredResponse:
    """Read the response or revisit record at `offset` and check its payload digest."""
    try:
        with open(path, "rb") as handle:
            handle.seek(offset)
            data = handle.read(length)
    except FileNotFoundError as error:
        raise SnapshotCorrupt(f"WARC file missing: {path}") from error
    if len(data) != length:
        raise SnapshotCorrupt(f"WARC file truncated: {path} at offset {offset}")
    try:
        iterator = ArchiveIterator(io.BytesIO(data), check_digests=True)
        record = next(iterator)
        status_line = record.http_headers.statusline if record.http_headers else ""
        protocol = record.http_headers.protocol if record.http_headers else ""
        headers = list(record.http_headers.headers) if record.http_headers else []
        payload = record.raw_stream.read()
        iterator.read_to_end(record)
        warc_headers = list(record.rec_headers.headers)
        expected = record.rec_headers.get_header("WARC-Payload-Digest")
        problems = list(record.digest_checker.problems)
    except (ArchiveLoadFailed, StopIteration, OSError, EOFError, zlib.error, ValueError) as error:
        raise SnapshotCorrupt(
            f"unreadable WARC record in {path} at offset {offset}: {readable_reason(str(error))}"
        ) from error
    if problems:
        raise SnapshotCorrupt(f"digest mismatch in {path} at offset {offset}: {problems[0]}")
    # The archive indexes only response and revisit records, and writes every response with
    # its digest: anything else at an indexed offset is damage (a flipped bit in the type).
    if record.rec_type not in ("response", "revisit"):
        raise SnapshotCorrupt(
            f"not a response record in {path} at offset {offset}: {record.rec_type!r}"
        )
    if record.rec_type == "response" and expected != warc_digest(sha256_hex(payload)):
        raise SnapshotCorrupt(f"payload digest mismatch in {path} at offset {offset}")
    try:
        status = int(status_line.split(" ", 1)[0])
    except ValueError:
        status = 0
    return StoredResponse(
        status=status,
        status_line=status_line,
        protocol=protocol,
        headers=headers,
        payload=payload,
        warc_headers=warc_headers,
    )


class _Span(io.RawIOBase):
    """`length` bytes of a file from where it stands: one record's gzip member."""

    def __init__(self, handle: BinaryIO, length: int):
        self._handle = handle
        self._left = length

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer)[: self._left]
        count = self._handle.readinto(view)  # type: ignore[attr-defined]
        self._left -= count
        return count


def record_intact(
    path: Path,
    offset: int,
    length: int,
    record_id: str | None = None,
    payload_sha256: str | None = None,
) -> bool:
    """Does the gzip member at `offset` hold one whole record with its digests (and, given,
    this record id and payload digest)? Read a slice at a time: an attachment's record may
    be hundreds of megabytes, which `read_record` would hold at once."""
    try:
        if path.stat().st_size < offset + length:
            return False
        # warcio writes what zlib said of a damaged member to stderr: the answer is ours.
        with open(path, "rb") as handle, contextlib.redirect_stderr(io.StringIO()):
            handle.seek(offset)
            iterator = ArchiveIterator(_Span(handle, length), check_digests=True)
            record = next(iterator)
            digest = hashlib.sha256()
            for chunk in iter(lambda: record.raw_stream.read(1 << 20), b""):
                digest.update(chunk)
            iterator.read_to_end(record)
            if record.digest_checker.problems or next(iterator, None) is not None:
                return False
    except (ArchiveLoadFailed, StopIteration, OSError, EOFError, zlib.error, ValueError):
        return False
    if record_id is not None and record.rec_headers.get_header("WARC-Record-ID") != record_id:
        return False
    return payload_sha256 is None or digest.hexdigest() == payload_sha256


def _whole_record(head: bytes, total: int) -> bool:
    """Does one decompressed gzip member hold exactly one whole WARC record?"""
    if not head.startswith(b"WARC/"):
        return False
    header_end = head.find(b"\r\n\r\n")
    if header_end < 0:
        return False
    for line in head[:header_end].split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            try:
                length = int(value.strip())
            except ValueError:
                return False
            return total == header_end + 4 + length + 4
    return False


def complete_prefix(path: Path) -> int:
    """The length of the file's prefix made of whole records, each a whole gzip member.

    A crawl killed while writing leaves a record cut short at the end of its WARC file;
    warcio reads such a record without complaint, so the framing is checked here.
    """
    ends = whole_record_ends(path)
    return ends[-1] if ends else 0


def whole_record_ends(path: Path) -> list[int]:
    """Where each whole record of the file's complete prefix ends (see complete_prefix)."""
    ends: list[int] = []
    with open(path, "rb") as handle:
        offset = 0
        decompressor = zlib.decompressobj(zlib.MAX_WBITS | 16)
        head = bytearray()
        total = 0
        pending = b""
        while True:
            chunk = pending or handle.read(1 << 20)
            pending = b""
            if not chunk:
                break
            try:
                out = decompressor.decompress(chunk)
            except zlib.error:
                break
            total += len(out)
            if len(head) < 65536:
                head += out[: 65536 - len(head)]
            if not decompressor.eof:
                offset += len(chunk)
                continue
            member_end = offset + len(chunk) - len(decompressor.unused_data)
            if not _whole_record(bytes(head), total):
                break
            offset = member_end
            ends.append(member_end)
            pending = decompressor.unused_data
            decompressor = zlib.decompressobj(zlib.MAX_WBITS | 16)
            head, total = bytearray(), 0
    return ends
