"""Pages with one enormous text node or attribute, and the fault site's 超大页面 section that
serves them (`HugePages`).

libxml2 refuses a text node or attribute value over 10,000,000 bytes unless told otherwise,
and drops it with everything after it: an article whose `<head>` holds a 50 MB inline script
loses its title, date, body and attachments; a body that opens with a pasted image (rich-text
editors paste images as `data:` URIs) loses its text. Each case puts the huge part before
what a crawler must read, so a reader that stops at it misses every field.

The section is not in the site's navigation: a crawl reaches it with `--sections xwdt/huge`.
It is built only when the server is given `huge_page_size`, since each page costs that many
bytes of memory and of every crawl that fetches it.
"""

from __future__ import annotations

import base64

from replica.faults.handler import static
from replica.faults.lists import list_html, pager
from replica.faults.pages import HUGE, Doc, article_html, esc
from replica.faults.site import FaultSite, good_article, with_files
from replica.faults.stories import docid
from replica.faults.truth import FaultCase

HTML_TYPE = "text/html; charset=utf-8"
HUGE_DAY = 9
BANNER_SIZE = 12_000_000
TEXT_NODE_SIZE = 50_000_000
"""The huge paragraph's size at most: five times libxml2's 10,000,000-byte limit."""

# A script of the kind a CMS inlines (chart data, a bundled library): '<', '&&' and '>' in
# it, as in any minified script, and a '</' that does not end it.
_SCRIPT_UNIT = 'if(a<b&&c>d){s+="<\\/div>"+n.join(",")};'
# A pasted PNG: its bytes as base64, no line breaks (what an editor's data: URI holds).
_PNG_UNIT = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 3
# Chinese text without white space: one paragraph, enormous.
_TEXT_UNIT = "中铝股份持续推进绿色低碳发展，加快构建现代化产业体系。"

# slug: (title, source, paragraphs)
_STORIES: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "huge_script_head": (
        "中铝股份发布2026年碳排放数据报告",
        "安全环保健康部",
        (
            "中铝股份发布2026年碳排放数据报告，披露所属企业碳排放强度变化情况。",
            "报告显示，电解铝单位产品碳排放同比下降，清洁能源使用比例持续提高。",
            "报告全文请见附件。",
        ),
    ),
    "huge_data_uri": (
        "中铝股份新建光伏电站并网发电",
        "能源管理部",
        (
            "中铝股份所属企业新建分布式光伏电站日前实现全容量并网发电。",
            "电站年均发电量可满足企业部分生产用电需求，减少二氧化碳排放。",
            "并网验收报告请见附件。",
        ),
    ),
    "huge_text_node": (
        "中铝股份绿色低碳发展情况通报",
        "党委宣传部",
        ("通报全文如下。",),
    ),
}


def repeated(unit: str, size: int) -> str:
    """`unit` repeated to `size` bytes of UTF-8 (cut to whole characters)."""
    encoded = unit.encode("utf-8")
    whole = (encoded * (size // len(encoded) + 1))[:size]
    return whole.decode("utf-8", "ignore")


def png_data_uri(size: int) -> str:
    """A `data:image/png;base64,` URI of `size` characters."""
    prefix = "data:image/png;base64,"
    raw = _PNG_UNIT * ((size * 3) // (4 * len(_PNG_UNIT)) + 1)
    return (prefix + base64.b64encode(raw).decode("ascii"))[:size]


def huge_script(size: int) -> str:
    """An inline `<script>` element of `size` bytes in all."""
    opening, closing = "<script>var chart='';", "</script>"
    return opening + repeated(_SCRIPT_UNIT, size - len(opening) - len(closing)) + closing


class HugePages(FaultSite):
    """The 超大页面 section: a list page and three articles, each with one huge part."""

    huge_page_size: int | None
    """Bytes of each page's huge part; None leaves the section out (FaultServer sets it)."""
    text_node_size: int | None
    """Bytes of the huge paragraph at most; None: TEXT_NODE_SIZE."""

    def _build_huge_pages(self) -> None:
        size = self.huge_page_size
        if not size:
            return
        text_size = min(size, self.text_node_size or TEXT_NODE_SIZE)
        items = []
        for k, slug in enumerate(_STORIES, start=61):
            title, source, paragraphs = _STORIES[slug]
            number = docid(HUGE_DAY, k)
            if slug == "huge_text_node":
                paragraphs = (*paragraphs, repeated(_TEXT_UNIT, text_size))
            d = Doc(
                path=f"/{HUGE}/202602/t202602{HUGE_DAY:02d}_{number}.html",
                docid=number,
                section=HUGE,
                title=title,
                source=source,
                published=f"2026-02-{HUGE_DAY:02d}",
                created=f"2026-02-{HUGE_DAY:02d} 11:{k:02d}:00",
                paragraphs=paragraphs,
            )
            href, truth = self._add_pdf(d, 0, f"{title}.pdf", title)
            d = with_files(d, [(href, esc(truth.name))])
            page = article_html(d)
            if slug == "huge_script_head":
                # Before the <title> and the <meta>s: a reader that stops here has nothing.
                page = page.replace("<title>", huge_script(size) + "\n<title>", 1)
            elif slug == "huge_data_uri":
                image = f'<p style="text-align:center"><img src="{png_data_uri(size)}"></p>\n'
                page = page.replace('TRS_Editor">\n', 'TRS_Editor">\n' + image, 1)
            self._routes[d.path] = (slug, static(200, HTML_TYPE, page.encode("utf-8")))
            items.append((f"./{d.path.removeprefix(f'/{HUGE}/')}", d.title, d.published))
            self.cases[slug] = FaultCase(
                slug,
                d.path,
                _DESCRIPTIONS[slug].format(size=size, text=text_size),
                "every field and the attachment exact, as on an ordinary page; memory bounded",
                good=True,
                related=(truth.url_path,),
            )
            self.good_articles.append(good_article(d, [truth], case=slug))
        listing = list_html(HUGE, items, pager(1, 0))
        # A huge script in the <head> and a pasted banner image before the list itself (up
        # to BANNER_SIZE: both at 50 MB would pass the crawl's 64 MiB page limit).
        listing = listing.replace("</head>", huge_script(size) + "\n</head>", 1)
        banner_uri = png_data_uri(min(size, BANNER_SIZE))
        banner = f'<div class="banner"><img src="{banner_uri}"></div>\n'
        listing = listing.replace('<div class="list-box">', banner + '<div class="list-box">', 1)
        self._routes[f"/{HUGE}/"] = ("huge_list", static(200, HTML_TYPE, listing.encode("utf-8")))
        self.cases["huge_list"] = FaultCase(
            "huge_list",
            f"/{HUGE}/",
            f"the 超大页面 list page: an inline script of {size} bytes in its <head> and a "
            f"data: URI banner image of {min(size, BANNER_SIZE)} bytes before the list",
            "every listed article found and fetched",
            related=tuple(path for path, *_ in items),
        )


_DESCRIPTIONS = {
    "huge_script_head": "an article whose <head> opens with an inline script of {size} bytes, "
    "before its <title> and <meta>s",
    "huge_data_uri": "an article whose body opens with an image pasted as a data: URI of "
    "{size} characters, before its text",
    "huge_text_node": "an article whose last paragraph is one text node of {text} bytes",
}
