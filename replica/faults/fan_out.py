"""An article that names a hundred thousand attachments, and the fault site's case that serves
it (`FanOut`).

A CMS export gone wrong, or a catalogue page, can link more files than any article has: a
crawler that fetches them all runs for hours, and one stopped half way must not lose what it
fetched. Every file is a small PDF of its own, served after `fan_out_delay` seconds (a
server's think time, so that a test can stop a crawl in the middle of them). Built when the
server is given `fan_out` (the number of attachments), in a section of its own, 附件众多,
which is not in the navigation: a crawl reaches it with `--sections xwdt/fanout`.
"""

from __future__ import annotations

import re
import time

from replica.faults.handler import FaultHandler, Route, send, static
from replica.faults.lists import list_html
from replica.faults.pages import FAN_OUT, Doc, esc
from replica.faults.site import FaultSite, good_article
from replica.faults.stories import docid
from replica.faults.truth import AttachmentTruth, FaultCase

FAN_OUT_DAY = 11
_FILE = re.compile(rf"^/{FAN_OUT}/202602/P0fan(\d{{6}})\.pdf$")


def fan_out_file(index: int) -> bytes:
    """The bytes of attachment `index`: a PDF header and a line of its own."""
    return (
        b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n% fan-out attachment " + str(index).encode() + b"\n%%EOF\n"
    )


def fan_out_path(index: int) -> str:
    return f"/{FAN_OUT}/202602/P0fan{index:06d}.pdf"


class FanOut(FaultSite):
    """The fan-out article and its files."""

    fan_out: int | None
    fan_out_delay: float

    def _build_fan_out(self) -> None:
        if not self.fan_out:
            return
        number = docid(FAN_OUT_DAY, 81)
        title = "中铝股份2026年度合格供应商名录"
        d = Doc(
            path=f"/{FAN_OUT}/202602/t202602{FAN_OUT_DAY}_{number}.html",
            docid=number,
            section=FAN_OUT,
            title=title,
            source="物资采购中心",
            published=f"2026-02-{FAN_OUT_DAY}",
            created=f"2026-02-{FAN_OUT_DAY} 09:30:00",
            paragraphs=("现将2026年度合格供应商名录公布如下，各供应商资质文件见附件。",),
            files=tuple(
                (fan_out_path(i).rsplit("/", 1)[1], esc(f"供应商资质文件{i:06d}.pdf"))
                for i in range(self.fan_out)
            ),
        )
        self._add_article(d, listed=False)
        listing = list_html(FAN_OUT, [(d.path, d.title, d.published)], "")
        self._routes[f"/{FAN_OUT}/"] = (
            None,
            static(200, "text/html; charset=utf-8", listing.encode()),
        )
        truths = [
            AttachmentTruth(
                fan_out_path(i),
                f"供应商资质文件{i:06d}.pdf",
                len(fan_out_file(i)),
                "application/pdf",
                None,
            )
            for i in range(self.fan_out)
        ]
        self.cases["fan_out"] = FaultCase(
            "fan_out",
            d.path,
            f"a good article whose 附件 names {self.fan_out} PDFs, each answered after "
            f"{self.fan_out_delay:g} s",
            "article archived; the first MAX_FILES_PER_PAGE (500) fetched, the rest named but "
            "not fetched, with a page problem and a summary line; a stop keeps the work",
            good=True,
        )
        self.good_articles.append(good_article(d, truths, case="fan_out"))

    def _fan_out_route(self, path: str) -> tuple[str | None, Route] | None:
        match = _FILE.match(path)
        if match is None or not self.fan_out or int(match.group(1)) >= self.fan_out:
            return None
        body = fan_out_file(int(match.group(1)))

        def route(handler: FaultHandler, head: bool) -> int:
            if self.fan_out_delay:
                time.sleep(self.fan_out_delay)
            return send(handler, 200, {"Content-Type": "application/pdf"}, body, head)

        return "fan_out", route
