"""Content faults: broken HTML a browser still reads, NUL bytes in the text, an empty 200,
and one document (one docid) under two URLs."""

from __future__ import annotations

from replica.faults.handler import static
from replica.faults.pages import (
    CHANNEL_NAMES,
    GGDT,
    GSYW,
    SITE_NAME,
    Doc,
    article_html,
    attr,
    esc,
    footer,
    nav,
)
from replica.faults.site import FaultSite, good_article
from replica.faults.stories import docid, story
from replica.faults.truth import FaultCase

DUPLICATE_DOCID = 999001


class ContentFaults(FaultSite):
    """Cases where the page itself is broken or odd."""

    def _build_content_faults(self) -> None:
        html_type = "text/html; charset=utf-8"
        d = story("overhaul", GSYW, 3, docid(3, 20))
        self._case(
            FaultCase(
                "malformed_unclosed",
                d.path,
                "unclosed <p>/<span>/<font>, <b><i></b></i>, stray closers, no </head>, "
                "</body>, </html>; title, 来源, 时间 and body still readable",
                "archived with title, source, time and body",
                good=True,
            ),
            static(200, html_type, _unclosed_html(d).encode("utf-8")),
            (d.title, d.published, d.docid),
        )
        self.good_articles.append(good_article(d, [], case="malformed_unclosed"))

        d = story("integrity", GSYW, 2, docid(2, 21))
        self._case(
            FaultCase(
                "malformed_nul",
                d.path,
                "NUL bytes inside the title, 来源 and paragraph text and between tags "
                "(body only); browsers drop them",
                "NULs dropped; archived with clean fields",
                good=True,
            ),
            static(200, html_type, _nul_html(d)),
            (d.title, d.published, d.docid),
        )
        self.good_articles.append(good_article(d, [], case="malformed_nul"))

        n = docid(1, 24)
        path = f"/{GSYW}/202602/t20260201_{n}.html"
        self._case(
            FaultCase(
                "empty_200",
                path,
                "200, text/html, Content-Length: 0",
                "recorded as an empty page (flagged or failed); no crash",
            ),
            static(200, html_type, b""),
            ("中铝股份召开2026年宣传思想工作会议", "2026-02-01", n),
        )

        # One document (one docid) under two URLs in two channels, same content.
        d = story("study", GSYW, 5, DUPLICATE_DOCID)
        other = Doc(**{**d.__dict__, "path": d.path.replace(f"/{GSYW}/", f"/{GGDT}/")})
        self._add_article(d)
        self._routes[other.path] = (
            None,
            static(200, "text/html; charset=utf-8", article_html(other).encode("utf-8")),
        )
        self._list(GGDT, other.path, other.title, other.published, other.docid)
        self.cases["duplicate_docid"] = FaultCase(
            "duplicate_docid",
            d.path,
            f"docid {DUPLICATE_DOCID} under {d.path} (公司要闻) and {other.path} (高管动态), "
            "same title and body",
            "one document: archived once, the other URL recorded against it",
            good=True,
            related=(other.path,),
        )
        self.good_articles.append(
            good_article(d, [], case="duplicate_docid", aliases=(other.path,))
        )


def _unclosed_html(doc: Doc) -> str:
    """Unclosed and mis-nested tags that browsers (and lxml) still read correctly."""
    p = doc.paragraphs
    half = len(p[1]) // 2
    return (
        f"<!DOCTYPE html>\n<html lang=zh-CN>\n<head>\n<meta charset=utf-8>\n"
        f"<title>{esc(doc.title)}_{SITE_NAME}</title>\n"
        f'<meta name=ArticleTitle content="{attr(doc.title)}">\n'
        # no </head>, no </span>, stray closers, <p>s never closed, <b><i></b></i>
        "<body>\n"
        '<div class="topbar"><span class=group-name>中铝网站群</div>\n'
        + nav()
        + "<div class=content-box>\n"
        f"<div class=channel-title>{esc(CHANNEL_NAMES[doc.section])}</span></div>\n"
        f'<div class="content-title"><font color=#000>{esc(doc.title)}</div>\n'
        f"<div class=content-info><span>来源：{esc(doc.source)}<span>时间：{doc.published}</div>\n"
        '<div class="content-con TRS_Editor">\n'
        f'<p style="text-indent:2em">{esc(p[0])}\n'
        f'<p style="text-indent:2em"><b>{esc(p[1][:half])}<i>{esc(p[1][half:])}</b></i>\n'
        f"<p style=text-indent:2em><font face=仿宋>{esc(p[2])}\n"
        f"<p>{esc(p[3])}</font></p></p></p></td></tr>\n"
        "</div>\n"
        '<div class="content-fj"><span class="fj-label">附件：</span>\n'
        "</div>\n" + footer()
        # no </body>, no </html>
    )


def _nul_html(doc: Doc) -> bytes:
    """A normal page with NUL bytes in body text and between tags (never in <head>, where
    a browser would turn them into U+FFFD or end the head early)."""
    page = article_html(doc)
    title = f'<div class="content-title">{esc(doc.title)}</div>'
    cut = len(doc.title) // 2
    page = page.replace(
        title,
        f'<div class="content-title">{esc(doc.title[:cut])}\x00{esc(doc.title[cut:])}</div>',
    )
    page = page.replace(f"来源：{esc(doc.source)}", f"来源：\x00{esc(doc.source)}")
    for text in doc.paragraphs:
        at = len(text) // 3
        page = page.replace(esc(text) + "</p>", esc(text[:at]) + "\x00" + esc(text[at:]) + "</p>")
    page = page.replace("</p>\n", "</p>\x00\x00\n").replace("<body>\n", "<body>\n" + "\x00" * 64)
    return page.encode("utf-8")
