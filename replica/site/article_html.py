"""The article templates: the TRS template of chalco.com.cn (content-title / content-info /
content-con) and the member-site template (<h1>, 作者), and the body's pieces as TRS editors
leave them. The redesigned template is in redesign.py."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from replica.site.chrome import (
    CHALCO,
    SITE_NAME,
    Chrome,
    ListItem,
    attr,
    esc,
    footer,
    head,
    header,
    list_items,
    nav,
    topbar,
)


def paragraph(text: str, style: str) -> str:
    """One body paragraph in one of the ways TRS editors leave them."""
    body = esc(text)
    if style == "ideographic":
        return f"<p>\u3000\u3000{body}&nbsp;</p>"
    if style == "span":
        cut = text.find("，", len(text) // 3)
        if cut < 0 or cut == len(text) - 1:
            cut = len(text) // 2
        font = 'style="font-family: 仿宋_GB2312; font-size: 16pt;"'
        return (
            '<p style="text-indent: 2em; line-height: 2em;">'
            f"<span {font}>{esc(text[: cut + 1])}</span>"
            f"<span {font}>{esc(text[cut + 1 :])}</span></p>"
        )
    if style == "mso":
        return f'<p class="MsoNormal" style="text-indent:32pt">&nbsp;&nbsp;{body}</p>'
    return f'<p style="text-indent:2em">{body}</p>'


def image(name: str, caption: str | None) -> str:
    html = (
        f'<p style="text-align:center"><img src="./{name}" OLDSRC="{name}" border="0" '
        'style="max-width:100%" alt="" /></p>'
    )
    if caption is not None:
        html += f'\n<p style="text-align:center">{esc(caption)}</p>'
    return html


def attachments(label: str, files: Sequence[tuple[str, str]]) -> str:
    links = "".join(
        f'<li><a href="./{href}" target="_blank">{esc(name)}</a></li>' for href, name in files
    )
    return f'<span class="fj-label">{label}</span>' + (f"<ul>{links}</ul>" if links else "")


@dataclass(frozen=True)
class ArticleView:
    """Everything an article template prints."""

    charset: str
    channel: str
    parent: tuple[str, str]
    title: str
    source: str
    published_raw: str
    author: str | None
    colon: str
    metas: Sequence[tuple[str, str]]
    body: str
    files: Sequence[tuple[str, str]]
    related: Sequence[ListItem]
    original: str | None


def trs_article(view: ArticleView) -> str:
    """The chalco.com.cn article template (content-title / content-info / content-con)."""
    root = "../../../"
    c = view.colon
    original = (
        f'<div class="content-origin">原文链接{c}<a href="{attr(view.original)}" target="_blank">'
        f"{esc(view.original)}</a></div>\n"
        if view.original
        else ""
    )
    return (
        head(f"{view.title}_{SITE_NAME}", root, view.charset, view.metas)
        + "</head>\n<body>\n"
        + topbar()
        + '<div class="w1200 content-box">\n'
        + f'<div class="channel-title">{esc(view.channel)}</div>\n'
        + f'<div class="content-title">{esc(view.title)}</div>\n'
        + f'<div class="content-info"><span>来源{c}{esc(view.source)}</span>'
        + f"<span>时间{c}{view.published_raw}</span></div>\n"
        + f'<div class="content-con TRS_Editor">\n{view.body}\n</div>\n'
        + f'<div class="content-fj">{attachments("附件" + c.strip(), view.files)}</div>\n'
        + original
        + '<div class="content-print">【<a href="javascript:window.print()">打印本页</a>】'
        + '【<a href="javascript:window.close()">关闭窗口</a>】</div>\n'
        + '<div class="related"><div class="related-title">相关新闻</div><ul>\n'
        + list_items(view.related, 30, "…")
        + "\n</ul></div>\n</div>\n"
        + footer(root)
        + "</body>\n</html>\n"
    )


def member_article(
    view: ArticleView,
    news_children: Sequence[tuple[str, str]],
    chrome: Chrome = CHALCO,
    logo_h1: bool = False,
) -> str:
    """The member-site template: <h1> title, attr spans, 作者 after the time.

    With `logo_h1` the header holds an <h1 class="logo"> with the site name before the
    title's own <h1>, as on member sites whose older pages kept that header.
    """
    root = "../../../"
    c = view.colon
    author = f'<span class="attr-author">作者{c}{esc(view.author or "")}</span>'
    original = (
        f'<p class="article-origin">原文链接{c}<a href="{attr(view.original)}">'
        f"{esc(view.original)}</a></p>"
        if view.original
        else ""
    )
    return (
        head(f"{view.title}-{chrome.site_name}", root, view.charset, view.metas)
        + "</head>\n<body>\n"
        + topbar()
        + header(root, chrome, logo_h1)
        + nav(root, news_children, current=view.parent[0] + "/", chrome=chrome)
        + f'<div class="w1200 location">您现在的位置：<a href="{root}">首页</a> &gt; '
        + f'<a href="../../">{esc(view.parent[1])}</a> &gt; '
        + f'<a href="../">{esc(view.channel)}</a></div>\n'
        + '<div class="w1200 article">\n'
        + f"<h1>{esc(view.title)}</h1>\n"
        + f'<div class="article-attr"><span class="attr-src">来源{c}{esc(view.source)}</span> '
        + f'<span class="attr-time">时间{c}{view.published_raw}</span> {author}</div>\n'
        + '<div class="article-body" id="zoom">'
        + f'<div class="TRS_Editor">\n{view.body}\n</div></div>\n'
        + f'<div class="article-attach">{attachments("附件" + c.strip(), view.files)}</div>\n'
        + original
        + '<div class="article-tools"><a href="javascript:window.print()">【打印本页】</a>'
        + '<a href="javascript:window.close()">【关闭窗口】</a></div>\n</div>\n'
        + '<div class="w1200 article-rel"><h4>相关阅读</h4><ul>\n'
        + list_items(view.related, 30, "…")
        + "\n</ul></div>\n"
        + footer(root, chrome)
        + "</body>\n</html>\n"
    )
