"""Decompression bombs for the fault replica: a page, an attachment and an image that are
small on the wire and huge once their Content-Encoding (gzip, deflate, br, zstd) is undone,
and the fault site's cases that serve them (`BombCases`).

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

from replica.faults.handler import FaultHandler, Route, send
from replica.faults.pages import GSYW, Doc, article_html, esc
from replica.faults.site import FaultSite, good_article
from replica.faults.stories import docid
from replica.faults.truth import AttachmentTruth, FaultCase

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


# Per coding: (what the page bomb's listed title names, the file bombs' article).
_BOMB_TOPICS: dict[str, tuple[str, tuple[str, str, tuple[str, ...]]]] = {
    "gzip": (
        "质量",
        (
            "中铝股份发布2026年质量提升行动方案",
            "质量管理部",
            (
                "为深入推进质量强企建设，中铝股份制定了2026年质量提升行动方案。",
                "方案明确了产品质量、工程质量和服务质量三个方面的重点任务。",
                "方案全文及质量指标分解表请见附件。",
            ),
        ),
    ),
    "deflate": (
        "设备管理",
        (
            "中铝股份开展设备全生命周期管理评估",
            "设备管理部",
            (
                "近日，中铝股份组织开展设备全生命周期管理评估工作。",
                "评估组对各单位设备台账、点检和维修记录进行了全面检查。",
                "评估报告请见附件，现场照片见下图。",
            ),
        ),
    ),
    "br": (
        "能源管理",
        (
            "中铝股份公布2025年度能效对标结果",
            "能源管理部",
            (
                "中铝股份公布了2025年度所属企业能效对标结果。",
                "电解铝综合交流电耗等主要指标持续优化，多家企业达到行业领先水平。",
                "对标结果明细请见附件。",
            ),
        ),
    ),
    "zstd": (
        "物流",
        (
            "中铝股份优化大宗原料物流组织",
            "物流管理部",
            (
                "中铝股份持续优化铝土矿、煤炭等大宗原料物流组织方式。",
                "通过铁路专线和水路联运，物流成本同比下降。",
                "物流方案及运输路线图请见附件。",
            ),
        ),
    ),
}


class BombCases(FaultSite):
    """Per coding, a page that is a bomb and a good article whose files are bombs."""

    _bombs: BombCache
    """Built once per server, on first use (FaultServer sets it)."""

    def bomb_bytes(self, coding: str = "gzip", kind: str = "page") -> bytes:
        """A decompression bomb as sent on the wire (built once, on first use)."""
        return self._bombs.get(coding, kind)

    def _build_bombs(self) -> None:
        """Per coding: an article page that is a bomb, and a good article whose attachment
        and image are bombs."""
        for k, coding in enumerate(CODINGS):
            label, topic = _BOMB_TOPICS[coding]
            n = docid(8, 40 + k)
            path = f"/{GSYW}/202602/t20260208_{n}.html"
            self._case(
                FaultCase(
                    f"page_bomb_{coding}",
                    path,
                    f"200, Content-Encoding: {coding}, text/html: an HTML prefix and NUL bytes "
                    "decoding to bomb_size bytes from a small fraction of it on the wire",
                    "archived as it came, flagged oversize, never inflated; memory bounded",
                ),
                self._bomb(coding, "page"),
                (f"中铝股份召开2026年{label}工作会议", "2026-02-08", n),
            )

            n = docid(8, 50 + k)
            stamp = f"20260208{n}"
            attachment, image = f"P0{stamp}000.pdf", f"W0{stamp}001.png"
            title, source, paragraphs = topic
            d = Doc(
                path=f"/{GSYW}/202602/t20260208_{n}.html",
                docid=n,
                section=GSYW,
                title=title,
                source=source,
                published="2026-02-08",
                created=f"2026-02-08 10:{k:02d}:00",
                paragraphs=paragraphs,
                files=((attachment, esc(f"{title}.pdf")),),
            )
            body = "\n".join(f'<p style="text-indent:2em">{esc(p)}</p>' for p in paragraphs)
            body += f'\n<p style="text-align:center"><img src="./{image}"></p>'
            self._add_article(d, data=article_html(d, body=body).encode("utf-8"))
            folder = d.path.rsplit("/", 1)[0]
            self._routes[f"{folder}/{attachment}"] = (None, self._bomb(coding, "attachment"))
            self._routes[f"{folder}/{image}"] = (None, self._bomb(coding, "image"))
            self.cases[f"file_bombs_{coding}"] = FaultCase(
                f"file_bombs_{coding}",
                d.path,
                f"a good article whose attachment (PDF) and inline image (PNG) are {coding} "
                "bombs of bomb_size bytes decoded",
                "article archived; both files archived as they came, flagged oversize, with "
                "the reason as their problem; never inflated",
                good=True,
                related=(f"{folder}/{attachment}", f"{folder}/{image}"),
            )
            bomb = AttachmentTruth(
                f"{folder}/{attachment}",
                f"{title}.pdf",
                self.bomb_size,
                "application/pdf",
                None,
                oversized=True,
            )
            self.good_articles.append(good_article(d, [bomb], case=f"file_bombs_{coding}"))

    def _bomb(self, coding: str, kind: str) -> Route:
        def route(handler: FaultHandler, head: bool) -> int:
            headers = {"Content-Type": MEDIA_TYPES[kind], "Content-Encoding": coding}
            return send(handler, 200, headers, self.bomb_bytes(coding, kind), head)

        return route
