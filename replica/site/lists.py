"""List pages and the pager: a section's items, newest first, page by page (index.html,
index_1.html …), with the TRS pager script, the countPage variant, or none."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from replica.site.chrome import (
    CHALCO,
    Chrome,
    ListItem,
    esc,
    footer,
    head,
    header,
    list_items,
    nav,
    topbar,
)
from replica.site.flavours import MIRROR
from replica.site.responses import Response, html_response, other_host, relative_href
from replica.site.state import ListEntry, SiteState

DATA_DIR = Path(__file__).parents[1] / "data"

# The TRS pager as published by WCM: the page list exists only as document.write calls.
CREATE_PAGE_HTML_JS = (
    '<script type="text/javascript">\n'
    + (DATA_DIR / "createPageHTML.js").read_text(encoding="utf-8")
    + "</script>"
)

# The countPage variant, with {current} and {count} to fill in.
_COUNT_PAGE_JS = (
    '<script type="text/javascript">\n'
    + (DATA_DIR / "countPage.js").read_text(encoding="utf-8")
    + "</script>"
)


def pager(style: str | None, pages: int, current: int) -> str:
    if style == "createPageHTML":
        return (
            '<div class="page"><script type="text/javascript">'
            f'createPageHTML({pages}, {current}, "index", "html");</script></div>'
        )
    if style == "countPage":
        return (
            '<div class="page">'
            + _COUNT_PAGE_JS.replace("{current}", str(current)).replace("{count}", str(pages))
            + "</div>"
        )
    return ""  # some channels publish no pager at all: readers step index_N.html


def list_page(
    *,
    channel: str,
    parent: tuple[str, str],
    siblings: Sequence[tuple[str, str]],
    news_children: Sequence[tuple[str, str]],
    items: Sequence[ListItem],
    hot: Sequence[ListItem],
    pager_style: str | None,
    pages: int,
    current: int,
    ellipsis: str,
    chrome: Chrome = CHALCO,
) -> str:
    root = "../../"
    name = chrome.site_name
    script = CREATE_PAGE_HTML_JS if pager_style == "createPageHTML" else ""
    side = "".join(
        ('<li class="on">' if name == channel else "<li>")
        + f'<a href="../{path.rsplit("/", 1)[-1]}/">{esc(name)}</a></li>'
        for path, name in siblings
    )
    return (
        head(f"{channel}_{name}", root, metas=[("ColumnName", channel), ("SiteName", name)])
        + script
        + "\n</head>\n<body>\n"
        + topbar()
        + header(root, chrome)
        + nav(root, news_children, current=parent[0] + "/", chrome=chrome)
        + f'<div class="w1200 position">当前位置：<a href="{root}">首页</a> &gt; '
        f'<a href="../">{esc(parent[1])}</a> &gt; <a href="./">{esc(channel)}</a></div>\n'
        + '<div class="w1200 main">\n<div class="side">'
        + f'<div class="side-title">{esc(parent[1])}</div><ul class="side-menu">{side}</ul>\n'
        + '<div class="side-hot"><h3>热点推荐</h3><ul>\n'
        + list_items(hot, 18, "…")
        + "\n</ul></div></div>\n"
        + f'<div class="list-box"><div class="list-title">{esc(channel)}</div>\n<ul class="list">\n'
        + list_items(items, 24, ellipsis)
        + "\n</ul>\n"
        + pager(pager_style, pages, current)
        + "\n</div></div>\n"
        + footer(root, chrome)
        + "</body>\n</html>\n"
    )


def entry_items(entries: list[ListEntry], from_dir: str) -> list[ListItem]:
    """List entries as the <li>s of a page in the folder `from_dir`."""
    return [
        ListItem(e.target if e.verbatim else relative_href(from_dir, e.target), e.title, e.date)
        for e in entries
    ]


class ListPages(SiteState):
    """The site's list pages."""

    def _list_page(self, section: str, page: int, host: str) -> Response:
        entries = self._entries[section]
        shown = entries[page * self.page_size : (page + 1) * self.page_size]
        parent = section.split("/")[0]
        newest = next((e for e in entries if e.target in self._by_path), None)
        hot = []
        if newest is not None:
            # Off-site links: the same server under its other host name, and a spam mirror.
            hot.append(
                ListItem(f"http://{other_host(host)}{newest.target}", newest.title, newest.date)
            )
            hot.append(ListItem(f"{MIRROR}{newest.target}", newest.title, newest.date))
        profile = self.profile
        html = list_page(
            channel=self.sections[section],
            parent=(parent, profile.parents[parent]),
            siblings=[(s, n) for s, n in self.sections.items() if s.startswith(parent + "/")],
            news_children=self._news_children(),
            items=entry_items(shown, f"/{section}/"),
            hot=hot,
            pager_style=profile.pager_styles.get(section),
            pages=self.list_pages[section],
            current=page,
            ellipsis=profile.ellipsis.get(section, "…"),
            chrome=profile.chrome,
        )
        return html_response(html, self._modified[section])
