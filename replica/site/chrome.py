"""The furniture every page of the replica shares: one site's name, menu, header and footer
(`Chrome`, for chalco.com.cn and a member site), the stylesheet, robots.txt, list items and
the error page."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from html import escape

SITE_NAME = "中国铝业股份有限公司"

# The site-group bar is a <select>, as on the live site: member sites are not <a> links.
_GROUP_SITES = (
    ("http://www.chinalco.com.cn/", "中国铝业集团有限公司"),
    ("http://lzly.chinalco.com.cn/", "兰州铝业"),
    ("http://zzly.chinalco.com.cn/", "中州铝业"),
    ("http://ylgf.chinalco.com.cn/", "云铝股份"),
    ("http://zlky.chinalco.com.cn/", "中铝矿业"),
    ("http://www.sx.chalco.com.cn/", "山西新材料"),
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


def error_page(status: int, message: str) -> str:
    return (
        f'<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>{status} {esc(message)}</title>'
        f"</head>\n<body><h1>{status}</h1><p>{esc(message)}</p></body></html>\n"
    )
