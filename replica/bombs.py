"""Decompression bombs for the fault replica: a page, an attachment and an image that are
small on the wire and huge once their Content-Encoding (gzip, deflate, br, zstd) is undone.

Each decodes to a prefix that looks like the kind (HTML, a PDF header, a PNG signature)
followed by NUL bytes, `size` bytes in all. gzip and deflate are assembled from one
compressed block of zeros repeated (after a full flush a deflate block refers only to its own
output), so that a bomb of gigabytes is built in milliseconds; br and zstd compress so well
that their compressors are fast enough as they are.
"""

from __future__ import annotations

import struct
import threading
import zlib
from collections.abc import Callable

import brotli
from backports import zstd

CODINGS = ("gzip", "deflate", "br", "zstd")
KINDS = ("page", "attachment", "image")
PREFIXES = {
    "page": b'<!DOCTYPE html><html><head><meta charset="utf-8"></head><body>',
    "attachment": b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n",
    "image": b"\x89PNG\r\n\x1a\n",
}
MEDIA_TYPES = {
    "page": "text/html; charset=utf-8",
    "attachment": "application/pdf",
    "image": "image/png",
}
_BLOCK = 1 << 20


def _zero_blocks(count: int) -> bytes:
    """Raw deflate of `count` NUL bytes, ending on a full flush (not the final block)."""
    if count <= 0:
        return b""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    return compressor.compress(bytes(count)) + compressor.flush(zlib.Z_FULL_FLUSH)


def _raw_deflate(prefix: bytes, zeros: int) -> bytes:
    """Raw deflate of `prefix` and `zeros` NUL bytes, without compressing them all."""
    head = zlib.compressobj(9, zlib.DEFLATED, -15)
    out = [head.compress(prefix) + head.flush(zlib.Z_FULL_FLUSH)]
    block = _zero_blocks(_BLOCK)
    out.append(block * (zeros // _BLOCK))
    out.append(_zero_blocks(zeros % _BLOCK))
    out.append(b"\x03\x00")  # an empty final block
    return b"".join(out)


def _checksums(prefix: bytes, zeros: int) -> tuple[int, int]:
    """CRC-32 and Adler-32 of the decoded bytes, computed a block of zeros at a time."""
    crc, adler = zlib.crc32(prefix), zlib.adler32(prefix)
    block = bytes(_BLOCK)
    for _ in range(zeros // _BLOCK):
        crc, adler = zlib.crc32(block, crc), zlib.adler32(block, adler)
    rest = bytes(zeros % _BLOCK)
    return zlib.crc32(rest, crc), zlib.adler32(rest, adler)


def _streamed(
    feed: Callable[[bytes], bytes], finish: Callable[[], bytes], prefix: bytes, zeros: int
) -> bytes:
    out = [feed(prefix)]
    block = bytes(_BLOCK)
    remaining = zeros
    while remaining > 0:
        step = min(remaining, _BLOCK)
        out.append(feed(block if step == _BLOCK else block[:step]))
        remaining -= step
    out.append(finish())
    return b"".join(out)


def build(coding: str, kind: str, size: int) -> bytes:
    """The wire bytes of a bomb: `kind`'s prefix and NUL bytes, `size` bytes once decoded."""
    prefix = PREFIXES[kind][:size]
    zeros = size - len(prefix)
    if coding in ("gzip", "deflate"):
        body = _raw_deflate(prefix, zeros)
        crc, adler = _checksums(prefix, zeros)
        if coding == "gzip":
            header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"
            return header + body + struct.pack("<II", crc, size & 0xFFFFFFFF)
        return b"\x78\xda" + body + struct.pack(">I", adler)
    if coding == "br":
        packer = brotli.Compressor(quality=5)
        return _streamed(packer.process, packer.finish, prefix, zeros)
    if coding == "zstd":
        squeezer = zstd.ZstdCompressor(level=3)
        return _streamed(squeezer.compress, squeezer.flush, prefix, zeros)
    raise ValueError(f"no bomb for coding {coding!r}")


class BombCache:
    """Each bomb built once, on first use (a server's threads share it)."""

    def __init__(self, size: int):
        self.size = size
        self._lock = threading.Lock()
        self._built: dict[tuple[str, str], bytes] = {}

    def get(self, coding: str, kind: str) -> bytes:
        with self._lock:
            if (coding, kind) not in self._built:
                self._built[coding, kind] = build(coding, kind, self.size)
            return self._built[coding, kind]
