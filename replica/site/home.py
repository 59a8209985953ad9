"""The home page and the ways around the site: the chalco and member home pages, the
landing page of each news parent, the static pages (关于我们 …), robots.txt, the stylesheet
and the logo."""

from __future__ import annotations

from collections.abc import Sequence

from replica import media
from replica.site.chrome import (
    CHALCO,
    CSS,
    SITE_NAME,
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
from replica.site.flavours import ANNOUNCEMENTS, STATIC_MODIFIED
from replica.site.lists import entry_items
from replica.site.responses import Response, html_response, validators
from replica.site.state import ListEntry, SiteState

_LOGO = media.png(0, width=48, height=16)


def home_page(
    news_children: Sequence[tuple[str, str]],
    recent: Sequence[ListItem],
    notices: Sequence[ListItem],
) -> str:
    root = "./"
    return (
        head(
            SITE_NAME,
            root,
            metas=[("keywords", "中国铝业,中铝股份,氧化铝,电解铝"), ("SiteName", SITE_NAME)],
        )
        + "</head>\n<body>\n"
        + topbar()
        + header(root)
        + nav(root, news_children, current="")
        + '<div class="w1200 banner"><img src="./images/logo.png" alt=""></div>\n'
        + '<div class="w1200 index-main">\n'
        + '<div class="index-news"><div class="index-title"><h2>新闻动态</h2>'
        + '<a class="more" href="./xwdt/">更多&gt;&gt;</a></div>\n<ul class="list">\n'
        + list_items(recent, 28, "…")
        + "\n</ul></div>\n"
        + '<div class="index-notice"><div class="index-title"><h2>通函与公告</h2>'
        + '<a class="more" href="./tzzgx/thygg/">更多&gt;&gt;</a></div>\n<ul class="list">\n'
        + list_items(notices, 22, "...")
        + "\n</ul></div>\n"
        + '<div class="index-hot">热门搜索：'
        + '<a href="./search/?searchword=%E6%B0%A7%E5%8C%96%E9%93%9D">'
        + "氧化铝</a></div>\n</div>\n"
        + footer(root)
        + "</body>\n</html>\n"
    )


def member_home(
    chrome: Chrome,
    news_children: Sequence[tuple[str, str]],
    blocks: Sequence[tuple[str, str, Sequence[ListItem]]],
) -> str:
    """A member site's home page: blocks of (more-link path, heading, items)."""
    root = "./"
    columns = "".join(
        f'<div class="index-col"><div class="index-title"><h2>{esc(heading)}</h2>'
        f'<a class="more" href="./{path}">更多&gt;&gt;</a></div>\n<ul class="list">\n'
        + list_items(items, 28, "…")
        + "\n</ul></div>\n"
        for path, heading, items in blocks
    )
    return (
        head(
            chrome.site_name,
            root,
            metas=[("keywords", chrome.keywords), ("SiteName", chrome.site_name)],
        )
        + "</head>\n<body>\n"
        + topbar()
        + header(root, chrome)
        + nav(root, news_children, current="", chrome=chrome)
        + '<div class="w1200 banner"><img src="./images/logo.png" alt=""></div>\n'
        + '<div class="w1200 index-main">\n'
        + columns
        + "</div>\n"
        + footer(root, chrome)
        + "</body>\n</html>\n"
    )


def plain_page(
    title: str,
    root: str,
    news_children: Sequence[tuple[str, str]],
    body: str,
    current: str = "",
    chrome: Chrome = CHALCO,
) -> str:
    """Landing and static pages: header, menu, a block of content, footer."""
    return (
        head(f"{title}_{chrome.site_name}", root)
        + "</head>\n<body>\n"
        + topbar()
        + header(root, chrome)
        + nav(root, news_children, current=current, chrome=chrome)
        + f'<div class="w1200 main">\n<h2 class="page-title">{esc(title)}</h2>\n{body}\n</div>\n'
        + footer(root, chrome)
        + "</body>\n</html>\n"
    )


class HomePages(SiteState):
    """The home page, landing and static pages, robots.txt, the stylesheet and the logo."""

    def _recent(self, count: int) -> list[ListEntry]:
        """The newest live articles over the news sections, each once."""
        seen: set[str] = set()
        recent: list[ListEntry] = []
        for entry in sorted(
            (
                e
                for s in self.profile.news_sections
                for e in self._entries[s]
                if e.target in self._by_path
            ),
            key=lambda e: (e.date, e.docid),
            reverse=True,
        ):
            if entry.target not in seen and self._by_path[entry.target].status == 200:
                seen.add(entry.target)
                recent.append(entry)
            if len(recent) == count:
                break
        return recent

    def _member_home(self) -> Response:
        parent, name = next(iter(self.profile.parents.items()))
        blocks = [(f"{parent}/", name, entry_items(self._recent(8), "/"))]
        for section, channel in list(self.profile.news_sections.items())[1:]:
            blocks.append((f"{section}/", channel, entry_items(self._entries[section][:5], "/")))
        html = member_home(self.profile.chrome, self._news_children(), blocks)
        return html_response(html, max(self._modified.values()))

    def _home(self) -> Response:
        recent = self._recent(8)
        notices = self._entries[ANNOUNCEMENTS][:5]
        html = home_page(self._news_children(), entry_items(recent, "/"), entry_items(notices, "/"))
        return html_response(html, max(self._modified.values()))

    def _landing(self, parent: str) -> Response:
        blocks = []
        children = [(s, n) for s, n in self.sections.items() if s.startswith(parent + "/")]
        for section, name in children:
            slug = section.split("/")[1]
            items = entry_items(self._entries[section][:5], f"/{parent}/")
            blocks.append(
                f'<div class="column"><h3><a href="./{slug}/">{esc(name)}</a></h3>'
                f'<ul class="list">\n{list_items(items, 26, "…")}\n</ul>'
                f'<a class="more" href="./{slug}/">更多&gt;&gt;</a></div>'
            )
        html = plain_page(
            self.profile.parents[parent],
            "../",
            self._news_children(),
            "\n".join(blocks),
            current=parent + "/",
            chrome=self.profile.chrome,
        )
        return html_response(html, max(self._modified[s] for s, _ in children))

    def _static(self, path: str) -> Response:
        title, text = self.profile.static_pages[path]
        root = "../" * (path.count("/") - 1)
        body = f'<div class="static-con"><p>{esc(text)}</p></div>'
        html = plain_page(
            title,
            root,
            self._news_children(),
            body,
            current=path.lstrip("/"),
            chrome=self.profile.chrome,
        )
        return html_response(html, STATIC_MODIFIED)

    def _robots(self) -> Response:
        body = self.robots_txt.encode("utf-8")
        return 200, validators("text/plain; charset=utf-8", body, STATIC_MODIFIED), body

    def _stylesheet(self) -> Response:
        body = CSS.encode("utf-8")
        return 200, validators("text/css", body, STATIC_MODIFIED), body

    def _logo(self) -> Response:
        return 200, validators("image/png", _LOGO, STATIC_MODIFIED), _LOGO
