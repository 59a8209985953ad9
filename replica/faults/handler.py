"""The fault server's HTTP side: the handler and server classes, the request log's record,
and how a route sends its answer."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Protocol


@dataclass
class FaultRequest:
    """One request as the server saw it, logged when it arrived."""

    method: str
    path: str
    """Request target as sent, query string included."""
    host_header: str | None
    headers: dict[str, str] = field(repr=False)
    """Request headers (the last value wins when one repeats)."""
    at: dt.datetime
    """When the request arrived, UTC."""
    case: str | None = None
    """The fault case that answered it; None for ordinary pages."""
    status: int | None = None
    """Status sent; None while answering, and for a reset (no response at all)."""


Route = Callable[["FaultHandler", bool], int | None]
"""Answers one request (head: headers only); returns the status sent, None for no response."""


def send(
    handler: FaultHandler,
    status: int,
    headers: dict[str, str],
    body: bytes,
    head: bool,
    close: bool = False,
) -> int:
    if handler.log_entry is not None:
        handler.log_entry.status = status
    handler.send_response(status)
    for name, value in headers.items():
        handler.send_header(name, value)
    if "Content-Length" not in headers:
        handler.send_header("Content-Length", str(len(body)))
    if close:
        handler.send_header("Connection", "close")
        handler.close_connection = True
    handler.end_headers()
    if not head and body:
        handler.wfile.write(body)
    return status


def static(status: int, content_type: str, body: bytes) -> Route:
    """A route that always sends the same answer."""

    def route(handler: FaultHandler, head: bool) -> int:
        return send(handler, status, {"Content-Type": content_type}, body, head)

    return route


class Answerer(Protocol):
    """What the HTTP server hands each request to (the FaultServer)."""

    def answer(self, handler: FaultHandler, head: bool) -> None: ...


class FaultHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128
    faults: Answerer


class FaultHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    timeout = 30  # idle keep-alive connections and stuck writes end eventually
    server: FaultHTTPServer
    log_entry: FaultRequest | None = None

    def do_GET(self) -> None:
        self.server.faults.answer(self, head=False)

    def do_HEAD(self) -> None:
        self.server.faults.answer(self, head=True)

    def version_string(self) -> str:
        return "TRS-Fault-Replica"

    def log_message(self, format: str, *args: object) -> None:
        pass  # FaultServer.requests is the log
