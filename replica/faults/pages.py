"""The fault site's map and templates: its sections, the article page it renders (`Doc`),
and the TRS-looking HTML of chalco.com.cn that every fault family serves."""

from __future__ import annotations

import hashlib
import html
from dataclasses import dataclass

from replica import media

SITE_NAME = "中国铝业股份有限公司"
GSYW = "xwdt/gsyw"
GGDT = "xwdt/ggdt"
ENDLESS = "xwdt/endless"
HOSTILE = "xwdt/hostile"
"""The 不可信内容 section: text hostile to the archive's readers (hostile.py)."""
HOSTILE_NAME = "不可信内容"
HUGE = "xwdt/huge"
"""The 超大页面 section (huge_pages.py): not in the navigation, crawled with --sections."""
FAN_OUT = "xwdt/fanout"
"""The 附件众多 section (fan_out.py): not in the navigation, crawled with --sections."""
NEWS_CHILDREN = (
    (GSYW, "公司要闻"),
    (GGDT, "高管动态"),
    (ENDLESS, "无尽列表"),
    (HOSTILE, HOSTILE_NAME),
)
CHANNEL_NAMES = {**dict(NEWS_CHILDREN), HUGE: "超大页面", FAN_OUT: "附件众多"}


@dataclass(frozen=True)
class Doc:
    """An article page to render."""

    path: str
    docid: int
    section: str
    title: str
    source: str
    published: str
    created: str
    paragraphs: tuple[str, ...]
    files: tuple[tuple[str, str], ...] = ()
    """(href relative to the page, link-text markup) of each attachment."""


def esc(text: str) -> str:
    return html.escape(text, quote=False)


def attr(text: str) -> str:
    return html.escape(text, quote=True)


def head(title: str, charset_tag: str, metas: tuple[tuple[str, str], ...] = ()) -> str:
    meta = "".join(f'<meta name="{name}" content="{attr(value)}">\n' for name, value in metas)
    return (
        f'<!DOCTYPE html>\n<html lang="zh-CN">\n<head>\n{charset_tag}\n'
        f"<title>{esc(title)}_{SITE_NAME}</title>\n{meta}"
        '<link rel="stylesheet" type="text/css" href="/css/style.css">\n'
    )


def topbar() -> str:
    return '<div class="topbar"><span class="group-name">中铝网站群</span></div>\n'


def nav() -> str:
    children = "".join(
        f'<li><a href="/{path}/">{esc(name)}</a></li>' for path, name in NEWS_CHILDREN
    )
    return (
        '<div class="nav"><ul class="menu"><li><a href="/">首页</a></li>'
        f'<li><a href="/xwdt/">新闻动态</a><ul class="sub">{children}</ul></li>'
        "</ul></div>\n"
    )


def footer() -> str:
    return (
        '<div class="footer"><div class="footer-links">'
        '<a href="http://www.chinalco.com.cn/">中国铝业集团有限公司网站</a>|'
        "<span>企业简介</span>|<span>联系我们</span>|<span>法律声明</span></div>\n"
        "<p>版权所有 中国铝业股份有限公司 京ICP备05024156号-1</p></div>\n"
    )


def charset_tag(charset: str) -> str:
    return f'<meta charset="{charset}">'


def _files_block(files: tuple[tuple[str, str], ...]) -> str:
    links = "".join(
        f'<li><a href="./{href}" target="_blank">{markup}</a></li>' for href, markup in files
    )
    return '<span class="fj-label">附件：</span>' + (f"<ul>{links}</ul>" if links else "")


def _metas(doc: Doc) -> tuple[tuple[str, str], ...]:
    return (("ArticleTitle", doc.title), ("PubDate", doc.created), ("ContentSource", doc.source))


def article_html(doc: Doc, charset_tag: str = '<meta charset="utf-8">', body: str = "") -> str:
    """The chalco.com.cn article template (content-title / content-info / content-con)."""
    body = body or "\n".join(f'<p style="text-indent:2em">{esc(p)}</p>' for p in doc.paragraphs)
    return (
        head(doc.title, charset_tag, _metas(doc))
        + "</head>\n<body>\n"
        + topbar()
        + nav()
        + '<div class="content-box">\n'
        + f'<div class="channel-title">{esc(CHANNEL_NAMES[doc.section])}</div>\n'
        + f'<div class="content-title">{esc(doc.title)}</div>\n'
        + f'<div class="content-info"><span>来源：{esc(doc.source)}</span>'
        + f"<span>时间：{doc.published}</span></div>\n"
        + f'<div class="content-con TRS_Editor">\n{body}\n</div>\n'
        + f'<div class="content-fj">{_files_block(doc.files)}</div>\n'
        + '<div class="content-print">【<a href="javascript:window.print()">打印本页</a>】'
        + '【<a href="javascript:window.close()">关闭窗口</a>】</div>\n'
        + "</div>\n"
        + footer()
        + "</body>\n</html>\n"
    )


def plain_page(title: str, text: str) -> str:
    return (
        head(title, charset_tag("utf-8"))
        + "</head>\n<body>\n"
        + topbar()
        + nav()
        + f'<div class="content-box"><h2>{esc(title)}</h2><p>{esc(text)}</p></div>\n'
        + footer()
        + "</body>\n</html>\n"
    )


def pdf(title: str, label: str) -> bytes:
    return media.pdf(title, ["chalco fault replica", label])


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def error_page(status: int) -> bytes:
    message = {404: "您访问的页面不存在", 429: "请求过于频繁", 500: "服务器内部错误"}.get(
        status, "服务暂不可用"
    )
    return plain_page(str(status), message).encode("utf-8")
