"""Dead links: listed articles the site no longer has, answering 404 and 410."""

from __future__ import annotations

from replica.faults.handler import static
from replica.faults.pages import GSYW, error_page
from replica.faults.site import FaultSite
from replica.faults.stories import docid
from replica.faults.truth import FaultCase


class DeadLinks(FaultSite):
    """Listed links that answer 404 or 410."""

    def _build_dead_links(self) -> None:
        """Listed links the site no longer has: 404 and 410."""
        for k, (status, title) in enumerate(
            ((404, "中铝股份召开2026年档案工作会议"), (410, "中铝股份召开2026年保密工作会议"))
        ):
            n = docid(1, 60 + k)
            path = f"/{GSYW}/202602/t20260201_{n}.html"
            self._case(
                FaultCase(
                    f"dead_link_{status}",
                    path,
                    f"listed in 公司要闻, answers {status}",
                    "archived as answered and counted as a dead link; no failure, no article",
                ),
                static(status, "text/html; charset=utf-8", error_page(status)),
                (title, "2026-02-01", n),
            )
