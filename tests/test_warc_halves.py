"""A large WARC file's fast pass in two halves at once (archive.evidence.warc_halves): the
same scan as the one pass, and where anything about a half is wrong (damage, a false middle,
a child that dies) the one pass's verdict, never another."""

from __future__ import annotations

import os
import random
import signal
from datetime import UTC, datetime
from pathlib import Path

import pytest

from archive.evidence import warc_halves
from archive.evidence.warc_check import scan_warc
from archive.evidence.warc_files import check_warc_file
from archive.evidence.warc_halves import HALVES_FROM, middle_member, scan_in_halves
from archive.store.warcstore import HttpExchange, WarcStore, sha256_hex

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="the platform cannot fork")


@pytest.fixture(scope="module")
def large(tmp_path_factory) -> Path:
    """A closed file past HALVES_FROM as the writer makes it: pages of random bytes (which
    gzip cannot shrink), so that it holds a few dozen members."""
    folder = tmp_path_factory.mktemp("warc")
    store = WarcStore(folder, "chalco-test")
    rng = random.Random(23)
    for number in range(48):
        payload = rng.randbytes(HALVES_FROM // 40)
        url = f"http://www.chalco.com.cn/xwdt/gsyw/t{number}.html"
        fetched = datetime(2026, 2, 4, 8, 30, tzinfo=UTC)
        exchange = HttpExchange(url, "GET", [], 200, "HTTP/1.1", [], payload, fetched)
        store.write_exchange(exchange, sha256_hex(payload), None)
    store.close()
    (path,) = folder.glob("*.warc.gz")
    assert path.stat().st_size > HALVES_FROM
    return path


def copy_of(path: Path, tmp_path: Path) -> Path:
    copy = tmp_path / path.name
    copy.write_bytes(path.read_bytes())
    return copy


def test_the_halves_give_the_one_pass_s_scan(large):
    split = middle_member(large, large.stat().st_size)
    assert split is not None and split > large.stat().st_size // 2
    halves, one = scan_in_halves(large), scan_warc(large, False)
    assert one is not None and len(one.records) == 97  # warcinfo, 48 requests and responses
    assert halves == one
    assert min(one.records) < split <= max(one.records)  # each half held records


@pytest.mark.parametrize("where", [0.25, 0.75])
def test_damage_in_either_half_is_not_vouched_for(large, tmp_path, where):
    path = copy_of(large, tmp_path)
    data = bytearray(path.read_bytes())
    data[int(len(data) * where)] ^= 0x10
    path.write_bytes(bytes(data))
    assert scan_warc(path, False) is None
    assert scan_in_halves(path) is None


def test_a_false_middle_gives_way_to_the_one_pass(large, monkeypatch):
    """Bytes that look like a gzip header inside compressed data: the second half cannot be
    read from there, and the one pass reads the file as always."""
    true_middle = middle_member(large, large.stat().st_size)
    assert true_middle is not None
    monkeypatch.setattr(warc_halves, "middle_member", lambda path, size: true_middle + 7)
    assert scan_in_halves(large) == scan_warc(large, False)


def test_a_child_killed_gives_way_to_the_one_pass(large, monkeypatch):
    parent = os.getpid()
    real = warc_halves._second_half

    def killed_in_the_child(path, start):
        if os.getpid() != parent:
            os.kill(os.getpid(), signal.SIGKILL)
        return real(path, start)

    monkeypatch.setattr(warc_halves, "_second_half", killed_in_the_child)
    assert scan_in_halves(large) == scan_warc(large, False)


def test_a_small_file_is_read_in_one_pass(large, tmp_path, monkeypatch):
    monkeypatch.setattr(warc_halves, "HALVES_FROM", large.stat().st_size + 1)
    monkeypatch.setattr(warc_halves, "Forked", None)  # a fork would fail loudly
    assert scan_in_halves(large) == scan_warc(large, False)


def test_verify_s_check_of_a_damaged_file_is_the_same_in_halves(large, tmp_path):
    """check_warc_file, as verify calls it: the careful reading names the same damage."""
    path = copy_of(large, tmp_path)
    data = bytearray(path.read_bytes())
    data[int(len(data) * 0.8)] ^= 0x10
    path.write_bytes(bytes(data))
    one = check_warc_file(path, None, False)
    halves = check_warc_file(path, None, False, halves=True)
    assert one.read_by_warcio and one.problems
    assert halves == one
