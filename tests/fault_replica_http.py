"""Talking to the fault replica in tests: requests over http.client and raw sockets, the
head of a response, a page's visible text checked against a good article."""

from __future__ import annotations

import http.client
import re
import socket
from urllib.parse import urljoin, urlsplit

from replica.faults import FaultServer
from replica.faults.truth import GoodArticle

BOMB_SIZE = 4 * 1024 * 1024
SLOW_INTERVAL = 0.2
ARTICLE_URL = re.compile(r"/t\d{8}_\d+\.html$")


def fetch(
    server: FaultServer,
    path: str,
    method: str = "GET",
    headers: dict[str, str] | None = None,
) -> tuple[int, http.client.HTTPMessage, bytes]:
    conn = http.client.HTTPConnection(server.host, server.port, timeout=5)
    try:
        conn.request(method, path, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.headers, response.read()
    finally:
        conn.close()


def raw_request(server: FaultServer, path: str, timeout: float = 5) -> socket.socket:
    sock = socket.create_connection((server.host, server.port), timeout=timeout)
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: {server.host}:{server.port}\r\n\r\n".encode())
    return sock


def read_head(sock: socket.socket) -> tuple[bytes, bytes]:
    """Status line and headers, and whatever body bytes came with them."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        assert chunk, "connection closed before the headers ended"
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    return head, rest


def header(head: bytes, name: str) -> str | None:
    for line in head.decode("latin-1").split("\r\n")[1:]:
        key, _, value = line.partition(":")
        if key.strip().lower() == name.lower():
            return value.strip()
    return None


def visible_text(body: bytes, charset: str = "utf-8") -> str:
    text = body.decode(charset).replace("\x00", "")
    return re.sub(r"<[^>]+>", "", text)


def linked_paths(server: FaultServer, path: str) -> set[str]:
    _, _, body = fetch(server, path)
    base = server.base_url.rstrip("/") + path
    return {
        urlsplit(urljoin(base, href)).path
        for href in re.findall(r'href="([^"]+)"', body.decode("utf-8"))
    }


def assert_article(article: GoodArticle, body: bytes, charset: str = "utf-8") -> None:
    text = visible_text(body, charset)
    assert article.title in text
    assert f"来源：{article.source}" in text
    assert f"时间：{article.published}" in text
    for paragraph in article.paragraphs:
        assert paragraph in text
