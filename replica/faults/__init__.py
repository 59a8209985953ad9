"""A hostile little TRS site for the hardening tests.

`FaultServer` serves a small site in the chalco.com.cn layout (docs/site.md) whose 公司要闻 list
links good articles side by side with every fault a crawler meets on the open web:
connection resets, truncated bodies, trickling responses, 429/503 with Retry-After,
decompression bombs (a page, an attachment and an image in each of gzip, deflate, br and
zstd; bombs.py), redirect loops and off-host redirects, an endless pager, broken
HTML, NUL bytes, lying charsets (both ways), an empty 200, a huge attachment, hostile
attachment names, a docid under two URLs, dead links (404, 410) and a page that always
fails. A crawl of it must finish, archive every good article exactly as `good_articles`
says, and record every fault (as a failure, a dead link or an oversize capture) rather than
crash.

    with FaultServer(bomb_size=4 << 20) as server:
        crawl(server.base_url)
        server.cases["reset"].path, server.good_articles, server.requests

`FaultServer`, here, is the server: the site's registry (site.py) with a part per fault
family: connection and retry faults (connection.py), redirects (redirects.py), content
faults (content.py), lying charsets (charsets.py), attachments (attachments.py), hostile
text (hostile.py), challenge pages (challenges.py), bombs (bombs.py), huge pages
(huge_pages.py), transfers (transfers.py), a fan-out page (fan_out.py), dead links
(dead_links.py), and the lists that link them all (lists.py); pages.py and stories.py are
its templates and text, handler.py its HTTP side. Standard library only, plus brotli and
zstd for the bombs and the replica's small PDF writer. Run it by hand with
`python -m replica.faults --port 8001`.
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlsplit

from replica.background import BackgroundServer
from replica.faults.attachments import AttachmentFaults
from replica.faults.bombs import BombCache, BombCases
from replica.faults.challenges import ChallengeCases
from replica.faults.charsets import CharsetLies
from replica.faults.connection import ConnectionFaults
from replica.faults.content import ContentFaults
from replica.faults.dead_links import DeadLinks
from replica.faults.fan_out import FanOut
from replica.faults.handler import FaultHandler, FaultHTTPServer, FaultRequest, Route, static
from replica.faults.hostile import HostileText
from replica.faults.huge_pages import HugePages
from replica.faults.lists import ListPages
from replica.faults.pages import error_page
from replica.faults.redirects import Redirects
from replica.faults.site import FaultSite
from replica.faults.transfers import TransferFaults


class FaultServer(
    ConnectionFaults,
    Redirects,
    ContentFaults,
    CharsetLies,
    AttachmentFaults,
    HostileText,
    ChallengeCases,
    BombCases,
    HugePages,
    TransferFaults,
    FanOut,
    DeadLinks,
    ListPages,
    BackgroundServer,
):
    """Serves the fault site from a ThreadingHTTPServer in a daemon thread (context manager).

    bomb_size: decoded size of each decompression bomb (a page, an attachment and an image in
    each of gzip, deflate, br and zstd; gzip's wire size is about a thousandth of it).
    huge_size: size of the huge attachment, streamed in chunks, never built in memory.
    slow_interval / slow_seconds: the trickling page sends one byte per interval, and gives
    up (closing the connection short) after slow_seconds.
    crawl_delay: the robots.txt Crawl-delay (None leaves the line out). A crawler honouring
    1 s needs a minute or more for the whole site; a crawl test may lower it.
    huge_page_size: bytes of the huge part of each 超大页面 page (huge_pages.py: an inline
    script, a data: URI image, a text node); None leaves that section out.
    text_node_size: bytes of the 超大页面 paragraph at most (huge_pages.TEXT_NODE_SIZE).
    transfer_faults: the cases of transfers.py (an endless attachment, a hang-up mid-headers
    and one without an answer), listed in 公司要闻; off by default.
    robots_size: robots.txt padded to this many bytes (transfers.py); None: a small one.
    fan_out / fan_out_delay: an article naming this many attachments, each answered after
    fan_out_delay seconds (fan_out.py); None leaves it out.
    """

    thread_name = "fault-http"

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        bomb_size: int = 50 * 1024 * 1024,
        huge_size: int = 30 * 1024 * 1024,
        slow_interval: float = 1.0,
        slow_seconds: float = 120.0,
        crawl_delay: float | None = 1,
        huge_page_size: int | None = None,
        text_node_size: int | None = None,
        transfer_faults: bool = False,
        robots_size: int | None = None,
        fan_out: int | None = None,
        fan_out_delay: float = 0.0,
    ) -> None:
        BackgroundServer.__init__(self, host, port)
        FaultSite.__init__(
            self,
            bomb_size=bomb_size,
            huge_size=huge_size,
            slow_interval=slow_interval,
            slow_seconds=slow_seconds,
            crawl_delay=crawl_delay,
        )
        self.huge_page_size = huge_page_size
        self.text_node_size = text_node_size
        self.transfer_faults = transfer_faults
        self.robots_size = robots_size
        self.fan_out = fan_out
        self.fan_out_delay = fan_out_delay
        self.requests: list[FaultRequest] = []
        self._bombs = BombCache(bomb_size)
        self._build()

    def _build(self) -> None:
        self._build_plain_articles()
        self._build_connection_faults()
        self._build_retry_cases()
        self._build_redirects()
        self._build_robots_disallowed()
        self._build_content_faults()
        self._build_charset_lies()
        self._build_endless_list()
        self._build_attachment_cases()
        self._build_hostile_text()
        self._build_challenge_cases()
        self._build_bombs()
        self._build_dead_links()
        self._build_huge_pages()
        self._build_transfer_faults()
        self._build_fan_out()
        self._build_lists()
        self._build_big_robots()

    # -- lifecycle

    def make_server(self) -> FaultHTTPServer:
        self._stopping.clear()
        httpd = FaultHTTPServer((self.host, self.port), FaultHandler)
        httpd.faults = self
        return httpd

    def before_stop(self) -> None:
        self._stopping.set()  # ends trickles and streams in their handler threads

    # -- the log

    def reset(self) -> None:
        """Forget the request log and the retry counters (429/503 fail again)."""
        with self._lock:
            self.requests.clear()
            self._hits.clear()

    def requests_for(self, path: str) -> list[FaultRequest]:
        """Requests whose target's path is `path` (origin-form or absolute-form)."""
        with self._lock:
            return [r for r in self.requests if _path_of(r.path) == path]

    def hosts_seen(self) -> set[str | None]:
        with self._lock:
            return {r.host_header for r in self.requests}

    # -- answering

    def answer(self, handler: FaultHandler, head: bool) -> None:
        target = handler.path
        path = _path_of(target)
        host = handler.headers.get("Host")
        name, route = self._lookup(path)
        entry = FaultRequest(
            handler.command,
            target,
            host,
            dict(handler.headers.items()),
            dt.datetime.now(dt.UTC),
            case=name,
        )
        with self._lock:
            self.requests.append(entry)
        # send() notes the status before the response goes out, so the log is complete by
        # the time a client has read the answer.
        handler.log_entry = entry
        route(handler, head)

    def _lookup(self, path: str) -> tuple[str | None, Route]:
        if path.endswith("/index.html"):
            path = path.removesuffix("index.html")
        found = (
            self._challenge_route(path)
            or self._routes.get(path)
            or self._endless_route(path)
            or self._fan_out_route(path)
        )
        if found is not None:
            return found
        return None, static(404, "text/html; charset=utf-8", error_page(404))


def _path_of(target: str) -> str:
    if "://" in target:
        return urlsplit(target).path or "/"
    return target.split("?", 1)[0].split("#", 1)[0]
