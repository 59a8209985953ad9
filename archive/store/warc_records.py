"""WARC records read back: a response record at its offset, checked against its digest, and
whether a file's records are whole (what `verify`, `repair` and the writer's revisit guard
check). Nothing here writes; archive.store.warcstore writes and re-exports these.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import io
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from archive.errors import SnapshotCorrupt, readable_reason


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


def read_record(path: Path, offset: int, length: int) -> StoredResponse:
    """Read the response or revisit record at `offset` and check its payload digest."""
    from warcio.archiveiterator import ArchiveIterator  # here: verify of a whole archive
    from warcio.exceptions import ArchiveLoadFailed  # never needs it (archive.evidence)

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
    from warcio.archiveiterator import ArchiveIterator
    from warcio.exceptions import ArchiveLoadFailed

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
