"""The fault site's registry (`FaultSite`, the base of `FaultServer`): every route, case and
good article, the section lists they go on, and the plain good articles among them. Each
fault family (connection.py, redirects.py, content.py …) adds its cases to it."""

from __future__ import annotations

import threading

from replica.faults.handler import Route, static
from replica.faults.pages import GGDT, GSYW, Doc, article_html, esc, pdf, sha256_hex
from replica.faults.stories import docid, story
from replica.faults.truth import AttachmentTruth, FaultCase, GoodArticle, HostileArticle


class FaultSite:
    """The site's routes, cases and truths, and the helpers that register them."""

    port: int
    """The port the server listens on (the server's own attribute: BackgroundServer)."""

    def __init__(
        self,
        *,
        bomb_size: int,
        huge_size: int,
        slow_interval: float,
        slow_seconds: float,
        crawl_delay: float | None,
    ) -> None:
        self.bomb_size = bomb_size
        self.huge_size = huge_size
        self.slow_interval = slow_interval
        self.slow_seconds = slow_seconds
        self.crawl_delay = crawl_delay
        self.cases: dict[str, FaultCase] = {}
        self.good_articles: list[GoodArticle] = []
        self.hostile_articles: dict[str, HostileArticle] = {}
        self.challenge_articles: int | None = None
        """When set (412, 404 or 200), every article page answers that status with a
        challenge page instead, as when a WAF is switched on between two crawls: a 412 with
        a script-only body, any other status with a captcha."""
        self._lock = threading.Lock()
        self._hits: dict[str, int] = {}
        self._stopping = threading.Event()
        self._routes: dict[str, tuple[str | None, Route]] = {}
        self._listings: dict[str, list[tuple[str, str, str, int]]] = {GSYW: [], GGDT: []}
        self._endless_items: list[tuple[str, str, str]] = []

    def good(self, case: str) -> GoodArticle:
        """The good article of a case (retry_after_429, malformed_unclosed …)."""
        for article in self.good_articles:
            if article.case == case:
                return article
        raise KeyError(case)

    def _build_plain_articles(self) -> None:
        """Plain good articles: six in 公司要闻 (two with PDFs), one in 高管动态."""
        plain = [
            ("safety", GSYW, 6, 1, 1, ["2026年安全生产工作要点.pdf"]),
            ("strategy", GSYW, 5, 1, 1, []),
            ("quarterly", GSYW, 4, 1, 0, ["一季度经营形势分析材料.pdf", "附表.pdf"]),
            ("inspection", GSYW, 3, 1, 1, []),
            ("record", GSYW, 2, 1, 0, []),
            ("youth", GSYW, 1, 1, 0, []),
            ("yunnan", GGDT, 6, 2, 0, []),
        ]
        for slug, section, day, k, lag, names in plain:
            d = story(slug, section, day, docid(day, k), lag)
            files = [self._add_pdf(d, i, name, d.title) for i, name in enumerate(names)]
            d = with_files(d, [(href, esc(t.name)) for href, t in files])
            self._add_article(d)
            self.good_articles.append(good_article(d, [truth for _, truth in files]))

    def _add_article(self, d: Doc, listed: bool = True, data: bytes | None = None) -> None:
        body = data if data is not None else article_html(d).encode("utf-8")
        self._routes[d.path] = (None, static(200, "text/html; charset=utf-8", body))
        if listed:
            self._list(d.section, d.path, d.title, d.published, d.docid)

    def _list(self, section: str, path: str, title: str, date: str, docid: int) -> None:
        self._listings[section].append((path, title, date, docid))

    def _case(self, case: FaultCase, route: Route, listed: tuple[str, str, int] | None) -> None:
        """Register a case; listed = (title, date, docid) of its 公司要闻 list item."""
        self.cases[case.name] = case
        self._routes[case.path] = (case.name, route)
        if listed is not None:
            title, date, number = listed
            self._list(GSYW, case.path, title, date, number)

    def _add_pdf(self, d: Doc, index: int, name: str, title: str) -> tuple[str, AttachmentTruth]:
        """Serve a small PDF beside the article; returns (href relative to it, truth)."""
        file_name = f"P0{d.path.rsplit('_', 1)[0][-8:]}{d.docid}{index:03d}.pdf"
        path = d.path.rsplit("/", 1)[0] + "/" + file_name
        payload = pdf(title, f"{d.docid}-{index}")
        self._routes[path] = (None, static(200, "application/pdf", payload))
        truth = AttachmentTruth(path, name, len(payload), "application/pdf", sha256_hex(payload))
        return file_name, truth

    def _hit(self, path: str) -> int:
        with self._lock:
            self._hits[path] = self._hits.get(path, 0) + 1
            return self._hits[path]


def with_files(d: Doc, files: list[tuple[str, str]]) -> Doc:
    """The page `d` with these (href, link-text markup) attachments."""
    return Doc(**{**d.__dict__, "files": tuple(files)})


def good_article(
    d: Doc,
    attachments: list[AttachmentTruth],
    *,
    needs_retry: bool = False,
    case: str | None = None,
    aliases: tuple[str, ...] = (),
) -> GoodArticle:
    """What a correct crawl archives of the page `d`."""
    return GoodArticle(
        url_path=d.path,
        docid=d.docid,
        section=d.section,
        title=d.title,
        source=d.source,
        published=d.published,
        paragraphs=d.paragraphs,
        attachments=tuple(attachments),
        needs_retry=needs_retry,
        case=case,
        aliases=aliases,
    )
