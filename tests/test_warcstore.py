"""The snapshot store: records read back byte for byte, digests checked, codings undone."""

from __future__ import annotations

import gzip
import zlib
from datetime import UTC, datetime

import brotli
import pytest
from backports import zstd

from archive.errors import SnapshotCorrupt
from archive.store.decoding import decode_content
from archive.store.warcstore import (
    HttpExchange,
    RevisitTarget,
    WarcStore,
    read_record,
    sha256_hex,
)

PAGE = "<html><body><p>中铝股份召开一届四次职工代表大会</p></body></html>".encode()


@pytest.mark.parametrize(
    ("coding", "encode"),
    [
        ("gzip", gzip.compress),
        ("deflate", zlib.compress),
        ("deflate", lambda d: zlib.compress(d)[2:-4]),  # raw deflate, as some servers send
        ("br", brotli.compress),
        ("zstd", zstd.compress),
        ("gzip, gzip", lambda d: gzip.compress(gzip.compress(d))),
        ("identity", lambda d: d),
        (None, lambda d: d),
    ],
)
def test_decode_content_undoes_every_coding_scrapy_asks_for(coding, encode):
    assert decode_content(encode(PAGE), coding) == PAGE


def exchange(payload: bytes, **headers: str) -> HttpExchange:
    return HttpExchange(
        url="http://127.0.0.1:8000/xwdt/gsyw/202602/t20260204_163644.html",
        method="GET",
        request_headers=[("User-Agent", "test")],
        status=200,
        protocol="HTTP/1.1",
        response_headers=[("Content-Type", "text/html")] + list(headers.items()),
        payload=payload,
        fetched_at=datetime(2026, 2, 4, 1, 2, 3, tzinfo=UTC),
    )


def test_response_and_revisit_records_read_back(tmp_path):
    store = WarcStore(tmp_path, "test")
    wire = gzip.compress(PAGE)
    digest = sha256_hex(wire)
    first = store.write_exchange(exchange(wire, **{"Content-Encoding": "gzip"}), digest, None)
    target = RevisitTarget(exchange(wire).url, exchange(wire).fetched_at, first.record_id)
    second = store.write_exchange(exchange(wire, **{"Content-Encoding": "gzip"}), digest, target)
    store.close()
    path = tmp_path / first.warc_name
    stored = read_record(path, first.offset, first.length)
    assert stored.status == 200 and stored.payload == wire
    assert decode_content(stored.payload, "gzip") == PAGE
    revisit = read_record(path, second.offset, second.length)
    assert second.record_type == "revisit" and revisit.payload == b""


def test_chunked_framing_is_not_claimed_for_a_dechunked_payload(tmp_path):
    store = WarcStore(tmp_path, "test")
    written = store.write_exchange(
        exchange(PAGE, **{"Transfer-Encoding": "chunked"}), sha256_hex(PAGE), None
    )
    store.close()
    stored = read_record(tmp_path / written.warc_name, written.offset, written.length)
    assert stored.payload == PAGE
    assert ("X-Archive-Orig-Transfer-Encoding", "chunked") in stored.headers


def test_a_flipped_bit_never_comes_back_as_altered_content(tmp_path):
    """Every bit flip in a record either raises or leaves the HTTP block intact (a flip in the
    gzip header or the WARC header lines changes no content; `verify` catches those through
    the file's SHA-256)."""
    store = WarcStore(tmp_path, "test")
    written = store.write_exchange(exchange(PAGE), sha256_hex(PAGE), None)
    store.close()
    path = tmp_path / written.warc_name
    pristine = path.read_bytes()
    original = read_record(path, written.offset, written.length)
    detected = 0
    for position in range(written.offset, written.offset + written.length):
        damaged = bytearray(pristine)
        damaged[position] ^= 0x01
        path.write_bytes(bytes(damaged))
        try:
            stored = read_record(path, written.offset, written.length)
        except SnapshotCorrupt:
            detected += 1
            continue
        assert (stored.payload, stored.headers) == (original.payload, original.headers), position
    assert detected > written.length // 2


def test_a_truncated_file_is_detected(tmp_path):
    store = WarcStore(tmp_path, "test")
    written = store.write_exchange(exchange(PAGE), sha256_hex(PAGE), None)
    store.close()
    path = tmp_path / written.warc_name
    path.write_bytes(path.read_bytes()[: written.offset + 10])
    with pytest.raises(SnapshotCorrupt):
        read_record(path, written.offset, written.length)
