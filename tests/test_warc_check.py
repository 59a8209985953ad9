"""The fast pass over a WARC file: it vouches for the files the writer makes, with the same
records warcio reads, and for nothing warcio would find fault with."""

from __future__ import annotations

import gzip
import re
import threading
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from archive.evidence.warc_check import scan_warc
from archive.evidence.warc_files import FileCheck, check_warc_file, read_with_warcio
from archive.store.warcstore import (
    HttpExchange,
    RevisitTarget,
    WarcStore,
    sha256_hex,
    whole_record_ends,
)

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FETCHED_AT = datetime(2026, 2, 4, 8, 30, tzinfo=UTC)


def exchange(number: int, payload: bytes, headers: list[tuple[str, str]]) -> HttpExchange:
    return HttpExchange(
        f"http://www.chalco.com.cn/xwdt/gsyw/t{number}.html",
        "GET",
        [("User-Agent", "chalco-archive/0.1")],
        200,
        "HTTP/1.1",
        headers,
        payload,
        FETCHED_AT,
    )


@pytest.fixture(scope="module")
def written(tmp_path_factory) -> Path:
    """A file as the writer makes it: a page, an attachment with a Chinese name in its
    headers, a gzip-encoded page, an empty body and a revisit."""
    folder = tmp_path_factory.mktemp("warc")
    store = WarcStore(folder, "chalco-test")
    page = "<html><body><p>中铝股份召开一届四次职工代表大会。</p></body></html>".encode()
    disposition = "attachment; filename=附件一.pdf".encode().decode("latin-1")
    exchanges = [
        exchange(1, page, [("Content-Type", "text/html; charset=utf-8")]),
        exchange(2, b"%PDF-1.4 " + bytes(range(256)) * 40, [("Content-Disposition", disposition)]),
        exchange(3, gzip.compress(page), [("Content-Encoding", "gzip")]),
        exchange(4, b"", [("Content-Length", "0")]),
    ]
    first = None
    for item in exchanges:
        written = store.write_exchange(item, sha256_hex(item.payload), None)
        first = first or written
    assert first is not None
    target = RevisitTarget(exchanges[0].url, FETCHED_AT, first.record_id, not_modified=True)
    store.write_exchange(exchanges[0], sha256_hex(page), target)
    store.close()
    (path,) = folder.glob("*.warc.gz")
    return path


def read_by_warcio(path: Path, being_written: bool = False) -> FileCheck:
    check = FileCheck(path.name, {})
    read_with_warcio(path, check, being_written)
    return check


def test_a_file_the_writer_made_is_vouched_for_with_warcio_s_records(written):
    scan = scan_warc(written, being_written=False)
    careful = read_by_warcio(written)
    assert scan is not None and careful.problems == []
    assert scan.records == careful.records
    assert len(scan.records) == 11  # warcinfo, 5 × (request, response or revisit)
    assert (scan.valid, scan.size) == (written.stat().st_size, written.stat().st_size)
    assert scan.sha256 == sha256_hex(written.read_bytes())
    check = check_warc_file(written, (scan.size, scan.sha256), being_written=False)
    assert not check.read_by_warcio and check.problems == []


def members(path: Path) -> list[bytes]:
    """The decompressed record of each gzip member."""
    data = path.read_bytes()
    starts = [0, *whole_record_ends(path)]
    return [gzip.decompress(data[a:b]) for a, b in zip(starts, starts[1:], strict=False)]


def rewritten(path: Path, records: list[bytes], target: Path) -> Path:
    target.write_bytes(b"".join(gzip.compress(record) for record in records))
    return target


# Edits near the edges of the writer's shape: a name's case, blanks, line ends, an
# encoding of a digest, another record type.
EDITS = [
    (b"WARC-Payload-Digest:", b"warc-payload-digest:"),
    (b"WARC-Block-Digest: sha256:", b"WARC-Block-Digest:  sha256:"),
    (b"WARC-Type: response", b"WARC-Type: resource"),
    (b"\r\nContent-Length: ", b"\r\n Content-Length: "),
    (b"\r\nContent-Type: text/html", b"\r\n\r\nContent-Type: text/html"),
    (b"\r\nContent-Type: text/html", b"\n\nContent-Type: text/html"),
    (b"\r\nContent-Type: text/html", b"\r\n \r\nContent-Type: text/html"),
    (b"\r\nContent-Type: text/html", b"\r\n\x1c\r\nContent-Type: text/html"),
    (b"HTTP/1.1 200 OK\r\n", b"HTTP/1.1 200 OK\r\n\x85\r\n"),
    (b"HTTP/1.1 200 OK", b"HTTP/1.1 200 OK\r"),
    (b"====\r\n", b"\r\n"),
    (b"WARC/1.1", b"WARC/1.1 "),
    # Found by the tests below: warcio's str.strip() and the framing check's bytes.strip()
    # read this length differently; warcio writes a target URI's spaces as %20.
    (b"\r\nContent-Length: ", b"\r\nContent-Length:\x1c"),
    (b"http://www.chalco.com.cn/", b"http: //www.chalco.com.cn/"),
]


@pytest.mark.parametrize(("old", "new"), EDITS)
def test_an_edit_is_vouched_for_only_as_warcio_reads_it(written, tmp_path, old, new):
    records = members(written)
    index = next(i for i, record in enumerate(records) if old in record)
    records[index] = records[index].replace(old, new, 1)
    path = rewritten(written, records, tmp_path / written.name)
    assert_never_vouches_for_less_than_warcio(path)


def assert_never_vouches_for_less_than_warcio(path: Path, being_written: bool = False) -> None:
    scan = scan_warc(path, being_written)
    if scan is None:
        return
    careful = read_by_warcio(path, being_written)
    assert careful.problems == [], "the fast pass vouched for a file warcio finds fault with"
    assert scan.records == careful.records
    assert len(careful.notes) == (scan.valid < scan.size)


@SETTINGS
@given(data=st.data())
def test_no_edit_of_a_record_passes_where_warcio_finds_fault(written, tmp_path_factory, data):
    records = members(written)
    index = data.draw(st.integers(0, len(records) - 1))
    record = bytearray(records[index])
    # Mostly within the headers (WARC, then HTTP), where the shapes differ; anywhere too.
    last = len(record) - 1
    position = data.draw(st.integers(0, min(last, 700)) | st.integers(0, last))
    edit = data.draw(st.sampled_from(["replace", "insert", "delete"]))
    byte = data.draw(st.sampled_from(b" \t\r\n:\x0b\x1c\x85\xa0<A0az=-") | st.integers(0, 255))
    if edit == "replace":
        record[position] = byte
    elif edit == "insert":
        record.insert(position, byte)
    else:
        del record[position]
    records[index] = bytes(record)
    path = rewritten(written, records, tmp_path_factory.mktemp("edited") / written.name)
    assert_never_vouches_for_less_than_warcio(path)


@SETTINGS
@given(data=st.data())
def test_no_damage_to_the_gzip_bytes_passes_where_warcio_finds_fault(
    written, tmp_path_factory, data
):
    damaged = bytearray(written.read_bytes())
    position = data.draw(st.integers(0, len(damaged) - 1))
    if data.draw(st.booleans()):
        damaged[position] ^= 1 << data.draw(st.integers(0, 7))
    else:
        del damaged[position:]  # cut off, as by a killed crawl
    path = tmp_path_factory.mktemp("damaged") / written.name
    path.write_bytes(bytes(damaged))
    being_written = data.draw(st.booleans())
    assert_never_vouches_for_less_than_warcio(path, being_written)


def test_a_file_being_written_is_vouched_for_up_to_its_last_whole_record(written, tmp_path):
    whole = written.read_bytes()
    *_, start, end = whole_record_ends(written)
    path = tmp_path / written.name
    path.write_bytes(whole + whole[start : (start + end) // 2])  # half of a record
    scan = scan_warc(path, being_written=True)
    assert scan is not None and scan.valid == len(whole)
    assert scan.records == read_by_warcio(path, being_written=True).records
    assert scan_warc(path, being_written=False) is None  # closed: a cut-off record
    check = check_warc_file(path, None, being_written=True)
    assert not check.read_by_warcio and check.problems == []
    assert check.notes == read_by_warcio(path, being_written=True).notes


def test_a_record_that_decompresses_to_much_is_read_in_pieces(tmp_path):
    """A highly compressible payload (a gzip bomb's bytes as received, a page of spaces)
    comes out of zlib a few MiB at a time, not whole."""
    store = WarcStore(tmp_path, "chalco-test")
    payload = b" " * (96 << 20)
    store.write_exchange(exchange(1, payload, []), sha256_hex(payload), None)
    store.close()
    del payload
    (path,) = tmp_path.glob("*.warc.gz")
    assert path.stat().st_size < (1 << 20)
    tracemalloc.start()
    try:
        scan = scan_warc(path, being_written=False)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert scan is not None
    assert [r.payload_sha256 for r in scan.records.values() if r.payload_sha256] == [
        sha256_hex(b" " * (96 << 20))
    ]
    assert peak < 32 << 20


def test_a_member_ending_where_zlib_held_input_back_ends_the_pass(tmp_path):
    """A record of 8 MiB of spaces comes out of zlib in pieces, and its member ends inside
    the input zlib held back: the pass goes on to the next record (it once looped there
    forever, on the page with a 50 MB paragraph)."""
    store = WarcStore(tmp_path, "chalco-test")
    payloads = [b" " * (8 << 20), b"<p>next</p>", b" " * (8 << 20), b"<p>last</p>"]
    for number, payload in enumerate(payloads, 1):
        store.write_exchange(exchange(number, payload, []), sha256_hex(payload), None)
    store.close()
    (path,) = tmp_path.glob("*.warc.gz")
    scans: list = []
    thread = threading.Thread(target=lambda: scans.append(scan_warc(path, False)), daemon=True)
    thread.start()
    thread.join(timeout=60)
    assert scans, "the pass did not end"
    assert scans[0] is not None
    assert [r.payload_sha256 for r in scans[0].records.values() if r.payload_sha256] == [
        sha256_hex(payload) for payload in payloads
    ]


def test_a_record_without_its_target_uri_is_named_not_a_traceback(written, tmp_path):
    records = members(written)
    index = next(i for i, record in enumerate(records) if b"WARC-Type: response" in record)
    start = records[index].index(b"WARC-Target-URI:")
    end = records[index].index(b"\r\n", start) + 2
    records[index] = records[index][:start] + records[index][end:]
    path = rewritten(written, records, tmp_path / written.name)
    check = check_warc_file(path, None, being_written=False)
    assert check.read_by_warcio
    assert [problem.what.split(":")[0] for problem in check.problems] == ["unreadable from here on"]


def test_a_problem_quoting_raw_bytes_shows_a_short_hex_excerpt(written, tmp_path):
    """A record gzipped twice: warcio quotes the inner gzip's bytes as the record's first
    line. The problem line shows them as hex (1f 8b 08 …), never as raw bytes."""
    records = members(written)
    records[1] = gzip.compress(records[1])
    path = rewritten(written, records, tmp_path / written.name)
    check = check_warc_file(path, None, being_written=False)
    (problem,) = [p.what for p in check.problems if p.what.startswith("unreadable")]
    assert "1f 8b 08" in problem and "(hex" in problem, problem
    assert not re.search("[\x00-\x1f\x7f-\xff]", problem), problem
