"""Small but real files for the replica: PNG and JPEG images, PDF attachments."""

from __future__ import annotations

import random
import struct
import zlib

# Standard JPEG luminance DC table (ITU T.81 Annex K.3): categories 0..11.
_DC_BITS = (0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0)
_DC_VALUES = tuple(range(12))
# Blocks are flat, so the only AC symbol ever coded is end-of-block (0x00); a two-entry
# table keeps the file tiny and still valid for any baseline decoder.
_AC_BITS = (0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
_AC_VALUES = (0x00, 0x01)
# Every coefficient quantized by 8, so a block's DC coefficient is (gray - 128).
_QUANT = 8


def png(seed: int, width: int = 24, height: int = 16) -> bytes:
    """An RGB PNG with a gradient drawn from the seed (different seeds, different bytes)."""
    rng = random.Random(seed)
    base = [rng.randrange(256) for _ in range(3)]
    steps = [rng.randrange(1, 12) for _ in range(3)]
    raw = bytearray()
    for y in range(height):
        raw.append(0)  # filter type None for each scanline
        for x in range(width):
            raw += bytes(
                (
                    (base[0] + steps[0] * x) % 256,
                    (base[1] + steps[1] * y) % 256,
                    (base[2] + steps[2] * (x + y)) % 256,
                )
            )
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(bytes(raw), 9))
        + _png_chunk(b"IEND", b"")
    )


def _png_chunk(tag: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))


def jpeg(seed: int, width: int = 32, height: int = 24) -> bytes:
    """A baseline grayscale JPEG of flat 8x8 blocks whose grays come from the seed."""
    rng = random.Random(seed)
    blocks_x, blocks_y = -(-width // 8), -(-height // 8)
    grays = [rng.randrange(16, 240) for _ in range(blocks_x * blocks_y)]
    dc_codes = _huffman_codes(_DC_BITS, _DC_VALUES)
    ac_codes = _huffman_codes(_AC_BITS, _AC_VALUES)
    writer = _BitWriter()
    previous = 0
    for gray in grays:
        dc = (gray - 128) * 8 // _QUANT
        diff = dc - previous
        previous = dc
        size = abs(diff).bit_length()
        writer.write(*dc_codes[size])
        if size:
            writer.write(diff if diff > 0 else diff + (1 << size) - 1, size)
        writer.write(*ac_codes[0x00])
    comment = f"chalco replica image {seed}".encode("ascii")
    return b"".join(
        [
            b"\xff\xd8",
            _segment(0xE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"),
            _segment(0xFE, comment),
            _segment(0xDB, b"\x00" + bytes([_QUANT]) * 64),
            _segment(0xC0, struct.pack(">BHHBBBB", 8, height, width, 1, 1, 0x11, 0)),
            _segment(0xC4, b"\x00" + bytes(_DC_BITS) + bytes(_DC_VALUES)),
            _segment(0xC4, b"\x10" + bytes(_AC_BITS) + bytes(_AC_VALUES)),
            _segment(0xDA, b"\x01\x01\x00\x00\x3f\x00"),
            writer.finish(),
            b"\xff\xd9",
        ]
    )


def _segment(marker: int, payload: bytes) -> bytes:
    return bytes((0xFF, marker)) + struct.pack(">H", len(payload) + 2) + payload


def _huffman_codes(bits: tuple[int, ...], values: tuple[int, ...]) -> dict[int, tuple[int, int]]:
    """Canonical Huffman codes as T.81 Annex C builds them: symbol -> (code, length)."""
    codes: dict[int, tuple[int, int]] = {}
    code = 0
    index = 0
    for length, count in enumerate(bits, start=1):
        for _ in range(count):
            codes[values[index]] = (code, length)
            code += 1
            index += 1
        code <<= 1
    return codes


class _BitWriter:
    def __init__(self) -> None:
        self._out = bytearray()
        self._acc = 0
        self._count = 0

    def write(self, value: int, length: int) -> None:
        self._acc = (self._acc << length) | (value & ((1 << length) - 1))
        self._count += length
        while self._count >= 8:
            self._count -= 8
            byte = (self._acc >> self._count) & 0xFF
            self._out.append(byte)
            if byte == 0xFF:
                self._out.append(0x00)  # byte stuffing, so the data never looks like a marker
        self._acc &= (1 << self._count) - 1

    def finish(self) -> bytes:
        if self._count:
            self.write((1 << (8 - self._count)) - 1, 8 - self._count)  # pad with 1-bits
        return bytes(self._out)


def pdf(title: str, lines: list[str]) -> bytes:
    """A one-page PDF 1.4 with a correct xref table; title goes to /Info as UTF-16."""
    text = "\n".join(
        f"BT /F1 12 Tf 72 {770 - 18 * i} Td ({_pdf_escape(line)}) Tj ET"
        for i, line in enumerate(lines)
    ).encode("latin-1")
    title_hex = (b"\xfe\xff" + title.encode("utf-16-be")).hex().upper()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(text) + text + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Title <" + title_hex.encode("ascii") + b"> /Producer (chalco replica) >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref_at = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info 6 0 R >>\n" % (len(objects) + 1)
    out += b"startxref\n%d\n%%%%EOF\n" % xref_at
    return bytes(out)


def _pdf_escape(line: str) -> str:
    return line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
