"""Attachment faults: a good article whose PDF is far above any size limit (streamed, never
built in memory), and one whose attachment link texts are hostile file names."""

from __future__ import annotations

from collections.abc import Iterator

from replica.faults.handler import FaultHandler, send
from replica.faults.pages import GSYW, esc
from replica.faults.site import FaultSite, good_article, with_files
from replica.faults.stories import docid, story
from replica.faults.truth import AttachmentTruth, FaultCase

HUGE_CHUNK = 64 * 1024

# Attachment link texts of the hostile_names case: (served markup, what a browser shows).
_HOSTILE_NAMES: tuple[tuple[str, str], ...] = (
    ("../../etc/passwd", "../../etc/passwd"),
    (
        r"..\..\windows\system32\drivers\etc\hosts.pdf",
        r"..\..\windows\system32\drivers\etc\hosts.pdf",
    ),
    ("合格供应商&#0;名单.pdf", "合格供应商\ufffd名单.pdf"),
    ("供应商\x00名单（补充）.pdf", "供应商名单（补充）.pdf"),
    ("通知\x01\x07\x1b[31m红色\x7f.pdf", "通知\x01\x07\x1b[31m红色\x7f.pdf"),
    ("供应商名单\u202efdp.exe", "供应商名单\u202efdp.exe"),
    ("..", ".."),
    ("CON", "CON"),
)
_LONG_NAME = ("2026年第一批合格供应商名单" * 40)[:496] + ".pdf"  # 500 characters


class AttachmentFaults(FaultSite):
    """Cases where an article's attachment is the fault."""

    def _build_attachment_cases(self) -> None:
        # A good article whose attachment is far above any size limit.
        d = story("responsibility", GSYW, 7, docid(7, 25))
        name = "中国铝业2025年度社会责任报告.pdf"
        file_name = f"P020260207{d.docid}000.pdf"
        huge_path = f"/{GSYW}/202602/{file_name}"
        d = with_files(d, [(file_name, esc(name))])
        self._add_article(d)
        self._routes[huge_path] = ("huge_attachment", self._huge)
        self.cases["huge_attachment"] = FaultCase(
            "huge_attachment",
            d.path,
            "a good article whose 附件 links a PDF of huge_size bytes (30 MiB), streamed",
            "article archived; attachment refused by the size limit, refusal recorded",
            good=True,
            related=(huge_path,),
        )
        huge = AttachmentTruth(
            huge_path, name, self.huge_size, "application/pdf", None, oversized=True
        )
        self.good_articles.append(good_article(d, [huge], case="huge_attachment"))

        # A good article whose attachment names are hostile; the hrefs are plain.
        d = story("suppliers", GSYW, 6, docid(6, 26))
        links, truths = [], []
        for index, (markup, shown) in enumerate((*_HOSTILE_NAMES, (_LONG_NAME, _LONG_NAME))):
            href, truth = self._add_pdf(d, index, shown, "合格供应商名单")
            links.append((href, _hostile_markup(markup)))
            truths.append(truth)
        d = with_files(d, links)
        self._add_article(d)
        self.cases["hostile_names"] = FaultCase(
            "hostile_names",
            d.path,
            "a good article whose attachment link texts are ../../etc/passwd, a Windows path, "
            "NULs (&#0; and literal), control characters, U+202E, '..', 'CON' and a "
            "500-character name; the hrefs are plain ./P0….pdf",
            "article archived; files stored under safe names; names kept as sanitized text",
            good=True,
            related=tuple(t.url_path for t in truths),
        )
        self.good_articles.append(good_article(d, truths, case="hostile_names"))

    def _huge(self, handler: FaultHandler, head: bool) -> int:
        headers = {"Content-Type": "application/pdf", "Content-Length": str(self.huge_size)}
        send(handler, 200, headers, b"", head=True)
        if head:
            return 200
        try:
            for chunk in _huge_chunks(self.huge_size):
                if self._stopping.is_set():
                    handler.close_connection = True
                    break
                handler.wfile.write(chunk)
        except OSError:
            handler.close_connection = True  # refused mid-stream, as a size limit does
        return 200


def _hostile_markup(markup: str) -> str:
    # Escape what would break the markup, keep entities like &#0; and raw control bytes.
    return markup.replace("<", "&lt;").replace(">", "&gt;")


def _huge_chunks(size: int) -> Iterator[bytes]:
    """A PDF-looking file of exactly `size` bytes, in chunks of HUGE_CHUNK."""
    head, tail = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n", b"\n%%EOF\n"
    if size <= len(head) + len(tail):
        yield (head + tail)[:size]
        return
    yield head
    filler = b" " * HUGE_CHUNK
    remaining = size - len(head) - len(tail)
    while remaining > 0:
        step = min(remaining, HUGE_CHUNK)
        yield filler if step == HUGE_CHUNK else filler[:step]
        remaining -= step
    yield tail
