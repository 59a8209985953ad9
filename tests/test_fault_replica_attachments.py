"""Faults of the attachments, at the HTTP level: a huge PDF streamed to exactly its size, and
hostile attachment names with plain hrefs."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator

import pytest

from replica.faults import FaultServer
from tests.fault_replica_http import BOMB_SIZE, SLOW_INTERVAL, fetch, header, raw_request, read_head


@pytest.fixture
def server() -> Iterator[FaultServer]:
    with FaultServer(bomb_size=BOMB_SIZE, slow_interval=SLOW_INTERVAL, slow_seconds=3) as s:
        yield s


def test_huge_attachment_headers_only(server: FaultServer) -> None:
    article = server.good("huge_attachment")
    (huge,) = article.attachments
    assert huge.oversized and huge.size == 30 * 1024 * 1024 and huge.sha256 is None
    page = fetch(server, article.url_path)[2].decode("utf-8")
    assert "./" + huge.url_path.rsplit("/", 1)[1] in page and huge.name in page
    sock = raw_request(server, huge.url_path)
    with sock:
        head, rest = read_head(sock)
    assert head.startswith(b"HTTP/1.1 200")
    assert header(head, "Content-Length") == str(huge.size)
    assert header(head, "Content-Type") == "application/pdf"
    assert not rest or rest.startswith(b"%PDF")


def test_huge_attachment_is_exactly_huge_size() -> None:
    with FaultServer(huge_size=200_003) as s:
        (huge,) = s.good("huge_attachment").attachments
        status, headers, body = fetch(s, huge.url_path)
    assert status == 200 and len(body) == 200_003 == huge.size
    assert body.startswith(b"%PDF-1.4") and body.endswith(b"%%EOF\n")


def test_hostile_names(server: FaultServer) -> None:
    article = server.good("hostile_names")
    body = fetch(server, article.url_path)[2]
    for needle in (b"../../etc/passwd", b"&#0;", b"\x00", b"\x1b[31m", "\u202e".encode()):
        assert needle in body
    names = [a.name for a in article.attachments]
    assert "../../etc/passwd" in names and "CON" in names
    assert any("\u202e" in n for n in names) and any("\x01" in n for n in names)
    assert max(len(n) for n in names) == 500
    hrefs = re.findall(rb'href="\./(P0[0-9]+\.pdf)"', body)
    assert len(hrefs) == len(article.attachments)
    for attachment in article.attachments:
        status, headers, data = fetch(server, attachment.url_path)
        assert status == 200 and headers["Content-Type"] == "application/pdf"
        assert hashlib.sha256(data).hexdigest() == attachment.sha256
