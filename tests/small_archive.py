"""A small real archive written through ArchiveWriter in a second or so: two articles (one in
two versions, naming an attachment and an image), their listings, a page the site removed
(404) and a finished run. For tests of the read verbs that need no crawl."""

from __future__ import annotations

import gzip
import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from archive.store.home import ArchiveHome
from archive.store.warcstore import HttpExchange
from archive.store.writer import ArchiveWriter
from archive.store.writer.values import FileLink
from tests.conftest import article_content

BASE = "http://h/"
SECTION = "xwdt/gsyw"


@dataclass
class SmallArchive:
    home: Path
    edited_url: str
    """Two versions, the second naming an attachment and an image."""
    other_url: str
    """Another site's copy of the edited article's latest text (punctuation aside)."""
    removed_url: str
    """Captured once with 200, then answered 404."""
    attachment_url: str


def _at(minute: int) -> datetime:
    return datetime(2026, 2, 5, 1, minute, tzinfo=UTC)


def _exchange(url: str, body: bytes, minute: int, status: int = 200, *, gz: bool = False):
    headers = [("Content-Type", "text/html; charset=utf-8")]
    payload = body
    if gz:
        headers.append(("Content-Encoding", "gzip"))
        payload = gzip.compress(body)
    return HttpExchange(url, "GET", [], status, "HTTP/1.1", headers, payload, _at(minute))


def build_small_archive(root: Path) -> SmallArchive:
    home = ArchiveHome.at(root)
    edited = BASE + SECTION + "/202602/t20260205_1.html"
    other = "http://m/" + SECTION + "/202602/t20260205_9.html"
    removed = BASE + SECTION + "/202602/t20260205_2.html"
    attachment = BASE + "files/report.pdf"
    image = BASE + "files/photo.jpg"
    writer = ArchiveWriter(home)
    writer.start_run("chalco", BASE, "full")
    writer.note_listings(
        site="chalco",
        section=SECTION,
        section_name="公司要闻",
        list_url=BASE + SECTION + "/",
        links=[(edited, "标题"), (removed, "撤下")],
        seen_at=_at(0),
    )
    first = writer.record_exchange(_exchange(edited, "<p>第一段</p>".encode(), 1, gz=True))
    writer.save_article(article_content(edited, "第一段", published="2026-02-05"), first.id, _at(1))
    pdf = b"%PDF-1.4 report"
    pdf_capture = writer.record_exchange(_exchange(attachment, pdf, 2))
    writer.save_file(
        url=attachment,
        kind="attachment",
        seen_at=_at(2),
        capture_id=pdf_capture.id,
        status=200,
        sha256=hashlib.sha256(pdf).hexdigest(),
        size=len(pdf),
        media_type="application/pdf",
    )
    writer.save_file(url=image, kind="image", seen_at=_at(2), status=404, problem="HTTP 404")
    files = (FileLink(attachment, "attachment", "年度报告.pdf"), FileLink(image, "image", None))
    second = writer.record_exchange(_exchange(edited, "<p>第一段</p><p>第二段</p>".encode(), 3))
    writer.save_article(
        article_content(edited, "第一段\n第二段", published="2026-02-05", files=files),
        second.id,
        _at(3),
    )
    twin = writer.record_exchange(_exchange(other, "<p>第一段。第二段</p>".encode(), 4))
    writer.save_article(
        article_content(other, "第一段。第二段", published="2026-01-30"), twin.id, _at(4)
    )
    page = writer.record_exchange(_exchange(removed, "<p>撤下</p>".encode(), 5))
    writer.save_article(article_content(removed, "撤下", title="撤下"), page.id, _at(5))
    writer.record_exchange(_exchange(removed, b"not found", 6, status=404))
    writer.mark_gone(removed, _at(6))
    writer.finish_run("ok", 0, {"new": 3, "updated": 1, "unchanged": 0, "gone": 1, "failed": 0})
    writer.close()
    return SmallArchive(root, edited, other, removed, attachment)
