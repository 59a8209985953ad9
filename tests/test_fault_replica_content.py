"""Faults of the content, at the HTTP level: decompression bombs, dead links, broken HTML,
NUL bytes, lying charsets, an empty 200, and one docid under two URLs."""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Iterator

import pytest
from backports import zstd
from brotli import decompress as unbrotli

from replica.faults import FaultServer
from replica.faults.content import DUPLICATE_DOCID
from tests.fault_replica_http import BOMB_SIZE, SLOW_INTERVAL, assert_article, fetch, linked_paths


@pytest.fixture
def server() -> Iterator[FaultServer]:
    with FaultServer(bomb_size=BOMB_SIZE, slow_interval=SLOW_INTERVAL, slow_seconds=3) as s:
        yield s


UNDO = {
    "gzip": gzip.decompress,
    "deflate": zlib.decompress,
    "br": unbrotli,
    "zstd": zstd.decompress,
}
MAGIC = {"page": b"<!DOCTYPE html>", "attachment": b"%PDF-", "image": b"\x89PNG"}


@pytest.mark.parametrize("coding", sorted(UNDO))
def test_bombs(server: FaultServer, coding: str) -> None:
    page = server.cases[f"page_bomb_{coding}"].path
    attachment, image = server.cases[f"file_bombs_{coding}"].related
    for kind, path in (("page", page), ("attachment", attachment), ("image", image)):
        status, headers, body = fetch(server, path)
        assert status == 200
        assert headers["Content-Encoding"] == coding
        assert int(headers["Content-Length"]) == len(body) < BOMB_SIZE // 100
        decoded = UNDO[coding](body)
        assert len(decoded) == BOMB_SIZE and decoded.startswith(MAGIC[kind])
        assert not decoded[len(MAGIC[kind]) + 64 :].strip(b"\x00")
    assert server.bomb_bytes() == fetch(server, server.cases["page_bomb_gzip"].path)[2]
    article = server.good(f"file_bombs_{coding}")
    assert_article(article, fetch(server, article.url_path)[2])
    assert linked_paths(server, article.url_path) >= {attachment}


@pytest.mark.parametrize(("case", "status"), [("dead_link_404", 404), ("dead_link_410", 410)])
def test_dead_links(server: FaultServer, case: str, status: int) -> None:
    assert fetch(server, server.cases[case].path)[0] == status


def test_malformed_unclosed(server: FaultServer) -> None:
    article = server.good("malformed_unclosed")
    body = fetch(server, article.url_path)[2]
    text = body.decode("utf-8")
    assert "</head>" not in text and "</body>" not in text and "</html>" not in text
    assert text.count("<p") > text.count("</p>") - 3  # <p>s left open, stray </p>s after
    assert "</b></i>" in text
    assert_article(article, body)


def test_malformed_nul(server: FaultServer) -> None:
    article = server.good("malformed_nul")
    body = fetch(server, article.url_path)[2]
    assert body.count(b"\x00") > 10
    head, _, rest = body.partition(b"<body>")
    assert b"\x00" not in head
    assert article.title.encode("utf-8") not in rest  # split by a NUL
    assert_article(article, body)


def test_wrong_charset(server: FaultServer) -> None:
    status, headers, body = fetch(server, server.cases["wrong_charset"].path)
    assert status == 200 and headers["Content-Type"] == "text/html; charset=utf-8"
    assert b'<meta charset="utf-8">' in body
    with pytest.raises(UnicodeDecodeError):
        body.decode("utf-8")
    assert "青海分公司开展冬季设备检修" in body.decode("gb18030")


def test_gbk_declared_utf8(server: FaultServer) -> None:
    article = server.good("gbk_declared_utf8")
    status, headers, body = fetch(server, article.url_path)
    assert status == 200 and headers["Content-Type"] == "text/html; charset=GBK"
    assert b"charset=gbk" in body
    assert article.title not in body.decode("gbk", "replace")
    assert_article(article, body, "utf-8")


def test_mixed_charset(server: FaultServer) -> None:
    article = server.good("mixed_charset")
    status, headers, body = fetch(server, article.url_path)
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    assert b"charset=gb2312" in body and b"<meta charset=" not in body
    assert_article(article, body)
    assert article.title not in body.decode("gb18030", "replace")


def test_empty_200(server: FaultServer) -> None:
    status, headers, body = fetch(server, server.cases["empty_200"].path)
    assert status == 200 and headers["Content-Length"] == "0" and body == b""


def test_duplicate_docid(server: FaultServer) -> None:
    article = server.good("duplicate_docid")
    (other,) = article.aliases
    assert article.docid == DUPLICATE_DOCID
    assert article.url_path.startswith("/xwdt/gsyw/") and other.startswith("/xwdt/ggdt/")
    assert article.url_path.rsplit("/", 1)[1] == other.rsplit("/", 1)[1]
    assert other in linked_paths(server, "/xwdt/ggdt/")
    for path in (article.url_path, other):
        status, _, body = fetch(server, path)
        assert status == 200
        assert_article(article, body)
