"""Undoing Content-Encoding (gzip, deflate, br, zstd, chained) in bounded memory and time.

A response small on the wire may inflate to gigabytes (a decompression bomb): every path that
decodes stored or wire bytes (the crawl's capture, snapshot, verify, package) goes through
this one decoder, which yields the content in chunks of at most CHUNK_SIZE bytes and stops
with ContentOversize as soon as a stage would produce more than the limit.
"""

from __future__ import annotations

import hashlib
import io
import zlib
from collections.abc import Iterable, Iterator
from typing import Any

import brotli  # type: ignore[import-not-found]  # a dependency (Scrapy decodes br with it too)
from backports import zstd  # type: ignore[import-not-found]

from archive.errors import ContentOversize, ContentUndecodable

DEFAULT_MAX_DECODED = 64 * 1024 * 1024
"""The crawl's default size limit of a page (DOWNLOAD_MAXSIZE, 64 MiB), which read commands
share: a page with a 50 MB inline script or pasted image is read, as the crawl read it."""
CHUNK_SIZE = 256 * 1024
# Input is fed to a codec in slices this long: zlib copies what it has not consumed yet on
# every call, which on a whole bomb (a thousand to one) would cost gigabytes of copying.
SLICE_SIZE = 16 * 1024

_GZIP = ("gzip", "x-gzip")
# What the codecs raise on damaged data.
_CODEC_ERRORS: tuple[type[Exception], ...] = (zlib.error, EOFError, brotli.error, zstd.ZstdError)


def codings(content_encoding: str | None) -> list[str]:
    """The codings of a Content-Encoding header, in the order they were applied."""
    if not content_encoding:
        return []
    return [c.strip().lower() for c in content_encoding.split(",") if c.strip()]


def is_encoded(content_encoding: str | None) -> bool:
    return any(coding != "identity" for coding in codings(content_encoding))


def _size(limit: int) -> str:
    mib = limit / (1024 * 1024)
    return f"{mib:g} MiB" if mib >= 1 else f"{limit} bytes"


def oversize_reason(limit: int, content_encoding: str | None) -> str:
    """The one line that says why a payload was not inflated."""
    coding = ", ".join(codings(content_encoding)) or "identity"
    return f"decodes ({coding}) to more than {_size(limit)}: not inflated"


class _Budget:
    """Counts one stage's output against the limit (0: no limit, as Scrapy's settings)."""

    def __init__(self, limit: int, content_encoding: str | None):
        self.limit = limit
        self.content_encoding = content_encoding
        self.total = 0

    def take(self, chunk: bytes) -> bytes:
        self.total += len(chunk)
        if self.limit and self.total > self.limit:
            raise ContentOversize(oversize_reason(self.limit, self.content_encoding), self.limit)
        return chunk


def _sliced(chunks: Iterable[bytes]) -> Iterator[bytes]:
    for chunk in chunks:
        view = memoryview(chunk)
        for start in range(0, len(view), SLICE_SIZE):
            yield bytes(view[start : start + SLICE_SIZE])


def _zlib_stage(chunks: Iterable[bytes], wbits: int | None) -> Iterator[bytes]:
    """gzip (wbits None: several members, as gzip allows) or deflate, with or without the
    zlib wrapper (some servers send raw deflate)."""
    gzip = wbits is None
    decompressor: Any = None
    members = 0
    for data in _sliced(chunks):
        while data:
            if decompressor is None:
                if members and not data.startswith(b"\x1f\x8b"):
                    return  # padding or garbage after the last member, as browsers ignore
                if gzip:
                    decompressor = zlib.decompressobj(zlib.MAX_WBITS | 16)
                else:
                    # The zlib header: CM 8 and a check value; anything else is raw deflate.
                    wrapped = (
                        len(data) >= 2
                        and data[0] & 0x0F == 8
                        and ((data[0] << 8) | data[1]) % 31 == 0
                    )
                    decompressor = zlib.decompressobj(zlib.MAX_WBITS if wrapped else -15)
            out = decompressor.decompress(data, CHUNK_SIZE)
            if out:
                yield out
            data = decompressor.unconsumed_tail
            if decompressor.eof:
                if not gzip:
                    return  # what follows a deflate stream is not part of it
                # Another gzip member may follow, here or in the next slice.
                members += 1
                decompressor, data = None, data or decompressor.unused_data
    if decompressor is None:
        return
    tail = decompressor.flush()
    if tail:
        yield tail
    if not decompressor.eof:
        raise ContentUndecodable("compressed data ended before the end of its stream")


def _brotli_stage(chunks: Iterable[bytes]) -> Iterator[bytes]:
    decompressor = brotli.Decompressor()
    for data in _sliced(chunks):
        out = decompressor.process(data, output_buffer_limit=CHUNK_SIZE)
        while True:
            if out:
                yield out
            if decompressor.can_accept_more_data() or decompressor.is_finished():
                break
            out = decompressor.process(b"", output_buffer_limit=CHUNK_SIZE)
        if decompressor.is_finished():
            return
    while not decompressor.is_finished():
        out = decompressor.process(b"", output_buffer_limit=CHUNK_SIZE)
        if not out:
            raise ContentUndecodable("brotli data ended before the end of its stream")
        yield out


def _zstd_stage(chunks: Iterable[bytes]) -> Iterator[bytes]:
    decompressor: Any = None
    for data in _sliced(chunks):
        while data or (decompressor is not None and not decompressor.needs_input):
            if decompressor is None:
                decompressor = zstd.ZstdDecompressor()
            out = decompressor.decompress(data, CHUNK_SIZE)
            data = b""
            if out:
                yield out
            if decompressor.eof:
                # Frames may follow one another, as `zstd -d` reads them.
                data, decompressor = decompressor.unused_data, None
    if decompressor is not None and not decompressor.eof:
        raise ContentUndecodable("zstd data ended before the end of its frame")


def _stage(coding: str, chunks: Iterable[bytes]) -> Iterator[bytes]:
    if coding in _GZIP:
        return _zlib_stage(chunks, None)
    if coding == "deflate":
        return _zlib_stage(chunks, zlib.MAX_WBITS)
    if coding == "br":
        return _brotli_stage(chunks)
    if coding == "zstd":
        return _zstd_stage(chunks)
    if coding == "identity":
        return iter(chunks)
    raise ContentUndecodable(f"unknown content coding {coding!r}")


def _counted(chunks: Iterator[bytes], budget: _Budget) -> Iterator[bytes]:
    for chunk in chunks:
        yield budget.take(chunk)


def decoded_chunks(
    payload: bytes | Iterable[bytes],
    content_encoding: str | None,
    limit: int = DEFAULT_MAX_DECODED,
) -> Iterator[bytes]:
    """The payload (bytes, or its chunks: a body spooled to a file) with its Content-Encoding
    undone (codings in reverse order, as a browser does), in chunks. Raises ContentOversize
    once any stage would yield more than `limit` bytes (0: no limit), ContentUndecodable for
    damaged data or an unknown coding."""
    if isinstance(payload, bytes | bytearray | memoryview):
        if not payload:
            return  # an empty body (a 204, a HEAD answer) under any coding is empty content
        payload = [bytes(payload)]
    chunks: Iterator[bytes] = (chunk for chunk in payload if chunk)
    for coding in reversed(codings(content_encoding)):
        chunks = _counted(_stage(coding, chunks), _Budget(limit, content_encoding))
    try:
        yield from chunks
    except _CODEC_ERRORS as error:
        raise ContentUndecodable(f"cannot undo {content_encoding}: {error}") from error


def decode_content(
    payload: bytes, content_encoding: str | None, limit: int = DEFAULT_MAX_DECODED
) -> bytes:
    """The whole decoded content (at most `limit` bytes); see decoded_chunks."""
    if not is_encoded(content_encoding):
        return payload
    # Written into one buffer as they come: a list of chunks joined would hold it twice.
    content = io.BytesIO()
    for chunk in decoded_chunks(payload, content_encoding, limit):
        content.write(chunk)
    return content.getvalue()


def decoded_digest(
    payload: bytes | Iterable[bytes],
    content_encoding: str | None,
    limit: int = DEFAULT_MAX_DECODED,
) -> tuple[str, int]:
    """SHA-256 and size of the decoded content, never holding it whole."""
    digest = hashlib.sha256()
    size = 0
    for chunk in decoded_chunks(payload, content_encoding, limit):
        digest.update(chunk)
        size += len(chunk)
    return digest.hexdigest(), size
