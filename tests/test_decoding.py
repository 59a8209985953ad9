"""The one decoder of Content-Encoding: every coding Scrapy asks for, chained, in chunks, and
never past its limit, however small the bomb is on the wire."""

from __future__ import annotations

import gzip
import subprocess
import sys
import zlib
from datetime import UTC, datetime

import brotli
import pytest
from backports import zstd

from archive.errors import ContentOversize, ContentUndecodable
from archive.store.decoding import (
    CHUNK_SIZE,
    SLICE_SIZE,
    decode_content,
    decoded_chunks,
    decoded_digest,
)
from archive.store.home import ArchiveHome
from archive.store.warcstore import HttpExchange, sha256_hex
from archive.store.writer import ArchiveWriter
from replica.faults.bombs import CODINGS, build

MiB = 1024 * 1024
PAGE = ("<p>中铝股份召开一届四次职工代表大会，总结2025年工作。</p>" * 3000).encode()
ENCODERS = {
    "gzip": gzip.compress,
    "x-gzip": gzip.compress,
    "deflate": zlib.compress,
    "br": brotli.compress,
    "zstd": zstd.compress,
}


@pytest.mark.parametrize(
    ("coding", "encode"),
    [
        *ENCODERS.items(),
        ("deflate", lambda d: zlib.compress(d)[2:-4]),  # raw deflate, as some servers send
        ("gzip", lambda d: gzip.compress(d[:1000]) + gzip.compress(d[1000:])),  # two members
        ("zstd", lambda d: zstd.compress(d[:1000]) + zstd.compress(d[1000:])),  # two frames
        ("gzip, br", lambda d: brotli.compress(gzip.compress(d))),
        ("deflate, zstd, gzip", lambda d: gzip.compress(zstd.compress(zlib.compress(d)))),
        ("identity", lambda d: d),
        (None, lambda d: d),
    ],
)
def test_every_coding_and_chain_is_undone_in_bounded_chunks(coding, encode):
    chunks = list(decoded_chunks(encode(PAGE), coding))
    assert b"".join(chunks) == PAGE
    assert max(len(chunk) for chunk in chunks) <= max(CHUNK_SIZE, len(encode(PAGE)))
    assert decoded_digest(encode(PAGE), coding) == (sha256_hex(PAGE), len(PAGE))


@pytest.mark.parametrize("coding", ["gzip", "br", "zstd", "deflate"])
def test_an_empty_body_is_empty_content_under_any_coding(coding):
    assert decode_content(b"", coding) == b""


@pytest.mark.parametrize("coding", CODINGS)
def test_a_bomb_stops_at_the_limit_with_a_reason(coding):
    bomb = build(coding, "page", 64 * MiB)
    with pytest.raises(ContentOversize, match=rf"decodes \({coding}\) to more than 8 MiB"):
        decoded_digest(bomb, coding, 8 * MiB)
    # Exactly at the limit is allowed; 0 means no limit, as Scrapy's DOWNLOAD_MAXSIZE.
    assert decoded_digest(build(coding, "page", 2 * MiB), coding, 2 * MiB)[1] == 2 * MiB
    assert decoded_digest(bomb, coding, 0)[1] == 64 * MiB


def test_a_chain_is_stopped_inside_its_first_stage():
    bomb = brotli.compress(gzip.compress(bytes(64 * MiB)))  # br outside, gzip inside
    with pytest.raises(ContentOversize):
        decoded_digest(bomb, "gzip, br", 8 * MiB)


@pytest.mark.parametrize(
    ("coding", "data"),
    [
        ("gzip", gzip.compress(PAGE)[:-20]),
        ("br", brotli.compress(PAGE)[:-5]),
        ("zstd", zstd.compress(PAGE)[:-5]),
        ("gzip", b"not gzip at all"),
        ("deflate", b"\x78\x9c not deflate"),
        ("compress", b"x"),
    ],
)
def test_damaged_or_unknown_codings_are_one_named_error(coding, data):
    with pytest.raises(ContentUndecodable):
        decode_content(data, coding)


def test_decoding_a_bomb_takes_no_more_memory_than_a_chunk():
    """In a process of its own: its peak memory is its own."""
    code = (
        "import resource\n"
        "from archive.store.decoding import decoded_digest\n"
        "from archive.errors import ContentOversize\n"
        "from replica.faults.bombs import build\n"
        "bombs = [(c, build(c, 'page', 256 << 20)) for c in ('gzip', 'deflate', 'br', 'zstd')]\n"
        "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "for coding, bomb in bombs:\n"
        "    try:\n"
        "        decoded_digest(bomb, coding, 64 << 20)\n"
        "    except ContentOversize:\n"
        "        pass\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert int(done.stdout) * 1024 < 32 * MiB  # 64 MiB of each, never held


def test_the_writer_flags_an_oversize_capture_and_digests_its_wire_bytes(tmp_path):
    writer = ArchiveWriter(ArchiveHome.at(tmp_path / "home"))
    writer.start_run("chalco", "http://h/", "full")
    bomb = build("br", "page", 64 * MiB)
    headers = [("Content-Type", "text/html"), ("Content-Encoding", "br")]
    exchange = HttpExchange(
        "http://h/a.html", "GET", [], 200, "HTTP/1.1", headers, bomb, datetime.now(UTC)
    )
    capture = writer.record_exchange(exchange, max_decoded=8 * MiB)
    assert capture.oversize == "decodes (br) to more than 8 MiB: not inflated"
    assert (capture.content_sha256, capture.content_size) == (sha256_hex(bomb), len(bomb))
    page = writer.record_exchange(
        HttpExchange(
            "http://h/b.html",
            "GET",
            [],
            200,
            "HTTP/1.1",
            [("Content-Encoding", "gzip")],
            gzip.compress(PAGE),
            datetime.now(UTC),
        ),
        max_decoded=8 * MiB,
    )
    assert page.oversize is None and page.content_sha256 == sha256_hex(PAGE)
    writer.commit()
    writer.close()


def test_a_gzip_member_that_ends_on_a_slice_boundary_is_followed_by_the_next():
    data = bytes(range(256)) * (3 * SLICE_SIZE // 256)
    cut = next(c for c in range(4096) if len(gzip.compress(data[c:], 0)) % SLICE_SIZE == 0)
    first = gzip.compress(data[cut:], 0)
    assert decode_content(first + gzip.compress(b"tail"), "gzip") == data[cut:] + b"tail"
    # Padding or garbage after the last member is left, as browsers leave it.
    assert decode_content(first + b"\0\0\0", "gzip") == data[cut:]
    assert decode_content(gzip.compress(b"x") + b"garbage", "gzip") == b"x"
