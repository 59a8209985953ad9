"""One streaming pass over a gzipped WARC file at the speed of zlib and hashlib: the file's
SHA-256, its framing (each record one whole gzip member) and every record's block and
payload digests.

The pass vouches only for records of the shape the archive's writer makes. Anything else
(a digest that differs, a cut-off member, a header warcio would read another way) ends it
with `None`, and `verify` reads the file again with warcio, which names the damage exactly
as it always has: the fast pass can make a verdict faster, never different.
"""

from __future__ import annotations

import hashlib
import re
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from archive.store.warc_records import _whole_record, record_intact

# What warcio's record loader accepts as a WARC version line, and the record types the
# archive writes (any other type is left to warcio).
WARC_VERSIONS = frozenset({"WARC/1.1", "WARC/1.0"})
RECORD_TYPES = frozenset({"warcinfo", "request", "response", "revisit"})
# Types whose block warcio parses as HTTP when the target is an http(s) URL.
HTTP_RECORDS = frozenset({"request", "response", "revisit"})
HEAD_MAX = 65536
"""A record's WARC headers must end within this many bytes (as in warcstore's framing)."""
READ_SIZE = 1 << 20
FEED_SIZE = 1 << 16
"""Compressed bytes given to zlib at a time: a member's end leaves the rest of the feed in
`unused_data`, a copy, so a whole read buffer per record would cost a copy of it each."""
OUTPUT_SIZE = 1 << 22
"""At most this many decompressed bytes at a time (a record of a gzip bomb's bytes)."""


@dataclass
class StoredRecord:
    """What verify keeps of a WARC record to match the capture rows against it."""

    record_id: str
    record_type: str
    url: str | None
    payload_sha256: str | None


@dataclass
class FileScan:
    """A file the fast pass vouches for."""

    records: dict[int, StoredRecord]
    """Every whole record by the offset of its gzip member."""
    valid: int
    """Where the last whole record ends."""
    size: int
    """The file's size when it was read (a crawl may append to an open file meanwhile)."""
    sha256: str
    """Of the bytes read, the whole file when `valid == size`."""


class Irregular(Exception):
    """Something the fast pass does not vouch for; warcio is to read the file."""


def _decode(line: bytes) -> str:
    # As warcio decodes a header line, so that its whitespace rules give the same split.
    try:
        return line.decode("utf-8")
    except UnicodeDecodeError:
        return line.decode("iso-8859-1")


# A line after the first that str.rstrip() leaves empty (in ASCII text whose every line
# ends in CR LF): where warcio's reader would see the headers end.
BLANK_LINE = re.compile(r"\n[ \t\x0b\x0c\x1c-\x1f\r]*(?:\r\n|\Z)")
# A byte other than printable ASCII, space, tab, CR and LF: on those alone the bytes and
# the text of a header line strip alike.
UNPLAIN = re.compile(rb"[^\t\r\n\x20-\x7e]")
SHA256_BASE32 = re.compile(r"sha256:([A-Z2-7]{52})====\Z")
# The base32 alphabet as the digits of int(..., 32).
BASE32_DIGITS = str.maketrans(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", "0123456789abcdefghijklmnopqrstuv"
)


def _header_text(section: bytes) -> str:
    """A header section (without its blank end line) as text, if warcio's line reader sees
    it as the same lines, none of them blank."""
    crlf = section.count(b"\r\n")
    if section.count(b"\n") != crlf or section.count(b"\r") != crlf:
        raise Irregular("a line feed or carriage return inside a header line")
    if section.isascii():
        text = section.decode("ascii")
        if not text.partition("\r\n")[0].rstrip() or BLANK_LINE.search(text):
            raise Irregular("blank header line before the end of the headers")
        return text
    lines = [_decode(raw) for raw in section.split(b"\r\n")]  # decoded line by line
    if not all(line.rstrip() for line in lines):
        raise Irregular("blank header line before the end of the headers")
    return "\r\n".join(lines)


def _digest_matches(value: str | None, hasher: Any) -> bool:
    """Is `value` the hasher's digest, written as the archive writes digests?"""
    canonical = SHA256_BASE32.match(value or "")
    if canonical is None:
        return False  # another algorithm or encoding: warcio's reading decides
    written = int(canonical.group(1).translate(BASE32_DIGITS), 32)
    # 52 base32 digits hold 260 bits: the 256 of the digest, then 4 zero bits.
    return written == int.from_bytes(hasher.digest(), "big") << 4


class _Member:
    """The record of one gzip member, checked as its bytes come out of zlib."""

    def __init__(self) -> None:
        self.head: bytearray | None = bytearray()
        self.block_left = 0
        self.trailer = b""
        self.http_head: bytearray | None = None
        self.block = hashlib.sha256()
        self.payload = hashlib.sha256()
        self.headers: dict[str, str] = {}

    def feed(self, data: bytes) -> None:
        if self.head is not None:
            self.head += data
            end = self.head.find(b"\r\n\r\n")
            if end < 0:
                if len(self.head) > HEAD_MAX:
                    raise Irregular("WARC headers too long")
                return
            if end + 4 > HEAD_MAX:
                raise Irregular("WARC headers too long")
            self._warc_headers(bytes(self.head[:end]))
            data = bytes(self.head[end + 4 :])
            self.head = None
        if self.block_left:
            piece = data[: self.block_left]
            self.block_left -= len(piece)
            self.block.update(piece)
            if self.http_head is None:
                self.payload.update(piece)
            else:
                self._http(piece)
            data = data[len(piece) :]
        if data:
            self.trailer += data
            if len(self.trailer) > 4:
                raise Irregular("more than one record in a gzip member")

    def _warc_headers(self, section: bytes) -> None:
        text = _header_text(section)
        version, _, fields = text.partition("\r\n")
        if version.rstrip() not in WARC_VERSIONS:
            raise Irregular("not a WARC record")
        headers = {}
        for line in reversed(fields.split("\r\n")):  # the first of a name is warcio's
            name, colon, value = line.partition(":")
            if not colon or line[:1] in (" ", "\t"):
                raise Irregular("a WARC header line warcio reads otherwise")
            headers[name.rstrip(" \t").lower()] = value.strip()
        self.headers = headers
        record_type = self.headers.get("warc-type")
        url = self.headers.get("warc-target-uri")
        if record_type not in RECORD_TYPES or "warc-segment-number" in self.headers:
            raise Irregular("a record of another kind")
        if url is None and record_type != "warcinfo":
            raise Irregular("an exchange without its target URI")
        if url is not None and (url.startswith("<") or " " in url):
            raise Irregular("a target URI that warcio rewrites (angle brackets, spaces)")
        try:
            self.block_left = int(self.headers.get("content-length") or "")
        except ValueError as error:
            raise Irregular("no Content-Length") from error
        if self.block_left < 0:
            raise Irregular("negative Content-Length")
        # The framing as verify's careful reading judges it, its Content-Length read from
        # bytes: where a header holds more than printable ASCII, str.strip() may take away
        # what bytes.strip() keeps, and the two readings must be seen to agree.
        total = len(section) + 4 + self.block_left + 4
        if UNPLAIN.search(section) and not _whole_record(section + b"\r\n\r\n", total):
            raise Irregular("a Content-Length the framing check reads otherwise")
        if (
            record_type in HTTP_RECORDS
            and url is not None
            and url.startswith(("http:", "https:"))
            and self.block_left > 0
        ):
            self.http_head = bytearray()

    def _http(self, piece: bytes) -> None:
        """The HTTP headers at the start of the block: the payload starts after them."""
        assert self.http_head is not None
        self.http_head += piece
        end = self.http_head.find(b"\r\n\r\n")
        if end < 0:
            if len(self.http_head) > HEAD_MAX:
                raise Irregular("HTTP headers too long")
            return
        _header_text(bytes(self.http_head[:end]))
        self.payload.update(self.http_head[end + 4 :])
        self.http_head = None

    def finish(self) -> StoredRecord:
        if self.head is not None or self.block_left or self.http_head is not None:
            raise Irregular("record shorter than its Content-Length")
        if self.trailer != b"\r\n\r\n":
            raise Irregular("record not followed by its blank lines")
        record_type = self.headers["warc-type"]  # one of RECORD_TYPES, as _warc_headers saw
        payload_sha256 = None
        if record_type != "revisit":  # warcio checks no digest of a revisit record
            block_digest = self.headers.get("warc-block-digest")
            payload_digest = self.headers.get("warc-payload-digest")
            if block_digest is not None and not _digest_matches(block_digest, self.block):
                raise Irregular("block digest")
            if payload_digest is not None and not _digest_matches(payload_digest, self.payload):
                raise Irregular("payload digest")
            if record_type == "response":
                payload_sha256 = self.payload.hexdigest()
        record_id = self.headers.get("warc-record-id")
        if record_id is None:
            raise Irregular("no WARC-Record-ID")
        return StoredRecord(
            record_id=record_id,
            record_type=record_type,
            url=self.headers.get("warc-target-uri"),
            payload_sha256=payload_sha256,
        )


def scan_warc(
    path: Path, being_written: bool, on_read: Callable[[int], None] | None = None
) -> FileScan | None:
    """Read the file once and check it whole; None when warcio is to read it instead.

    A file `being_written` may end in a record cut short (the one a crawl is writing, or a
    killed crawl's tail): a gzip member still open at the end of the file is not read, as
    verify's careful reading leaves it. Anything else irregular, anywhere, gives None.
    `on_read` is told the size of each piece of the file read, for a progress bar.
    """
    whole_file = hashlib.sha256()
    try:
        with open(path, "rb") as handle:
            records, valid, size, cut_off = scan_members(handle, 0, None, on_read, whole_file)
    except (Irregular, zlib.error, OSError):
        return None
    if cut_off and not being_written:
        return None  # a closed file ends in a cut-off record: warcio names it
    return FileScan(records, valid, size, whole_file.hexdigest())


def scan_members(
    handle: Any,
    start: int,
    stop: int | None,
    on_read: Callable[[int], None] | None = None,
    whole_file: Any = None,
) -> tuple[dict[int, StoredRecord], int, int, bool]:
    """The records of the gzip members from `start` (where one begins) to `stop` (or the
    end of the file): (records by offset, where the last whole one ends, where the bytes
    read end, whether a member was still open there). `whole_file`: a hasher given every
    byte read. Raises Irregular (or zlib.error) at anything the pass does not vouch for."""
    records: dict[int, StoredRecord] = {}
    handle.seek(start)
    member_start = position = read_to = start  # the member; the next byte to feed; read
    decompressor = zlib.decompressobj(zlib.MAX_WBITS | 16)
    member: _Member | None = None
    while True:
        want = READ_SIZE if stop is None else min(READ_SIZE, stop - read_to)
        if want <= 0 or not (chunk := handle.read(want)):
            break
        read_to += len(chunk)
        if whole_file is not None:
            whole_file.update(chunk)
        if on_read is not None:
            on_read(len(chunk))
        view = memoryview(chunk)
        while view:
            if member is None:
                member = _Member()
            feed = view[:FEED_SIZE]
            member.feed(decompressor.decompress(feed, OUTPUT_SIZE))
            # Highly compressed bytes, given out OUTPUT_SIZE at a time. At a member's end
            # zlib leaves unconsumed_tail as it was (the leftover is in unused_data too), so
            # the loop must stop there: fed again, it gives nothing, forever.
            while decompressor.unconsumed_tail and not decompressor.eof:
                tail = decompressor.unconsumed_tail
                member.feed(decompressor.decompress(tail, OUTPUT_SIZE))
            if not decompressor.eof:
                position += len(feed)
                view = view[len(feed) :]
                continue
            used = len(feed) - len(decompressor.unused_data)
            position += used
            view = view[used:]
            records[member_start] = member.finish()
            member_start, member = position, None
            decompressor = zlib.decompressobj(zlib.MAX_WBITS | 16)
    return records, member_start, position, member is not None


def member_record(path: Path, offset: int, length: int) -> StoredRecord | None:
    """The record of the one gzip member at `offset`, checked as the fast pass checks a
    file's (framing, block and payload digests) at the speed of zlib and hashlib; None
    when the pass does not vouch for it (damaged, or not of the writer's shape), and a
    careful reading (archive.store.warcstore.record_intact) is to decide."""
    decompressor = zlib.decompressobj(zlib.MAX_WBITS | 16)
    member = _Member()
    try:
        with open(path, "rb") as handle:
            handle.seek(offset)
            left = length
            while left:
                chunk = handle.read(min(READ_SIZE, left))
                if not chunk:
                    return None  # the file ends before the record does
                left -= len(chunk)
                for start in range(0, len(chunk), FEED_SIZE):
                    member.feed(
                        decompressor.decompress(chunk[start : start + FEED_SIZE], OUTPUT_SIZE)
                    )
                    while decompressor.unconsumed_tail and not decompressor.eof:
                        tail = decompressor.unconsumed_tail
                        member.feed(decompressor.decompress(tail, OUTPUT_SIZE))
        if not decompressor.eof or decompressor.unused_data:
            return None  # not exactly one gzip member
        return member.finish()
    except (Irregular, zlib.error, OSError):
        return None


def record_whole(
    path: Path,
    offset: int,
    length: int,
    record_id: str | None = None,
    payload_sha256: str | None = None,
) -> bool:
    """record_intact's answer (one whole record in the member at `offset`, of this id and
    response payload digest where given), at the speed of zlib where the fast pass vouches
    for the member, by warcio's careful reading where it does not."""
    stored = member_record(path, offset, length)
    if stored is None:
        return record_intact(path, offset, length, record_id, payload_sha256)
    return (record_id is None or stored.record_id == record_id) and (
        payload_sha256 is None or stored.payload_sha256 == payload_sha256
    )
