"""Connection and retry faults: a TCP reset, a body shorter than its Content-Length, a page
trickled a byte a second, a page that always answers 500, and 429/503 with Retry-After
before a good page."""

from __future__ import annotations

import socket
import struct

from replica.faults.handler import FaultHandler, Route, send, static
from replica.faults.pages import GSYW, article_html, error_page
from replica.faults.site import FaultSite, good_article
from replica.faults.stories import docid, story
from replica.faults.truth import FaultCase


class ConnectionFaults(FaultSite):
    """Cases where the connection, not the page, is at fault."""

    def _build_connection_faults(self) -> None:
        n = docid(7, 11)
        path = f"/{GSYW}/202602/t20260207_{n}.html"
        self._case(
            FaultCase(
                "reset",
                path,
                "reads the request, then closes the socket with SO_LINGER 0: a TCP reset, "
                "no response",
                "download error recorded (connection reset); crawl goes on",
            ),
            self._reset,
            ("中铝股份召开2026年审计工作会议", "2026-02-07", n),
        )

        short = story("finance", GSYW, 7, docid(7, 12))
        page = article_html(short).encode("utf-8")
        self._case(
            FaultCase(
                "short_body",
                short.path,
                "200 with Content-Length 5000, sends the first 1000 bytes of a valid page, "
                "then closes",
                "data loss detected; not archived as a good page; failure recorded",
            ),
            self._short_body(page),
            (short.title, short.published, short.docid),
        )

        slow = story("priorities", GSYW, 6, docid(6, 13))
        self._case(
            FaultCase(
                "slow",
                slow.path,
                "headers at once, then one byte of the page per slow_interval (1 s) for "
                "slow_seconds (120 s), then closes short",
                "cut by DOWNLOAD_TIMEOUT; failure recorded",
            ),
            self._slow(article_html(slow).encode("utf-8")),
            (slow.title, slow.published, slow.docid),
        )

        n = docid(3, 27)
        path = f"/{GSYW}/202602/t20260203_{n}.html"
        self._case(
            FaultCase(
                "server_error_always",
                path,
                "answers 500 to every request",
                "retried RETRY_TIMES, then given up and recorded as a failure; no crash",
            ),
            static(500, "text/html; charset=utf-8", error_page(500)),
            ("中铝股份召开2026年党建工作会议", "2026-02-03", n),
        )

    def _build_retry_cases(self) -> None:
        for name, slug, day, k, status, times, wait in (
            ("retry_after_429", "marketing", 6, 14, 429, 2, 2),
            ("retry_after_503", "quiz", 5, 15, 503, 1, 1),
        ):
            d = story(slug, GSYW, day, docid(day, k))
            page = article_html(d).encode("utf-8")
            self._case(
                FaultCase(
                    name,
                    d.path,
                    f"the first {times} request(s) answer {status} with Retry-After: {wait}, "
                    "then 200 with a good page",
                    "retried after Retry-After, archived",
                    good=True,
                ),
                self._retry_after(d.path, status, times, wait, page),
                (d.title, d.published, d.docid),
            )
            self.good_articles.append(good_article(d, [], needs_retry=True, case=name))

    def _reset(self, handler: FaultHandler, head: bool) -> None:
        # The request is read; now abort: SO_LINGER on with a zero timeout makes close()
        # send RST instead of FIN. The socket really closes when the handler lets go of
        # its file objects, just after this returns.
        sock = handler.connection
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        handler.close_connection = True
        sock.close()
        return None

    def _short_body(self, page: bytes) -> Route:
        def route(handler: FaultHandler, head: bool) -> int:
            headers = {"Content-Type": "text/html; charset=utf-8", "Content-Length": "5000"}
            return send(handler, 200, headers, page[:1000], head, close=True)

        return route

    def _slow(self, page: bytes) -> Route:
        def route(handler: FaultHandler, head: bool) -> int:
            # Content-Length is the whole page: a client cannot mistake the cut for the end.
            headers = {"Content-Type": "text/html; charset=utf-8", "Content-Length": str(len(page))}
            send(handler, 200, headers, b"", head=True, close=True)
            if head:
                return 200
            sent, limit = 0, min(len(page), int(self.slow_seconds / self.slow_interval))
            try:
                while sent < limit and not self._stopping.wait(self.slow_interval):
                    handler.wfile.write(page[sent : sent + 1])
                    sent += 1
            except OSError:
                pass  # the client gave up, as it should
            return 200

        return route

    def _retry_after(self, path: str, status: int, times: int, wait: int, page: bytes) -> Route:
        def route(handler: FaultHandler, head: bool) -> int:
            if self._hit(path) <= times:
                headers = {"Content-Type": "text/html; charset=utf-8", "Retry-After": str(wait)}
                return send(handler, status, headers, error_page(status), head)
            return send(handler, 200, {"Content-Type": "text/html; charset=utf-8"}, page, head)

        return route
