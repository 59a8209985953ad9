"""Transfers that go wrong in ways a crawler must put in words, and the fault site's cases
that serve them (`TransferFaults`): an attachment that never ends, a server that hangs up
mid-headers or without answering, and a robots.txt far over any size limit.

An endless body (no Content-Length, never closed) tests that a crawler streams what it
receives to disk and stops at its size limit with its memory flat; the others, that the
failure it records says what happened rather than a Twisted repr. Built when the server is
given `transfer_faults=True` (the cases are listed in 公司要闻) and `robots_size`
(robots.txt padded to that many bytes, with a rule past Google's 500 KiB that a crawler
reading up to the limit never sees).
"""

from __future__ import annotations

from replica.faults.handler import FaultHandler, Route, static
from replica.faults.lists import PRIVATE_DIR, robots_txt
from replica.faults.pages import GSYW, Doc, esc
from replica.faults.site import FaultSite, good_article, with_files
from replica.faults.stories import docid
from replica.faults.truth import AttachmentTruth, FaultCase

ENDLESS_CHUNK = 256 * 1024
ROBOTS_VISIBLE = 600 * 1024
"""Bytes of robots.txt before the rule that only a reader of the whole file sees (past
Google's 500 KiB)."""
TRANSFER_DAY = 10

_ENDLESS_STORY = (
    "中铝股份发布2025年度可持续发展报告",
    "董事会办公室",
    (
        "中铝股份发布2025年度可持续发展报告，全面披露环境、社会及公司治理信息。",
        "报告全文请见附件。",
    ),
)


class TransferFaults(FaultSite):
    """Cases where the transfer, not the page, is at fault."""

    transfer_faults: bool
    robots_size: int | None

    def _build_transfer_faults(self) -> None:
        if not self.transfer_faults:
            return
        number = docid(TRANSFER_DAY, 71)
        title, source, paragraphs = _ENDLESS_STORY
        d = Doc(
            path=f"/{GSYW}/202602/t202602{TRANSFER_DAY}_{number}.html",
            docid=number,
            section=GSYW,
            title=title,
            source=source,
            published=f"2026-02-{TRANSFER_DAY}",
            created=f"2026-02-{TRANSFER_DAY} 10:11:00",
            paragraphs=paragraphs,
        )
        file_name = f"P020260210{number}000.pdf"
        file_path = f"/{GSYW}/202602/{file_name}"
        d = with_files(d, [(file_name, esc(f"{title}.pdf"))])
        self._add_article(d)
        self._routes[file_path] = ("endless_attachment", self._endless_file)
        self.cases["endless_attachment"] = FaultCase(
            "endless_attachment",
            d.path,
            "a good article whose 附件 is a PDF without Content-Length that never ends",
            "article archived; the file refused at the size limit with the limit in words; "
            "memory flat (the body spooled to disk)",
            good=True,
            related=(file_path,),
        )
        endless = AttachmentTruth(file_path, f"{title}.pdf", 0, "application/pdf", None, True)
        self.good_articles.append(good_article(d, [endless], case="endless_attachment"))

        for k, (name, route, description, expected, listed_title) in enumerate(
            (
                (
                    "mid_headers",
                    _hang_up(b"HTTP/1.1 200 OK\r\nContent-Type: text/ht"),
                    "sends half a header block, then closes the connection",
                    "failure: the server closed the connection mid-headers",
                    "中铝股份召开2026年法治工作会议",
                ),
                (
                    "no_answer",
                    _hang_up(b""),
                    "reads the request, then closes the connection without a byte",
                    "failure: the server closed the connection without answering",
                    "中铝股份召开2026年保密工作会议",
                ),
            ),
            start=72,
        ):
            number = docid(TRANSFER_DAY, k)
            path = f"/{GSYW}/202602/t202602{TRANSFER_DAY}_{number}.html"
            self._case(
                FaultCase(name, path, description, expected),
                route,
                (listed_title, f"2026-02-{TRANSFER_DAY}", number),
            )

    def _build_big_robots(self) -> None:
        """robots.txt of `robots_size` bytes: the site's rules, comments, and past
        ROBOTS_VISIBLE a rule against a good article (after the limit: never obeyed)."""
        if not self.robots_size:
            return
        hidden = self.good_articles[0].url_path
        head = robots_txt(self.crawl_delay)
        late = f"Disallow: {hidden}\n"
        filler = "# " + "robots.txt 填充 padding " * 3 + "\n"
        body = head + filler * ((ROBOTS_VISIBLE - len(head)) // len(filler.encode()) + 1)
        body += late
        body += filler * ((self.robots_size - len(body.encode())) // len(filler.encode()) + 1)
        data = body.encode("utf-8")
        self._routes["/robots.txt"] = (
            "big_robots",
            static(200, "text/plain; charset=utf-8", data),
        )
        self.cases["big_robots"] = FaultCase(
            "big_robots",
            "/robots.txt",
            f"robots.txt of {len(data)} bytes: the site's rules (Disallow: {PRIVATE_DIR}), "
            f"then comments, and past {ROBOTS_VISIBLE} bytes `{late.strip()}`",
            "read up to the 500 KiB limit: its rules obeyed, the late one never seen; the "
            "site crawled, not unreachable",
            related=(hidden,),
        )

    def _endless_file(self, handler: FaultHandler, head: bool) -> int:
        # No Content-Length: the body ends when the connection does, which here is never.
        if handler.log_entry is not None:
            handler.log_entry.status = 200
        handler.send_response(200)
        handler.send_header("Content-Type", "application/pdf")
        handler.send_header("Connection", "close")
        handler.end_headers()
        handler.close_connection = True
        if head:
            return 200
        chunk = b"%PDF-1.4\n" + b" " * (ENDLESS_CHUNK - 9)
        try:
            while not self._stopping.is_set():
                handler.wfile.write(chunk)
        except OSError:
            pass  # the client stopped reading, as a size limit does
        return 200


def _hang_up(first_bytes: bytes) -> Route:
    def route(handler: FaultHandler, head: bool) -> None:
        if handler.log_entry is not None:
            handler.log_entry.status = None
        handler.close_connection = True
        if first_bytes:
            handler.wfile.write(first_bytes)
            handler.wfile.flush()
        handler.connection.shutdown(1)  # FIN: a clean close, not a reset
        return None

    return route
