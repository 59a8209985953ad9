"""Faults of the connection, at the HTTP level: a TCP reset, a short body, a trickle, a page
that always fails, 429/503 with Retry-After, a redirect loop and off-host redirects."""

from __future__ import annotations

import http.client
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from replica.faults import FaultServer
from replica.faults.redirects import LOOP_A, LOOP_B, MIRROR_URL
from tests.fault_replica_http import (
    BOMB_SIZE,
    SLOW_INTERVAL,
    assert_article,
    fetch,
    header,
    raw_request,
    read_head,
)


@pytest.fixture
def server() -> Iterator[FaultServer]:
    with FaultServer(bomb_size=BOMB_SIZE, slow_interval=SLOW_INTERVAL, slow_seconds=3) as s:
        yield s


def test_reset(server: FaultServer) -> None:
    sock = raw_request(server, server.cases["reset"].path)
    with sock, pytest.raises(ConnectionResetError):
        while sock.recv(4096):
            pass
    assert server.requests_for(server.cases["reset"].path)[0].status is None


def test_short_body(server: FaultServer) -> None:
    conn = http.client.HTTPConnection(server.host, server.port, timeout=5)
    conn.request("GET", server.cases["short_body"].path)
    response = conn.getresponse()
    assert response.status == 200 and response.headers["Content-Length"] == "5000"
    with pytest.raises(http.client.IncompleteRead) as caught:
        response.read()
    assert len(caught.value.partial) == 1000
    assert caught.value.partial.startswith(b"<!DOCTYPE html>")
    conn.close()


def test_slow_trickles(server: FaultServer) -> None:
    started = time.monotonic()
    sock = raw_request(server, server.cases["slow"].path)
    with sock:
        head, rest = read_head(sock)
        assert time.monotonic() - started < SLOW_INTERVAL
        assert head.startswith(b"HTTP/1.1 200") and rest == b""
        assert int(header(head, "Content-Length") or 0) > 1000
        received = b""
        while len(received) < 3:
            received += sock.recv(10)
        elapsed = time.monotonic() - started
        assert received.startswith(b"<!D") and len(received) <= 4
        assert elapsed >= 3 * SLOW_INTERVAL * 0.8


def test_slow_gives_up_after_slow_seconds() -> None:
    with FaultServer(slow_interval=0.05, slow_seconds=0.3) as s:
        sock = raw_request(s, s.cases["slow"].path)
        with sock:
            _, rest = read_head(sock)
            while chunk := sock.recv(100):
                rest += chunk
        assert 0 < len(rest) <= 6  # closed far short of Content-Length


def test_server_error_always(server: FaultServer) -> None:
    for _ in range(4):
        assert fetch(server, server.cases["server_error_always"].path)[0] == 500


@pytest.mark.parametrize(
    ("name", "status", "failures", "retry_after"),
    [("retry_after_429", 429, 2, "2"), ("retry_after_503", 503, 1, "1")],
)
def test_retry_after(
    server: FaultServer, name: str, status: int, failures: int, retry_after: str
) -> None:
    article = server.good(name)
    assert article.needs_retry and server.cases[name].good
    for _ in range(failures):
        got, headers, _ = fetch(server, article.url_path)
        assert got == status and headers["Retry-After"] == retry_after
    got, _, body = fetch(server, article.url_path)
    assert got == 200
    assert_article(article, body)
    server.reset()
    assert fetch(server, article.url_path)[0] == status


def test_redirect_loop(server: FaultServer) -> None:
    case = server.cases["redirect_loop"]
    assert case.related == (LOOP_A, LOOP_B)
    hops = [case.path]
    for _ in range(5):
        status, headers, _ = fetch(server, hops[-1])
        assert status == 302
        hops.append(headers["Location"])
    assert hops[1:] == [LOOP_A, LOOP_B, LOOP_A, LOOP_B, LOOP_A]


def test_redirect_offhost(server: FaultServer) -> None:
    case = server.cases["redirect_offhost"]
    status, headers, _ = fetch(server, case.path)
    assert status == 301
    target = urlsplit(headers["Location"])
    assert (target.hostname, target.port) == ("localhost", server.port)
    assert target.path == case.related[0]
    # The target answers, so a crawler that followed it would show in the log.
    assert fetch(server, target.path, headers={"Host": target.netloc})[0] == 200
    assert f"localhost:{server.port}" in server.hosts_seen()

    status, headers, _ = fetch(server, server.cases["redirect_offhost_mirror"].path)
    assert status == 301 and headers["Location"] == MIRROR_URL
