"""The fault site's ways in: the home page, 新闻动态, the section lists (two pages of
公司要闻, 高管动态), the endless list whose pager never ends, and robots.txt with the listed
page it disallows."""

from __future__ import annotations

import re
from pathlib import Path

from replica.faults.handler import Route, static
from replica.faults.pages import (
    CHANNEL_NAMES,
    ENDLESS,
    GGDT,
    GSYW,
    NEWS_CHILDREN,
    SITE_NAME,
    Doc,
    article_html,
    attr,
    charset_tag,
    esc,
    footer,
    head,
    nav,
    plain_page,
    topbar,
)
from replica.faults.site import FaultSite
from replica.faults.stories import docid, story
from replica.faults.truth import FaultCase

GSYW_PAGES = 2
ENDLESS_CLAIMED_PAGES = 100_000
"""The page count the endless list's pager claims; every index_N.html answers anyway."""
ENDLESS_ITEMS = 3
PRIVATE_DIR = f"/{GSYW}/private/"


def robots_txt(crawl_delay: float | None = 1) -> str:
    """The site's robots.txt: a Crawl-delay (omitted when None) and a Disallow rule."""
    delay = f"Crawl-delay: {crawl_delay:g}\n" if crawl_delay is not None else ""
    return (
        "# robots.txt of the fault replica\n"
        f"User-agent: *\n{delay}Disallow: {PRIVATE_DIR}\nDisallow: /cgi-bin/\n"
    )


_PAGER_SOURCE = Path(__file__).parents[1] / "data" / "createPageHTML.js"
_PAGER_JS = (
    '<script type="text/javascript">\n'
    + (_PAGER_SOURCE.read_text(encoding="utf-8") if _PAGER_SOURCE.exists() else "")
    + "</script>\n"
)
_ENDLESS_TARGET = re.compile(rf"^/{ENDLESS}/(?:index(?:_(\d+))?\.html)?$")


def list_html(section: str, items: list[tuple[str, str, str]], pager: str) -> str:
    """A TRS list page; items are (href, title, date), hrefs as written."""
    name = CHANNEL_NAMES[section]
    lines = "\n".join(
        f'<li><a href="{attr(href)}" title="{attr(title)}" target="_blank">{esc(title)}</a>'
        f"<span>{date}</span></li>"
        for href, title, date in items
    )
    return (
        head(name, charset_tag("utf-8"), (("ColumnName", name), ("SiteName", SITE_NAME)))
        + (_PAGER_JS if "createPageHTML" in pager else "")
        + "</head>\n<body>\n"
        + topbar()
        + nav()
        + f'<div class="position">当前位置：<a href="/">首页</a> &gt; <a href="../">新闻动态</a>'
        f' &gt; <a href="./">{esc(name)}</a></div>\n'
        + f'<div class="list-box"><div class="list-title">{esc(name)}</div>\n'
        + f'<ul class="list">\n{lines}\n</ul>\n<div class="page">{pager}</div>\n</div>\n'
        + footer()
        + "</body>\n</html>\n"
    )


def pager(pages: int, current: int) -> str:
    return (
        '<script type="text/javascript">'
        f'createPageHTML({pages}, {current}, "index", "html");</script>'
    )


def list_path(section: str, page: int) -> str:
    return f"/{section}/" if page == 0 else f"/{section}/index_{page}.html"


def relative_items(
    section: str, items: list[tuple[str, str, str, int]]
) -> list[tuple[str, str, str]]:
    prefix = f"/{section}/"
    return [
        ("./" + path.removeprefix(prefix) if path.startswith(prefix) else path, title, date)
        for path, title, date, _ in items
    ]


class ListPages(FaultSite):
    """The lists, the home page, 新闻动态 and robots.txt, built once every case is listed."""

    def _build_robots_disallowed(self) -> None:
        """A 公司要闻 item under robots.txt's Disallow rule (served 200 if fetched anyway)."""
        disallowed = story("private", GSYW, 4, docid(4, 28))
        disallowed = Doc(
            **{**disallowed.__dict__, "path": f"{PRIVATE_DIR}t20260204_{disallowed.docid}.html"}
        )
        self._case(
            FaultCase(
                "robots_disallowed",
                disallowed.path,
                "listed in 公司要闻 but under a robots.txt Disallow rule (served 200 anyway)",
                "never requested (robots.txt obeyed)",
            ),
            static(200, "text/html; charset=utf-8", article_html(disallowed).encode()),
            (disallowed.title, disallowed.published, disallowed.docid),
        )

    def _build_endless_list(self) -> None:
        """The endless list: a section of its own, linked from the home page's navigation."""
        self.cases["endless_list"] = FaultCase(
            "endless_list",
            f"/{ENDLESS}/",
            f"every index_N.html answers 200 with the same {ENDLESS_ITEMS} items (good "
            f"articles listed in 公司要闻), the pager claiming createPageHTML("
            f"{ENDLESS_CLAIMED_PAGES}, N, ...)",
            "list pages capped; crawl ends",
        )

    def _build_lists(self) -> None:
        """The list pages of every listed item, the home page, 新闻动态 and robots.txt."""
        gsyw = sorted(self._listings[GSYW], key=lambda item: (item[2], item[3]), reverse=True)
        per_page = -(-len(gsyw) // GSYW_PAGES)
        for page in range(GSYW_PAGES):
            chunk = gsyw[page * per_page : (page + 1) * per_page]
            body = list_html(GSYW, relative_items(GSYW, chunk), pager(GSYW_PAGES, page))
            route = static(200, "text/html; charset=utf-8", body.encode("utf-8"))
            self._routes[list_path(GSYW, page)] = (None, route)

        ggdt = sorted(self._listings[GGDT], key=lambda item: (item[2], item[3]), reverse=True)
        body = list_html(GGDT, relative_items(GGDT, ggdt), "")
        self._routes[f"/{GGDT}/"] = (
            None,
            static(200, "text/html; charset=utf-8", body.encode()),
        )

        plain = [a for a in self.good_articles if a.case is None and a.section == GSYW]
        self._endless_items = [
            ("../" + a.url_path.removeprefix("/xwdt/"), a.title, a.published)
            for a in plain[:ENDLESS_ITEMS]
        ]

        recent = "\n".join(
            f'<li><a href="{a.url_path}" title="{attr(a.title)}">{esc(a.title)}</a>'
            f"<span>{a.published}</span></li>"
            for a in plain[:3]
        )
        home = (
            head("首页", charset_tag("utf-8"))
            + "</head>\n<body>\n"
            + topbar()
            + nav()
            + f'<div class="home-news"><h3>新闻动态</h3><ul>\n{recent}\n</ul></div>\n'
            + footer()
            + "</body>\n</html>\n"
        )
        html_type = "text/html; charset=utf-8"
        self._routes["/"] = (None, static(200, html_type, home.encode("utf-8")))
        children = "".join(
            f'<li><a href="/{path}/">{esc(name)}</a></li>' for path, name in NEWS_CHILDREN
        )
        parent = plain_page("新闻动态", "").replace("<p></p>", f'<ul class="list">{children}</ul>')
        self._routes["/xwdt/"] = (None, static(200, html_type, parent.encode("utf-8")))
        self._routes["/robots.txt"] = (
            None,
            static(200, "text/plain; charset=utf-8", robots_txt(self.crawl_delay).encode("utf-8")),
        )

    def _endless(self, page: int) -> Route:
        body = list_html(ENDLESS, self._endless_items, pager(ENDLESS_CLAIMED_PAGES, page))
        return static(200, "text/html; charset=utf-8", body.encode("utf-8"))

    def _endless_route(self, path: str) -> tuple[str | None, Route] | None:
        """Any page of the endless list, however far past its claimed end."""
        match = _ENDLESS_TARGET.match(path)
        if match is None:
            return None
        return "endless_list", self._endless(int(match.group(1) or 0))
