"""HTML templates of the replica: the TRS WCM look of chalco.com.cn and a member-site look."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from html import escape
from pathlib import Path

SITE_NAME = "中国铝业股份有限公司"
DATA_DIR = Path(__file__).parent / "data"

# The site-group bar is a <select>, as on the live site: member sites are not <a> links.
_GROUP_SITES = (
    ("http://www.chinalco.com.cn/", "中国铝业集团有限公司"),
    ("http://lzly.chinalco.com.cn/", "兰州铝业"),
    ("http://zzly.chinalco.com.cn/", "中州铝业"),
    ("http://ylgf.chinalco.com.cn/", "云铝股份"),
    ("http://zlky.chinalco.com.cn/", "中铝矿业"),
    ("http://www.sx.chalco.com.cn/", "山西新材料"),
)

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

CSS = """body{margin:0;font:14px/1.8 "Microsoft YaHei",sans-serif;color:#333}
a{color:#333;text-decoration:none}.w1200{width:1200px;margin:0 auto}
.topbar{background:#0a4a8c;color:#fff}.nav li{display:inline-block;position:relative}
.nav .sub{display:none;position:absolute}.nav li:hover .sub{display:block}
.list li span,.related li span{float:right;color:#999}.content-title,h1{text-align:center}
.footer{background:#0a4a8c;color:#fff;text-align:center}
"""

ROBOTS_TXT = """# robots.txt for www.chalco.com.cn
User-agent: *
Disallow: /search/
Disallow: /xwdt/gsyw/private/
Disallow: /cgi-bin/

User-agent: BadSpider
Disallow: /
"""


@dataclass(frozen=True)
class Chrome:
    """The furniture of one site of the group: name, menu, footer, header style."""

    site_name: str
    news_root: str
    """Menu path of the news parent ("xwdt/"); its children are the news sections."""
    menu: tuple[tuple[str, str, tuple[tuple[str, str], ...]], ...]
    """(path, name, children) of the top menu, paths relative to the root; the news
    parent's children are filled in from the sections."""
    footer_links: tuple[tuple[str, str], ...]
    """(href, name): absolute http URLs open in a new window, others are root-relative."""
    footer_lines: tuple[str, ...]
    logo_h1: bool = False
    """Whether the header puts the logo and site name in an <h1 class="logo">."""
    keywords: str = ""
    robots: str = field(default="", repr=False)


CHALCO = Chrome(
    site_name=SITE_NAME,
    news_root="xwdt/",
    menu=(
        ("", "首页", ()),
        ("gywm/", "关于我们", (("gywm/", "企业简介"), ("gywm/cyqy/", "成员企业"))),
        ("xwdt/", "新闻动态", ()),
        ("tzzgx/", "投资者关系", (("tzzgx/thygg/", "通函与公告"),)),
        ("kjcx/", "科技创新", ()),
        ("en/", "English", ()),
    ),
    footer_links=(
        ("http://www.chinalco.com.cn/", "中国铝业集团有限公司网站"),
        ("gywm/", "企业简介"),
        ("gywm/lxwm/", "联系我们"),
        ("gywm/cyqy/", "成员企业"),
        ("gywm/xflx/", "信访联系"),
        ("flsm/", "法律声明"),
    ),
    footer_lines=(
        "版权所有 中国铝业股份有限公司 京ICP备05024156号-1 京公网安备11040102700155",
        "地址：中华人民共和国北京市海淀区西直门北大街62号 技术支持：中铝信息科技有限公司",
    ),
    keywords="中国铝业,中铝股份,氧化铝,电解铝",
    robots=ROBOTS_TXT,
)

MEMBER_SITE_NAME = "中铝中州铝业有限公司"
MEMBER_SHORT_NAME = "中州铝业"
MEMBER_HOST = "zzly.chinalco.com.cn"

MEMBER_ROBOTS_TXT = """# robots.txt for zzly.chinalco.com.cn
User-agent: *
Disallow: /search/
Disallow: /xwzx/gsyw/nbzl/
Disallow: /wcm/
"""

MEMBER = Chrome(
    site_name=MEMBER_SITE_NAME,
    news_root="xwzx/",
    menu=(
        ("", "首页", ()),
        ("zjzz/", "走进中州", (("zjzz/gsjj/", "公司简介"), ("zjzz/zzjg/", "组织机构"))),
        ("xwzx/", "新闻中心", ()),
        ("djgz/", "党建工作", ()),
        ("lxwm/", "联系我们", ()),
    ),
    footer_links=(
        ("http://www.chinalco.com.cn/", "中国铝业集团有限公司"),
        ("http://www.chalco.com.cn/", "中国铝业股份有限公司"),
        ("lxwm/", "联系我们"),
        ("zjzz/gsjj/", "公司简介"),
    ),
    footer_lines=(
        f"版权所有 {MEMBER_SITE_NAME} 豫ICP备05008673号-1",
        "地址：河南省焦作市修武县 技术支持：中铝信息科技有限公司",
    ),
    logo_h1=True,
    keywords="中州铝业,氧化铝,中铝",
    robots=MEMBER_ROBOTS_TXT,
)


@dataclass(frozen=True)
class ListItem:
    """One <li> of a list as written on a given page."""

    href: str
    title: str
    date: str


def esc(text: str) -> str:
    return escape(text, quote=False)


def attr(text: str) -> str:
    return escape(text, quote=True)


def head(
    title: str, root: str, charset: str = "utf-8", metas: Sequence[tuple[str, str]] = ()
) -> str:
    meta_tags = "".join(f'\n<meta name="{name}" content="{attr(value)}">' for name, value in metas)
    return (
        f'<!DOCTYPE html>\n<html lang="zh-CN">\n<head>\n<meta charset="{charset}">\n'
        f'<meta http-equiv="X-UA-Compatible" content="IE=edge">\n'
        f"<title>{esc(title)}</title>{meta_tags}\n"
        f'<link rel="stylesheet" type="text/css" href="{root}css/style.css">\n'
    )


def topbar() -> str:
    options = "".join(f'<option value="{url}">{name}</option>' for url, name in _GROUP_SITES)
    return (
        '<div class="topbar"><div class="w1200"><span class="group-name">中铝网站群</span>'
        f'<select class="group-select" onchange="if(this.value)window.open(this.value)">'
        f'<option value="">请选择</option>{options}</select></div></div>\n'
    )


def nav(
    root: str,
    news_children: Iterable[tuple[str, str]],
    current: str = "",
    chrome: Chrome = CHALCO,
) -> str:
    """The main menu; children of 新闻动态 are nested <li>s, which is how the crawler finds them."""
    news = "".join(
        f'<li><a href="{root}{path}/">{esc(name)}</a></li>' for path, name in news_children
    )
    items = [
        (
            path,
            name,
            news
            if path == chrome.news_root
            else "".join(f'<li><a href="{root}{href}">{esc(text)}</a></li>' for href, text in kids),
        )
        for path, name, kids in chrome.menu
    ]
    out = ['<div class="nav"><div class="w1200"><ul class="menu">']
    for path, name, children in items:
        on = ' class="on"' if current and path == current else ""
        sub = f'<ul class="sub">{children}</ul>' if children else ""
        out.append(f'<li{on}><a href="{root}{path}">{esc(name)}</a>{sub}</li>')
    out.append("</ul></div></div>\n")
    return "".join(out)


def header(root: str, chrome: Chrome = CHALCO, logo_h1: bool | None = None) -> str:
    """The logo and search box; some templates put the logo and site name in an <h1>."""
    if chrome.logo_h1 if logo_h1 is None else logo_h1:
        logo = (
            f'<h1 class="logo"><a href="{root}"><img src="{root}images/logo.png" '
            f'alt="{chrome.site_name}">{esc(chrome.site_name)}</a></h1>'
        )
    else:
        logo = (
            f'<a class="logo" href="{root}">'
            f'<img src="{root}images/logo.png" alt="{chrome.site_name}"></a>'
        )
    return (
        f'<div class="header"><div class="w1200">{logo}'
        f'<form class="search" action="{root}search/" method="get">'
        '<input type="text" name="searchword" placeholder="请输入关键字">'
        '<button type="submit">搜索</button></form></div></div>\n'
    )


def footer(root: str, chrome: Chrome = CHALCO) -> str:
    links = "|".join(
        f'<a href="{href}" target="_blank">{esc(name)}</a>'
        if href.startswith("http")
        else f'<a href="{root}{href}">{esc(name)}</a>'
        for href, name in chrome.footer_links
    )
    lines = "".join(f"<p>{esc(line)}</p>\n" for line in chrome.footer_lines)
    return (
        '<div class="footer"><div class="w1200">\n'
        f'<div class="footer-links">{links}</div>\n{lines}'
        "</div></div>\n"
    )


def list_items(items: Iterable[ListItem], cut: int, ellipsis: str) -> str:
    lines = []
    for item in items:
        shown = item.title if len(item.title) <= cut else item.title[: cut - 1] + ellipsis
        lines.append(
            f'<li><a href="{attr(item.href)}" title="{attr(item.title)}" target="_blank">'
            f"{esc(shown)}</a><span>{item.date}</span></li>"
        )
    return "\n".join(lines)


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


def error_page(status: int, message: str) -> str:
    return (
        f'<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>{status} {esc(message)}</title>'
        f"</head>\n<body><h1>{status}</h1><p>{esc(message)}</p></body></html>\n"
    )
