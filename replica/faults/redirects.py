"""Redirect faults: a redirect loop, a 301 to the same server under another host name, and
a 301 to a spam mirror on a host that does not resolve."""

from __future__ import annotations

from collections.abc import Callable

from replica.faults.handler import FaultHandler, Route, send
from replica.faults.pages import GSYW, attr
from replica.faults.site import FaultSite
from replica.faults.stories import docid, story
from replica.faults.truth import FaultCase

OFFHOST_NAME = "localhost"
"""Another name of this same server; a crawler confined to 127.0.0.1 never sends it."""
MIRROR_URL = "http://mirror.example.invalid/x.html"
LOOP_A = "/loop/a"
LOOP_B = "/loop/b"


class Redirects(FaultSite):
    """Cases where following a redirect is the fault."""

    @property
    def offhost_base_url(self) -> str:
        """The same server under another host name (`localhost`)."""
        return f"http://{OFFHOST_NAME}:{self.port}/"

    def _build_redirects(self) -> None:
        n = docid(4, 17)
        path = f"/{GSYW}/202602/t20260204_{n}.html"
        self._case(
            FaultCase(
                "redirect_loop",
                path,
                f"302 to {LOOP_A}; {LOOP_A} 302 to {LOOP_B}; {LOOP_B} 302 back to {LOOP_A}",
                "loop or redirect limit detected; failure recorded",
                related=(LOOP_A, LOOP_B),
            ),
            self._redirect(302, lambda: LOOP_A),
            ("中铝股份召开2026年人才工作会议", "2026-02-04", n),
        )
        self._routes[LOOP_A] = ("redirect_loop", self._redirect(302, lambda: LOOP_B))
        self._routes[LOOP_B] = ("redirect_loop", self._redirect(302, lambda: LOOP_A))

        trap = story("trap", GSYW, 4, docid(4, 38))
        self._add_article(trap, listed=False)
        n = docid(4, 18)
        path = f"/{GSYW}/202602/t20260204_{n}.html"
        self._case(
            FaultCase(
                "redirect_offhost",
                path,
                f"301 to http://{OFFHOST_NAME}:<port>{trap.path}: the same server under "
                "another host name (the Host header tells whether a crawler followed it)",
                f"redirect not followed; no request with Host {OFFHOST_NAME}",
                related=(trap.path,),
            ),
            self._redirect(301, lambda: self.offhost_base_url.rstrip("/") + trap.path),
            ("中铝股份召开2026年科技工作会议", "2026-02-04", n),
        )
        n = docid(3, 19)
        path = f"/{GSYW}/202602/t20260203_{n}.html"
        self._case(
            FaultCase(
                "redirect_offhost_mirror",
                path,
                f"301 to {MIRROR_URL} (a spam mirror on an unresolvable host)",
                "redirect not followed; mirror never contacted",
                related=(MIRROR_URL,),
            ),
            self._redirect(301, lambda: MIRROR_URL),
            ("中铝股份召开2026年法治工作会议", "2026-02-03", n),
        )

    def _redirect(self, status: int, location: Callable[[], str]) -> Route:
        def route(handler: FaultHandler, head: bool) -> int:
            target = location()
            body = f'<html><body><a href="{attr(target)}">moved</a></body></html>'.encode()
            headers = {"Content-Type": "text/html; charset=utf-8", "Location": target}
            return send(handler, status, headers, body, head)

        return route
