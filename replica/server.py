"""Serve a ReplicaSite over HTTP on loopback, logging every request for the tests."""

from __future__ import annotations

import datetime as dt
import email.utils
import gzip
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from replica.background import BackgroundServer
from replica.site import ReplicaSite
from replica.site.chrome import error_page
from replica.site.responses import Response


@dataclass(frozen=True)
class RequestLog:
    """One request as the server saw it."""

    method: str
    path: str
    """Request target as sent, query string included."""
    host_header: str | None
    status: int
    headers: dict[str, str] = field(repr=False)
    """Request headers (the last value wins when one repeats)."""
    at: dt.datetime
    """When the request was answered, UTC."""


class ReplicaServer(BackgroundServer):
    """Runs a ThreadingHTTPServer for a site in a daemon thread; use as a context manager."""

    def __init__(
        self, site: ReplicaSite, host: str = "127.0.0.1", port: int = 0, latency: float = 0.0
    ) -> None:
        self.site = site
        # Seconds each response waits before it is sent, as over a real network (benchmarks).
        self.latency = latency
        super().__init__(host, port)
        self.requests: list[RequestLog] = []
        self._lock = threading.Lock()
        self._failed_once: set[str] = set()

    def make_server(self) -> _HTTPServer:
        httpd = _HTTPServer((self.host, self.port), _Handler)
        httpd.replica = self
        return httpd

    def hosts_seen(self) -> set[str | None]:
        with self._lock:
            return {r.host_header for r in self.requests}

    def respond(self, method: str, target: str, headers: Mapping[str, str]) -> Response:
        """Answer one request: 500-once, conditional GET, gzip; then log it."""
        path = (
            urlsplit(target).path if "://" in target else target.split("?", 1)[0].split("#", 1)[0]
        )
        # Header names are case-insensitive; look them up in lower case.
        lookup = {name.lower(): value for name, value in headers.items()}
        host = lookup.get("host")
        status, out, body = self._answer(path, host or f"{self.host}:{self.port}", lookup)
        entry = RequestLog(method, target, host, status, dict(headers), dt.datetime.now(dt.UTC))
        with self._lock:
            self.requests.append(entry)
        return status, out, body

    def _answer(self, path: str, host: str, headers: Mapping[str, str]) -> Response:
        if path in self.site.flaky_paths:
            with self._lock:
                first = path not in self._failed_once
                self._failed_once.add(path)
            if first:
                return _error(500, "Internal Server Error")
        result = self.site.render(path, host)
        if result is None:
            return _error(404, "您访问的页面不存在")
        status, out, body = result
        out = dict(out)
        if status != 200:
            return status, out, body
        compress = out["Content-Type"].startswith("text/html") and _accepts_gzip(
            headers.get("accept-encoding", "")
        )
        if compress:
            # Like nginx: a compressed variant carries a weak ETag.
            out["ETag"] = "W/" + out["ETag"]
            out["Content-Encoding"] = "gzip"
        if out["Content-Type"].startswith("text/html"):
            out["Vary"] = "Accept-Encoding"
        if _not_modified(headers, out):
            kept: dict[str, str] = {
                k: out[k] for k in ("ETag", "Last-Modified", "Vary") if k in out
            }
            return 304, kept, b""
        if compress:
            body = gzip.compress(body, compresslevel=6, mtime=0)
        return 200, out, body


def _error(status: int, message: str) -> Response:
    body = error_page(status, message).encode("utf-8")
    return status, {"Content-Type": "text/html; charset=utf-8"}, body


def _accepts_gzip(accept_encoding: str) -> bool:
    for part in accept_encoding.split(","):
        token, _, params = part.strip().partition(";")
        if token.strip().lower() not in ("gzip", "x-gzip", "*"):
            continue
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if quality > 0:
            return True
    return False


def _not_modified(request: Mapping[str, str], response: Mapping[str, str]) -> bool:
    """Whether a conditional GET may be answered 304; request header names in lower case."""
    # RFC 9110 13.1.3: If-None-Match wins over If-Modified-Since; GET compares weakly.
    if_none_match = request.get("if-none-match")
    if if_none_match is not None:
        tag = response["ETag"].removeprefix("W/")
        candidates = [t.strip().removeprefix("W/") for t in if_none_match.split(",")]
        return "*" in candidates or tag in candidates
    since = request.get("if-modified-since")
    if since is None:
        return False
    try:
        since_at = email.utils.parsedate_to_datetime(since)
        modified_at = email.utils.parsedate_to_datetime(response["Last-Modified"])
    except (TypeError, ValueError):
        return False
    if since_at.tzinfo is None:
        since_at = since_at.replace(tzinfo=dt.UTC)
    return modified_at <= since_at


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128  # crawlers open many connections at once
    replica: ReplicaServer


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as a real server offers
    # Headers and body go out in separate writes; with Nagle on, keep-alive clients
    # wait for the delayed ACK (about 40 ms a request).
    disable_nagle_algorithm = True
    server: _HTTPServer

    def do_GET(self) -> None:
        self._reply(head=False)

    def do_HEAD(self) -> None:
        self._reply(head=True)

    def _reply(self, head: bool) -> None:
        request_headers = dict(self.headers.items())
        if self.server.replica.latency:
            time.sleep(self.server.replica.latency)
        status, headers, body = self.server.replica.respond(
            self.command, self.path, request_headers
        )
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        if status != 304:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head and status != 304:
            self.wfile.write(body)

    def version_string(self) -> str:
        return "TRS-Replica"

    def log_message(self, format: str, *args: object) -> None:
        pass  # ReplicaServer.requests is the log; stderr noise would drown test output
