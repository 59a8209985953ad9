"""A hostile little TRS site for the hardening tests.

`FaultServer` serves a small site in the chalco.com.cn layout (SITE.md) whose 公司要闻 list
links good articles side by side with every fault a crawler meets on the open web:
connection resets, truncated bodies, trickling responses, 429/503 with Retry-After, a gzip
bomb, redirect loops and off-host redirects, an endless pager, broken HTML, NUL bytes, lying
charsets, an empty 200, a huge attachment, hostile attachment names, a docid under two URLs
and a page that always fails. A crawl of it must finish, archive every good article exactly
as `good_articles` says, and record every fault as a failure rather than crash.

    with FaultServer(bomb_size=4 << 20) as server:
        crawl(server.base_url)
        server.cases["reset"].path, server.good_articles, server.requests

Standard library only (plus the replica's small PDF writer). Run it by hand with
`python -m replica.faults --port 8001`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import re
import socket
import struct
import threading
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

from replica import challenges, media
from replica.background import BackgroundServer

SITE_NAME = "中国铝业股份有限公司"
GSYW = "xwdt/gsyw"
GGDT = "xwdt/ggdt"
ENDLESS = "xwdt/endless"
NEWS_CHILDREN = ((GSYW, "公司要闻"), (GGDT, "高管动态"), (ENDLESS, "无尽列表"))
CHANNEL_NAMES = dict(NEWS_CHILDREN)
GSYW_PAGES = 2
ENDLESS_CLAIMED_PAGES = 100_000
"""The page count the endless list's pager claims; every index_N.html answers anyway."""
ENDLESS_ITEMS = 3
PRIVATE_DIR = f"/{GSYW}/private/"
OFFHOST_NAME = "localhost"
"""Another name of this same server; a crawler confined to 127.0.0.1 never sends it."""
MIRROR_URL = "http://mirror.example.invalid/x.html"
LOOP_A = "/loop/a"
LOOP_B = "/loop/b"
DUPLICATE_DOCID = 999001
HUGE_CHUNK = 64 * 1024


def robots_txt(crawl_delay: float | None = 1) -> str:
    """The site's robots.txt: a Crawl-delay (omitted when None) and a Disallow rule."""
    delay = f"Crawl-delay: {crawl_delay:g}\n" if crawl_delay is not None else ""
    return (
        "# robots.txt of the fault replica\n"
        f"User-agent: *\n{delay}Disallow: {PRIVATE_DIR}\nDisallow: /cgi-bin/\n"
    )


_PAGER_SOURCE = Path(__file__).parent / "data" / "createPageHTML.js"
_PAGER_JS = (
    '<script type="text/javascript">\n'
    + (_PAGER_SOURCE.read_text(encoding="utf-8") if _PAGER_SOURCE.exists() else "")
    + "</script>\n"
)
_ENDLESS_TARGET = re.compile(rf"^/{ENDLESS}/(?:index(?:_(\d+))?\.html)?$")
_ARTICLE_PAGE = re.compile(r"/t\d{8}_\d+\.html$")
_CHALLENGE_TITLES = {
    "challenge_412": "中铝股份召开2026年市场营销工作会议",
    "challenge_202": "中铝股份召开2026年采购管理工作会议",
    "challenge_captcha": "中铝股份召开2026年质量管理工作会议",
    "challenge_login": "中铝股份召开2026年保密工作会议",
}


@dataclass(frozen=True)
class FaultCase:
    """One hostile case: where it is and what a well-behaved crawler does about it."""

    name: str
    path: str
    """The path a crawler finds linked (an article URL, or the section root)."""
    description: str
    """What the server does, in a sentence."""
    expected: str
    """What a well-behaved crawler should do, in a few words."""
    good: bool = False
    """Whether an entry of `good_articles` comes from this case."""
    related: tuple[str, ...] = ()
    """Other paths or URLs involved: redirect targets, the attachment, the second URL."""


@dataclass(frozen=True)
class AttachmentTruth:
    """One attachment link of a good article."""

    url_path: str
    name: str
    """Link text as a browser shows it (the HTML spec's decoding: a literal NUL in text is
    dropped, `&#0;` becomes U+FFFD, other control characters stay). A crawler is expected
    to store it under a safe file name and keep the name as sanitized text."""
    size: int
    media_type: str
    sha256: str | None
    """Hex digest of the served bytes; None for the huge file, which is never built whole."""
    oversized: bool = False
    """Larger than any sane size limit: the crawler must refuse it and record the refusal."""


@dataclass(frozen=True)
class GoodArticle:
    """An article a correct crawler archives, with the exact fields it should extract."""

    url_path: str
    docid: int
    section: str
    """Section listing it, e.g. "xwdt/gsyw" (no slashes at the ends)."""
    title: str
    source: str | None
    published: str
    """Displayed 时间, ISO date (2026-02-05)."""
    paragraphs: tuple[str, ...]
    """Body lines as a reader sees them, whitespace-cleaned."""
    attachments: tuple[AttachmentTruth, ...] = ()
    needs_retry: bool = False
    """The first request(s) fail with 429/503 and Retry-After; only a retry gets it."""
    case: str | None = None
    """The fault case it belongs to; None for a plain article."""
    aliases: tuple[str, ...] = ()
    """Other URLs serving the same document (same docid)."""


@dataclass
class FaultRequest:
    """One request as the server saw it, logged when it arrived."""

    method: str
    path: str
    """Request target as sent, query string included."""
    host_header: str | None
    headers: dict[str, str] = field(repr=False)
    """Request headers (the last value wins when one repeats)."""
    at: dt.datetime
    """When the request arrived, UTC."""
    case: str | None = None
    """The fault case that answered it; None for ordinary pages."""
    status: int | None = None
    """Status sent; None while answering, and for a reset (no response at all)."""


@dataclass(frozen=True)
class _Doc:
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


# -- text ---------------------------------------------------------------------------------

# slug: (title, source, paragraphs)
_STORIES: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "safety": (
        "中铝股份召开2026年安全生产工作会议",
        "安全环保健康部",
        (
            "2月5日，中铝股份召开2026年安全生产工作会议，总结2025年安全生产工作，部署2026年重点任务。",
            "会议指出，2025年公司安全生产形势总体稳定，隐患排查治理和安全培训取得明显成效。",
            "会议要求，各单位要压紧压实安全生产责任，强化重大危险源管控，确保全年安全生产目标实现。",
        ),
    ),
    "strategy": (
        "中铝股份与国家电投签署战略合作协议",
        "党委宣传部",
        (
            "2月4日，中铝股份与国家电力投资集团有限公司在北京签署战略合作协议。",
            "根据协议，双方将在绿色电力供应、电解铝节能降碳、新能源材料等领域深化合作。",
            "双方表示，将以此次签约为契机，建立常态化沟通机制，推动合作项目尽快落地见效。",
        ),
    ),
    "quarterly": (
        "中铝股份召开一季度经营形势分析会",
        "企业管理部",
        (
            "2月4日，中铝股份召开一季度经营形势分析会，分析当前市场形势，研究部署下一步工作。",
            "会上，各板块负责人汇报了生产经营情况，财务部通报了主要经济指标完成情况。",
            "会议强调，要紧盯全年目标任务，抓好降本增效，全力以赴稳增长、提效益。",
        ),
    ),
    "inspection": (
        "中铝股份开展春节前安全大检查",
        "党委宣传部",
        (
            "春节将至，中铝股份组织检查组深入各生产单位开展节前安全大检查。",
            "检查组重点检查了煤气、高温熔融金属、有限空间等高风险作业的管控情况。",
            "对检查发现的问题，检查组现场反馈并督促立即整改，确保节日期间安全稳定。",
        ),
    ),
    "record": (
        "广西分公司氧化铝产量创历史新高",
        "广西分公司",
        (
            "1月份，广西分公司氧化铝产量达到历史同期最好水平，实现开门红。",
            "该公司持续开展对标管理，优化溶出和分解工艺参数，主要技术经济指标不断改善。",
            "下一步，广西分公司将巩固提升良好态势，为完成全年生产经营目标奠定坚实基础。",
        ),
    ),
    "youth": (
        "中铝股份举办青年科技创新成果发布会",
        "科技创新部",
        (
            "1月31日，中铝股份举办青年科技创新成果发布会，12项青年科技创新成果集中亮相。",
            "发布成果涵盖氧化铝低碳生产、电解槽智能控制、赤泥综合利用等方向。",
            "公司将加大对青年科技人才的培养力度，为科技创新注入新的活力。",
        ),
    ),
    "yunnan": (
        "中铝股份领导赴云南调研绿色铝产业",
        "党委宣传部",
        (
            "2月5日至6日，中铝股份主要负责人赴云南调研绿色铝产业发展情况。",
            "调研组先后来到云铝股份所属企业生产现场，详细了解绿色能源使用和产能运行情况。",
            "调研强调，要坚持绿色低碳发展方向，加快打造具有全球竞争力的绿色铝产业链。",
        ),
    ),
    "marketing": (
        "中铝股份召开2026年市场营销工作会议",
        "市场营销部",
        (
            "2月6日，中铝股份召开2026年市场营销工作会议，总结去年营销工作，部署今年重点任务。",
            "会议提出，要深入研判市场变化，优化产品结构，提升客户服务水平。",
            "会议要求，营销系统要加强协同，确保产销衔接顺畅，努力实现效益最大化。",
        ),
    ),
    "quiz": (
        "中铝股份组织开展“学习强国”知识竞赛",
        "党委宣传部",
        (
            "近日，中铝股份组织开展“学习强国”知识竞赛，来自各单位的18支代表队参加比赛。",
            "竞赛设置必答题、抢答题和风险题等环节，现场气氛热烈。",
            "通过竞赛，广大党员干部进一步加深了对党的创新理论的理解和把握。",
        ),
    ),
    "overhaul": (
        "山西新材料电解槽大修项目顺利完工",
        "山西新材料",
        (
            "近日，山西新材料电解槽大修项目顺利完工，比计划工期提前5天。",
            "项目实施过程中，项目组强化现场管理，严格落实安全措施，确保了施工质量。",
            "大修后的电解槽运行平稳，各项技术指标达到设计要求。",
            "该公司表示，将以此为契机，持续提升设备管理水平。",
        ),
    ),
    "integrity": (
        "中铝股份召开党风廉政建设工作会议",
        "纪委办公室",
        (
            "2月2日，中铝股份召开党风廉政建设工作会议，部署2026年党风廉政建设和反腐败工作。",
            "会议强调，要坚定不移推进全面从严治党，持续深化作风建设。",
            "会议要求，各级党组织要切实履行主体责任，营造风清气正的良好政治生态。",
        ),
    ),
    "refined": (
        "中州铝业精细氧化铝产品通过客户认证",
        "中州铝业",
        (
            "近日，中州铝业研发的高白氢氧化铝产品通过下游重点客户认证。",
            "该产品白度、粒度分布等指标达到国际先进水平，可替代进口产品。",
            "中州铝业将继续加大精细氧化铝研发投入，推动产品向高端化迈进。",
        ),
    ),
    "responsibility": (
        "中国铝业2025年度社会责任报告发布",
        "董事会办公室",
        (
            "中国铝业股份有限公司2025年度社会责任报告正式发布。",
            "报告全面展示了公司在绿色发展、安全生产、员工权益、乡村振兴等方面的实践与成效。",
            "报告全文请见附件。",
        ),
    ),
    "suppliers": (
        "关于公布2026年第一批合格供应商名单的公告",
        "物资采购中心",
        (
            "根据公司供应商管理有关规定，经资格审查和综合评价，现将2026年第一批合格供应商名单予以公布。",
            "名单详见附件。如有异议，请于公布之日起5个工作日内向物资采购中心反映。",
        ),
    ),
    "study": (
        "中铝股份党委理论学习中心组开展专题学习",
        "党委宣传部",
        (
            "2月4日，中铝股份党委理论学习中心组开展专题学习，围绕深化国有企业改革进行研讨。",
            "与会人员结合分管工作交流了学习体会，提出了推动改革深化提升的具体举措。",
            "会议要求，要把学习成果转化为推动公司高质量发展的实际行动。",
        ),
    ),
    "finance": (
        "中铝股份召开2026年财务工作会议",
        "财务部",
        (
            "2月6日，中铝股份召开2026年财务工作会议，总结2025年财务工作，部署2026年重点任务。",
            "会议要求，要强化资金管理，防范财务风险，持续提升财务管理精益化水平。",
        )
        + tuple(
            f"第{n}项：深化业财融合，优化资本结构，严控两金占用，推进降本增效工作落地见效。"
            for n in range(1, 13)
        ),
    ),
    "priorities": (
        "中铝股份部署一季度重点工作",
        "企业管理部",
        (
            "2月6日，中铝股份召开专题会议，部署一季度重点工作。",
            "会议要求，各单位要早谋划、早部署、早落实，确保一季度各项工作开好局、起好步。",
        ),
    ),
    "qinghai": (
        "青海分公司开展冬季设备检修",
        "青海分公司",
        (
            "入冬以来，青海分公司组织开展冬季设备集中检修。",
            "检修人员克服低温严寒，对电解系统关键设备进行全面检查和维护。",
            "此次检修为冬季安全稳定生产提供了有力保障。",
        ),
    ),
    "trap": (
        "此页只应经由另一个主机名到达",
        "测试",
        ("如果归档中出现此页，说明爬虫跟随了指向其他主机的重定向。",),
    ),
    "private": (
        "关于做好内部资料管理工作的通知",
        "办公室",
        ("此页位于 robots.txt 禁止的目录中，爬虫不应请求。",),
    ),
}

# Attachment link texts of the hostile_names case: (served markup, what a browser shows).
_HOSTILE_NAMES: tuple[tuple[str, str], ...] = (
    ("../../etc/passwd", "../../etc/passwd"),
    (
        r"..\..\windows\system32\drivers\etc\hosts.pdf",
        r"..\..\windows\system32\drivers\etc\hosts.pdf",
    ),
    ("合格供应商&#0;名单.pdf", "合格供应商\ufffd名单.pdf"),
    ("供应商\x00名单（补充）.pdf", "供应商名单（补充）.pdf"),
    ("通知\x01\x07\x1b[31m红色\x7f.pdf", "通知\x01\x07\x1b[31m红色\x7f.pdf"),
    ("供应商名单\u202efdp.exe", "供应商名单\u202efdp.exe"),
    ("..", ".."),
    ("CON", "CON"),
)
_LONG_NAME = ("2026年第一批合格供应商名单" * 40)[:496] + ".pdf"  # 500 characters


# -- rendering ----------------------------------------------------------------------------


def _esc(text: str) -> str:
    return html.escape(text, quote=False)


def _attr(text: str) -> str:
    return html.escape(text, quote=True)


def _head(title: str, charset_tag: str, metas: tuple[tuple[str, str], ...] = ()) -> str:
    meta = "".join(f'<meta name="{name}" content="{_attr(value)}">\n' for name, value in metas)
    return (
        f'<!DOCTYPE html>\n<html lang="zh-CN">\n<head>\n{charset_tag}\n'
        f"<title>{_esc(title)}_{SITE_NAME}</title>\n{meta}"
        '<link rel="stylesheet" type="text/css" href="/css/style.css">\n'
    )


def _topbar() -> str:
    return '<div class="topbar"><span class="group-name">中铝网站群</span></div>\n'


def _nav() -> str:
    children = "".join(
        f'<li><a href="/{path}/">{_esc(name)}</a></li>' for path, name in NEWS_CHILDREN
    )
    return (
        '<div class="nav"><ul class="menu"><li><a href="/">首页</a></li>'
        f'<li><a href="/xwdt/">新闻动态</a><ul class="sub">{children}</ul></li>'
        "</ul></div>\n"
    )


def _footer() -> str:
    return (
        '<div class="footer"><div class="footer-links">'
        '<a href="http://www.chinalco.com.cn/">中国铝业集团有限公司网站</a>|'
        "<span>企业简介</span>|<span>联系我们</span>|<span>法律声明</span></div>\n"
        "<p>版权所有 中国铝业股份有限公司 京ICP备05024156号-1</p></div>\n"
    )


def _charset_tag(charset: str) -> str:
    return f'<meta charset="{charset}">'


def _files_block(files: tuple[tuple[str, str], ...]) -> str:
    links = "".join(
        f'<li><a href="./{href}" target="_blank">{markup}</a></li>' for href, markup in files
    )
    return '<span class="fj-label">附件：</span>' + (f"<ul>{links}</ul>" if links else "")


def _metas(doc: _Doc) -> tuple[tuple[str, str], ...]:
    return (("ArticleTitle", doc.title), ("PubDate", doc.created), ("ContentSource", doc.source))


def _article_html(doc: _Doc, charset_tag: str = '<meta charset="utf-8">', body: str = "") -> str:
    """The chalco.com.cn article template (content-title / content-info / content-con)."""
    body = body or "\n".join(f'<p style="text-indent:2em">{_esc(p)}</p>' for p in doc.paragraphs)
    return (
        _head(doc.title, charset_tag, _metas(doc))
        + "</head>\n<body>\n"
        + _topbar()
        + _nav()
        + '<div class="content-box">\n'
        + f'<div class="channel-title">{_esc(CHANNEL_NAMES[doc.section])}</div>\n'
        + f'<div class="content-title">{_esc(doc.title)}</div>\n'
        + f'<div class="content-info"><span>来源：{_esc(doc.source)}</span>'
        + f"<span>时间：{doc.published}</span></div>\n"
        + f'<div class="content-con TRS_Editor">\n{body}\n</div>\n'
        + f'<div class="content-fj">{_files_block(doc.files)}</div>\n'
        + '<div class="content-print">【<a href="javascript:window.print()">打印本页</a>】'
        + '【<a href="javascript:window.close()">关闭窗口</a>】</div>\n'
        + "</div>\n"
        + _footer()
        + "</body>\n</html>\n"
    )


def _unclosed_html(doc: _Doc) -> str:
    """Unclosed and mis-nested tags that browsers (and lxml) still read correctly."""
    p = doc.paragraphs
    half = len(p[1]) // 2
    return (
        f"<!DOCTYPE html>\n<html lang=zh-CN>\n<head>\n<meta charset=utf-8>\n"
        f"<title>{_esc(doc.title)}_{SITE_NAME}</title>\n"
        f'<meta name=ArticleTitle content="{_attr(doc.title)}">\n'
        # no </head>, no </span>, stray closers, <p>s never closed, <b><i></b></i>
        "<body>\n"
        '<div class="topbar"><span class=group-name>中铝网站群</div>\n'
        + _nav()
        + "<div class=content-box>\n"
        f"<div class=channel-title>{_esc(CHANNEL_NAMES[doc.section])}</span></div>\n"
        f'<div class="content-title"><font color=#000>{_esc(doc.title)}</div>\n'
        f"<div class=content-info><span>来源：{_esc(doc.source)}<span>时间：{doc.published}</div>\n"
        '<div class="content-con TRS_Editor">\n'
        f'<p style="text-indent:2em">{_esc(p[0])}\n'
        f'<p style="text-indent:2em"><b>{_esc(p[1][:half])}<i>{_esc(p[1][half:])}</b></i>\n'
        f"<p style=text-indent:2em><font face=仿宋>{_esc(p[2])}\n"
        f"<p>{_esc(p[3])}</font></p></p></p></td></tr>\n"
        "</div>\n"
        '<div class="content-fj"><span class="fj-label">附件：</span>\n'
        "</div>\n" + _footer()
        # no </body>, no </html>
    )


def _nul_html(doc: _Doc) -> bytes:
    """A normal page with NUL bytes in body text and between tags (never in <head>, where
    a browser would turn them into U+FFFD or end the head early)."""
    page = _article_html(doc)
    title = f'<div class="content-title">{_esc(doc.title)}</div>'
    cut = len(doc.title) // 2
    page = page.replace(
        title,
        f'<div class="content-title">{_esc(doc.title[:cut])}\x00{_esc(doc.title[cut:])}</div>',
    )
    page = page.replace(f"来源：{_esc(doc.source)}", f"来源：\x00{_esc(doc.source)}")
    for text in doc.paragraphs:
        at = len(text) // 3
        page = page.replace(
            _esc(text) + "</p>", _esc(text[:at]) + "\x00" + _esc(text[at:]) + "</p>"
        )
    page = page.replace("</p>\n", "</p>\x00\x00\n").replace("<body>\n", "<body>\n" + "\x00" * 64)
    return page.encode("utf-8")


def _list_html(section: str, items: list[tuple[str, str, str]], pager: str) -> str:
    """A TRS list page; items are (href, title, date), hrefs as written."""
    name = CHANNEL_NAMES[section]
    lines = "\n".join(
        f'<li><a href="{_attr(href)}" title="{_attr(title)}" target="_blank">{_esc(title)}</a>'
        f"<span>{date}</span></li>"
        for href, title, date in items
    )
    return (
        _head(name, _charset_tag("utf-8"), (("ColumnName", name), ("SiteName", SITE_NAME)))
        + (_PAGER_JS if "createPageHTML" in pager else "")
        + "</head>\n<body>\n"
        + _topbar()
        + _nav()
        + f'<div class="position">当前位置：<a href="/">首页</a> &gt; <a href="../">新闻动态</a>'
        f' &gt; <a href="./">{_esc(name)}</a></div>\n'
        + f'<div class="list-box"><div class="list-title">{_esc(name)}</div>\n'
        + f'<ul class="list">\n{lines}\n</ul>\n<div class="page">{pager}</div>\n</div>\n'
        + _footer()
        + "</body>\n</html>\n"
    )


def _pager(pages: int, current: int) -> str:
    return (
        '<script type="text/javascript">'
        f'createPageHTML({pages}, {current}, "index", "html");</script>'
    )


def _plain_page(title: str, text: str) -> str:
    return (
        _head(title, _charset_tag("utf-8"))
        + "</head>\n<body>\n"
        + _topbar()
        + _nav()
        + f'<div class="content-box"><h2>{_esc(title)}</h2><p>{_esc(text)}</p></div>\n'
        + _footer()
        + "</body>\n</html>\n"
    )


def _pdf(title: str, label: str) -> bytes:
    return media.pdf(title, ["chalco fault replica", label])


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# -- the server ---------------------------------------------------------------------------

_Route = Callable[["_Handler", bool], int | None]
"""Answers one request (head: headers only); returns the status sent, None for no response."""


class FaultServer(BackgroundServer):
    """Serves the fault site from a ThreadingHTTPServer in a daemon thread (context manager).

    bomb_size: decoded size of the gzip bomb (its wire size is about a thousandth of it).
    huge_size: size of the huge attachment, streamed in chunks, never built in memory.
    slow_interval / slow_seconds: the trickling page sends one byte per interval, and gives
    up (closing the connection short) after slow_seconds.
    crawl_delay: the robots.txt Crawl-delay (None leaves the line out). A crawler honouring
    1 s needs a minute or more for the whole site; a crawl test may lower it.
    """

    thread_name = "fault-http"

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        bomb_size: int = 50 * 1024 * 1024,
        huge_size: int = 30 * 1024 * 1024,
        slow_interval: float = 1.0,
        slow_seconds: float = 120.0,
        crawl_delay: float | None = 1,
    ) -> None:
        super().__init__(host, port)
        self.bomb_size = bomb_size
        self.huge_size = huge_size
        self.slow_interval = slow_interval
        self.slow_seconds = slow_seconds
        self.crawl_delay = crawl_delay
        self.requests: list[FaultRequest] = []
        self.cases: dict[str, FaultCase] = {}
        self.good_articles: list[GoodArticle] = []
        self._lock = threading.Lock()
        self._hits: dict[str, int] = {}
        self._bomb_lock = threading.Lock()
        self._bomb: bytes | None = None
        self._stopping = threading.Event()
        self._routes: dict[str, tuple[str | None, _Route]] = {}
        self._listings: dict[str, list[tuple[str, str, str, int]]] = {GSYW: [], GGDT: []}
        self._endless_items: list[tuple[str, str, str]] = []
        self.challenge_articles: int | None = None
        """When set (412, 404 or 200), every article page answers that status with a
        challenge page instead, as when a WAF is switched on between two crawls: a 412 with
        a script-only body, any other status with a captcha."""
        self._build()

    # -- lifecycle

    @property
    def offhost_base_url(self) -> str:
        """The same server under another host name (`localhost`)."""
        return f"http://{OFFHOST_NAME}:{self.port}/"

    def make_server(self) -> _HTTPServer:
        self._stopping.clear()
        httpd = _HTTPServer((self.host, self.port), _Handler)
        httpd.faults = self
        return httpd

    def before_stop(self) -> None:
        self._stopping.set()  # ends trickles and streams in their handler threads

    # -- the log

    def reset(self) -> None:
        """Forget the request log and the retry counters (429/503 fail again)."""
        with self._lock:
            self.requests.clear()
            self._hits.clear()

    def requests_for(self, path: str) -> list[FaultRequest]:
        """Requests whose target's path is `path` (origin-form or absolute-form)."""
        with self._lock:
            return [r for r in self.requests if _path_of(r.path) == path]

    def hosts_seen(self) -> set[str | None]:
        with self._lock:
            return {r.host_header for r in self.requests}

    def good(self, case: str) -> GoodArticle:
        """The good article of a case (retry_after_429, malformed_unclosed …)."""
        for article in self.good_articles:
            if article.case == case:
                return article
        raise KeyError(case)

    # -- building the site

    def _build(self) -> None:
        def doc(slug: str, section: str, day: int, docid: int, lag: int = 0) -> _Doc:
            title, source, paragraphs = _STORIES[slug]
            return _Doc(
                path=f"/{section}/202602/t202602{day:02d}_{docid}.html",
                docid=docid,
                section=section,
                title=title,
                source=source,
                published=f"2026-02-{day - lag:02d}",
                created=f"2026-02-{day:02d} 09:{docid % 60:02d}:00",
                paragraphs=paragraphs,
            )

        def docid(day: int, k: int) -> int:
            return 900_000 + day * 100 + k

        # Plain good articles: six in 公司要闻 (two with PDFs), one in 高管动态.
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
            d = doc(slug, section, day, docid(day, k), lag)
            files = [self._add_pdf(d, i, name, d.title) for i, name in enumerate(names)]
            d = _replace_files(d, [(href, _esc(t.name)) for href, t in files])
            self._add_article(d)
            self.good_articles.append(_good(d, [truth for _, truth in files]))

        self._build_connection_faults(doc, docid)
        self._build_retry_cases(doc, docid)
        self._build_redirects(doc, docid)
        self._build_content_faults(doc, docid)
        self._build_attachment_cases(doc, docid)
        self._build_challenge_cases(docid)
        self._build_lists()

    def _add_article(self, d: _Doc, listed: bool = True, data: bytes | None = None) -> None:
        body = data if data is not None else _article_html(d).encode("utf-8")
        self._routes[d.path] = (None, self._static(200, "text/html; charset=utf-8", body))
        if listed:
            self._list(d.section, d.path, d.title, d.published, d.docid)

    def _list(self, section: str, path: str, title: str, date: str, docid: int) -> None:
        self._listings[section].append((path, title, date, docid))

    def _case(self, case: FaultCase, route: _Route, listed: tuple[str, str, int] | None) -> None:
        """Register a case; listed = (title, date, docid) of its 公司要闻 list item."""
        self.cases[case.name] = case
        self._routes[case.path] = (case.name, route)
        if listed is not None:
            title, date, number = listed
            self._list(GSYW, case.path, title, date, number)

    def _add_pdf(self, d: _Doc, index: int, name: str, title: str) -> tuple[str, AttachmentTruth]:
        """Serve a small PDF beside the article; returns (href relative to it, truth)."""
        file_name = f"P0{d.path.rsplit('_', 1)[0][-8:]}{d.docid}{index:03d}.pdf"
        path = d.path.rsplit("/", 1)[0] + "/" + file_name
        payload = _pdf(title, f"{d.docid}-{index}")
        self._routes[path] = (None, self._static(200, "application/pdf", payload))
        truth = AttachmentTruth(path, name, len(payload), "application/pdf", _sha(payload))
        return file_name, truth

    def _build_connection_faults(
        self, doc: Callable[..., _Doc], docid: Callable[[int, int], int]
    ) -> None:
        n = docid(7, 11)
        path = f"/{GSYW}/202602/t20260207_{n}.html"
        self._case(
            FaultCase(
                "reset",
                path,
                "reads the request, then closes the socket with SO_LINGER 0: a TCP reset, "
                "no response",
                "download error recorded (connection reset); crawl goes on",
            ),
            self._reset,
            ("中铝股份召开2026年审计工作会议", "2026-02-07", n),
        )

        short = doc("finance", GSYW, 7, docid(7, 12))
        page = _article_html(short).encode("utf-8")
        self._case(
            FaultCase(
                "short_body",
                short.path,
                "200 with Content-Length 5000, sends the first 1000 bytes of a valid page, "
                "then closes",
                "data loss detected; not archived as a good page; failure recorded",
            ),
            self._short_body(page),
            (short.title, short.published, short.docid),
        )

        slow = doc("priorities", GSYW, 6, docid(6, 13))
        self._case(
            FaultCase(
                "slow",
                slow.path,
                "headers at once, then one byte of the page per slow_interval (1 s) for "
                "slow_seconds (120 s), then closes short",
                "cut by DOWNLOAD_TIMEOUT; failure recorded",
            ),
            self._slow(_article_html(slow).encode("utf-8")),
            (slow.title, slow.published, slow.docid),
        )

        n = docid(3, 27)
        path = f"/{GSYW}/202602/t20260203_{n}.html"
        self._case(
            FaultCase(
                "server_error_always",
                path,
                "answers 500 to every request",
                "retried RETRY_TIMES, then given up and recorded as a failure; no crash",
            ),
            self._static(500, "text/html; charset=utf-8", _error_page(500)),
            ("中铝股份召开2026年党建工作会议", "2026-02-03", n),
        )

    def _build_retry_cases(
        self, doc: Callable[..., _Doc], docid: Callable[[int, int], int]
    ) -> None:
        for name, slug, day, k, status, times, wait in (
            ("retry_after_429", "marketing", 6, 14, 429, 2, 2),
            ("retry_after_503", "quiz", 5, 15, 503, 1, 1),
        ):
            d = doc(slug, GSYW, day, docid(day, k))
            page = _article_html(d).encode("utf-8")
            self._case(
                FaultCase(
                    name,
                    d.path,
                    f"the first {times} request(s) answer {status} with Retry-After: {wait}, "
                    "then 200 with a good page",
                    "retried after Retry-After, archived",
                    good=True,
                ),
                self._retry_after(d.path, status, times, wait, page),
                (d.title, d.published, d.docid),
            )
            self.good_articles.append(_good(d, [], needs_retry=True, case=name))

    def _build_redirects(self, doc: Callable[..., _Doc], docid: Callable[[int, int], int]) -> None:
        n = docid(4, 17)
        path = f"/{GSYW}/202602/t20260204_{n}.html"
        self._case(
            FaultCase(
                "redirect_loop",
                path,
                f"302 to {LOOP_A}; {LOOP_A} 302 to {LOOP_B}; {LOOP_B} 302 back to {LOOP_A}",
                "loop or redirect limit detected; failure recorded",
                related=(LOOP_A, LOOP_B),
            ),
            self._redirect(302, lambda: LOOP_A),
            ("中铝股份召开2026年人才工作会议", "2026-02-04", n),
        )
        self._routes[LOOP_A] = ("redirect_loop", self._redirect(302, lambda: LOOP_B))
        self._routes[LOOP_B] = ("redirect_loop", self._redirect(302, lambda: LOOP_A))

        trap = doc("trap", GSYW, 4, docid(4, 38))
        self._add_article(trap, listed=False)
        n = docid(4, 18)
        path = f"/{GSYW}/202602/t20260204_{n}.html"
        self._case(
            FaultCase(
                "redirect_offhost",
                path,
                f"301 to http://{OFFHOST_NAME}:<port>{trap.path}: the same server under "
                "another host name (the Host header tells whether a crawler followed it)",
                f"redirect not followed; no request with Host {OFFHOST_NAME}",
                related=(trap.path,),
            ),
            self._redirect(301, lambda: self.offhost_base_url.rstrip("/") + trap.path),
            ("中铝股份召开2026年科技工作会议", "2026-02-04", n),
        )
        n = docid(3, 19)
        path = f"/{GSYW}/202602/t20260203_{n}.html"
        self._case(
            FaultCase(
                "redirect_offhost_mirror",
                path,
                f"301 to {MIRROR_URL} (a spam mirror on an unresolvable host)",
                "redirect not followed; mirror never contacted",
                related=(MIRROR_URL,),
            ),
            self._redirect(301, lambda: MIRROR_URL),
            ("中铝股份召开2026年法治工作会议", "2026-02-03", n),
        )

        disallowed = doc("private", GSYW, 4, docid(4, 28))
        disallowed = _Doc(
            **{**disallowed.__dict__, "path": f"{PRIVATE_DIR}t20260204_{disallowed.docid}.html"}
        )
        self._case(
            FaultCase(
                "robots_disallowed",
                disallowed.path,
                "listed in 公司要闻 but under a robots.txt Disallow rule (served 200 anyway)",
                "never requested (robots.txt obeyed)",
            ),
            self._static(200, "text/html; charset=utf-8", _article_html(disallowed).encode()),
            (disallowed.title, disallowed.published, disallowed.docid),
        )

    def _build_content_faults(
        self, doc: Callable[..., _Doc], docid: Callable[[int, int], int]
    ) -> None:
        html_type = "text/html; charset=utf-8"
        n = docid(5, 16)
        path = f"/{GSYW}/202602/t20260205_{n}.html"
        self._case(
            FaultCase(
                "gzip_bomb",
                path,
                "200, Content-Encoding: gzip, text/html: an HTML prefix and NUL bytes "
                "decoding to bomb_size bytes (50 MiB) from about a thousandth on the wire",
                "decompression stopped at the size limit; refused and recorded; memory bounded",
            ),
            self._gzip_bomb,
            ("中铝股份召开2026年信息化工作会议", "2026-02-05", n),
        )

        d = doc("overhaul", GSYW, 3, docid(3, 20))
        self._case(
            FaultCase(
                "malformed_unclosed",
                d.path,
                "unclosed <p>/<span>/<font>, <b><i></b></i>, stray closers, no </head>, "
                "</body>, </html>; title, 来源, 时间 and body still readable",
                "archived with title, source, time and body",
                good=True,
            ),
            self._static(200, html_type, _unclosed_html(d).encode("utf-8")),
            (d.title, d.published, d.docid),
        )
        self.good_articles.append(_good(d, [], case="malformed_unclosed"))

        d = doc("integrity", GSYW, 2, docid(2, 21))
        self._case(
            FaultCase(
                "malformed_nul",
                d.path,
                "NUL bytes inside the title, 来源 and paragraph text and between tags "
                "(body only); browsers drop them",
                "NULs dropped; archived with clean fields",
                good=True,
            ),
            self._static(200, html_type, _nul_html(d)),
            (d.title, d.published, d.docid),
        )
        self.good_articles.append(_good(d, [], case="malformed_nul"))

        d = doc("qinghai", GSYW, 2, docid(2, 22))
        self._case(
            FaultCase(
                "wrong_charset",
                d.path,
                "HTTP header and <meta> say UTF-8, the bytes are GB18030",
                "archived and flagged (undecodable); no crash",
            ),
            self._static(200, html_type, _article_html(d).encode("gb18030")),
            (d.title, d.published, d.docid),
        )

        d = doc("refined", GSYW, 1, docid(1, 23))
        tag = '<meta http-equiv="Content-Type" content="text/html; charset=gb2312">'
        self._case(
            FaultCase(
                "mixed_charset",
                d.path,
                "<meta> says gb2312, the HTTP header says utf-8, the body is UTF-8",
                "HTTP charset wins (as in browsers): decoded as UTF-8, archived",
                good=True,
            ),
            self._static(200, html_type, _article_html(d, charset_tag=tag).encode("utf-8")),
            (d.title, d.published, d.docid),
        )
        self.good_articles.append(_good(d, [], case="mixed_charset"))

        n = docid(1, 24)
        path = f"/{GSYW}/202602/t20260201_{n}.html"
        self._case(
            FaultCase(
                "empty_200",
                path,
                "200, text/html, Content-Length: 0",
                "recorded as an empty page (flagged or failed); no crash",
            ),
            self._static(200, html_type, b""),
            ("中铝股份召开2026年宣传思想工作会议", "2026-02-01", n),
        )

        # The endless list: a section of its own, linked from the home page's navigation.
        self.cases["endless_list"] = FaultCase(
            "endless_list",
            f"/{ENDLESS}/",
            f"every index_N.html answers 200 with the same {ENDLESS_ITEMS} items (good "
            f"articles listed in 公司要闻), the pager claiming createPageHTML("
            f"{ENDLESS_CLAIMED_PAGES}, N, ...)",
            "list pages capped; crawl ends",
        )

    def _build_attachment_cases(
        self, doc: Callable[..., _Doc], docid: Callable[[int, int], int]
    ) -> None:
        # A good article whose attachment is far above any size limit.
        d = doc("responsibility", GSYW, 7, docid(7, 25))
        name = "中国铝业2025年度社会责任报告.pdf"
        file_name = f"P020260207{d.docid}000.pdf"
        huge_path = f"/{GSYW}/202602/{file_name}"
        d = _replace_files(d, [(file_name, _esc(name))])
        self._add_article(d)
        self._routes[huge_path] = ("huge_attachment", self._huge)
        self.cases["huge_attachment"] = FaultCase(
            "huge_attachment",
            d.path,
            "a good article whose 附件 links a PDF of huge_size bytes (30 MiB), streamed",
            "article archived; attachment refused by the size limit, refusal recorded",
            good=True,
            related=(huge_path,),
        )
        huge = AttachmentTruth(
            huge_path, name, self.huge_size, "application/pdf", None, oversized=True
        )
        self.good_articles.append(_good(d, [huge], case="huge_attachment"))

        # A good article whose attachment names are hostile; the hrefs are plain.
        d = doc("suppliers", GSYW, 6, docid(6, 26))
        links, truths = [], []
        for index, (markup, shown) in enumerate((*_HOSTILE_NAMES, (_LONG_NAME, _LONG_NAME))):
            href, truth = self._add_pdf(d, index, shown, "合格供应商名单")
            links.append((href, _hostile_markup(markup)))
            truths.append(truth)
        d = _replace_files(d, links)
        self._add_article(d)
        self.cases["hostile_names"] = FaultCase(
            "hostile_names",
            d.path,
            "a good article whose attachment link texts are ../../etc/passwd, a Windows path, "
            "NULs (&#0; and literal), control characters, U+202E, '..', 'CON' and a "
            "500-character name; the hrefs are plain ./P0….pdf",
            "article archived; files stored under safe names; names kept as sanitized text",
            good=True,
            related=tuple(t.url_path for t in truths),
        )
        self.good_articles.append(_good(d, truths, case="hostile_names"))

        # One document (one docid) under two URLs in two channels, same content.
        d = doc("study", GSYW, 5, DUPLICATE_DOCID)
        other = _Doc(**{**d.__dict__, "path": d.path.replace(f"/{GSYW}/", f"/{GGDT}/")})
        self._add_article(d)
        self._routes[other.path] = (
            None,
            self._static(200, "text/html; charset=utf-8", _article_html(other).encode("utf-8")),
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
        self.good_articles.append(_good(d, [], case="duplicate_docid", aliases=(other.path,)))

    def _build_challenge_cases(self, docid: Callable[[int, int], int]) -> None:
        """Listed articles answered by a challenge page instead of content (SITE.md does not
        say the site has a WAF; sites of the group may put one in front at any time)."""
        html_type = "text/html; charset=utf-8"
        for name, day, k, status, body, description in (
            (
                "challenge_412",
                8,
                31,
                412,
                challenges.script_only_page("412"),
                "412 with a script-only body (a token, scripts that set a cookie and reload)",
            ),
            (
                "challenge_202",
                8,
                32,
                202,
                challenges.script_only_page("202"),
                "202 with a script-only body",
            ),
            (
                "challenge_captcha",
                8,
                33,
                200,
                challenges.captcha_page("captcha"),
                "200 with a slider captcha page instead of the article",
            ),
            (
                "challenge_login",
                8,
                34,
                200,
                challenges.login_page(),
                "200 with a login form instead of the article",
            ),
        ):
            n = docid(day, k)
            self._case(
                FaultCase(
                    name,
                    f"/{GSYW}/202602/t202602{day:02d}_{n}.html",
                    description,
                    "archived as a capture only, not as an article; the crawl ends saying the"
                    " site answered with challenge pages (exit 6)",
                ),
                self._static(status, html_type, body),
                (_CHALLENGE_TITLES[name], f"2026-02-{day:02d}", n),
            )

    def _build_lists(self) -> None:
        gsyw = sorted(self._listings[GSYW], key=lambda item: (item[2], item[3]), reverse=True)
        per_page = -(-len(gsyw) // GSYW_PAGES)
        for page in range(GSYW_PAGES):
            chunk = gsyw[page * per_page : (page + 1) * per_page]
            body = _list_html(GSYW, _relative(GSYW, chunk), _pager(GSYW_PAGES, page))
            route = self._static(200, "text/html; charset=utf-8", body.encode("utf-8"))
            self._routes[_list_path(GSYW, page)] = (None, route)

        ggdt = sorted(self._listings[GGDT], key=lambda item: (item[2], item[3]), reverse=True)
        body = _list_html(GGDT, _relative(GGDT, ggdt), "")
        self._routes[f"/{GGDT}/"] = (
            None,
            self._static(200, "text/html; charset=utf-8", body.encode()),
        )

        plain = [a for a in self.good_articles if a.case is None and a.section == GSYW]
        self._endless_items = [
            ("../" + a.url_path.removeprefix("/xwdt/"), a.title, a.published)
            for a in plain[:ENDLESS_ITEMS]
        ]

        recent = "\n".join(
            f'<li><a href="{a.url_path}" title="{_attr(a.title)}">{_esc(a.title)}</a>'
            f"<span>{a.published}</span></li>"
            for a in plain[:3]
        )
        home = (
            _head("首页", _charset_tag("utf-8"))
            + "</head>\n<body>\n"
            + _topbar()
            + _nav()
            + f'<div class="home-news"><h3>新闻动态</h3><ul>\n{recent}\n</ul></div>\n'
            + _footer()
            + "</body>\n</html>\n"
        )
        html_type = "text/html; charset=utf-8"
        self._routes["/"] = (None, self._static(200, html_type, home.encode("utf-8")))
        children = "".join(
            f'<li><a href="/{path}/">{_esc(name)}</a></li>' for path, name in NEWS_CHILDREN
        )
        parent = _plain_page("新闻动态", "").replace("<p></p>", f'<ul class="list">{children}</ul>')
        self._routes["/xwdt/"] = (None, self._static(200, html_type, parent.encode("utf-8")))
        self._routes["/robots.txt"] = (
            None,
            self._static(
                200, "text/plain; charset=utf-8", robots_txt(self.crawl_delay).encode("utf-8")
            ),
        )

    # -- answering

    def _handle(self, handler: _Handler, head: bool) -> None:
        target = handler.path
        path = _path_of(target)
        host = handler.headers.get("Host")
        name, route = self._lookup(path)
        entry = FaultRequest(
            handler.command,
            target,
            host,
            dict(handler.headers.items()),
            dt.datetime.now(dt.UTC),
            case=name,
        )
        with self._lock:
            self.requests.append(entry)
        # _send notes the status before the response goes out, so the log is complete by
        # the time a client has read the answer.
        handler.log_entry = entry
        route(handler, head)

    def _lookup(self, path: str) -> tuple[str | None, _Route]:
        if path.endswith("/index.html"):
            path = path.removesuffix("index.html")
        blocked = self.challenge_articles
        if blocked is not None and _ARTICLE_PAGE.search(path):
            page = (
                challenges.script_only_page(path)
                if blocked == 412
                else challenges.captcha_page(path)
            )
            return "challenge_articles", self._static(blocked, "text/html; charset=utf-8", page)
        found = self._routes.get(path)
        if found is not None:
            return found
        match = _ENDLESS_TARGET.match(path)
        if match:
            return "endless_list", self._endless(int(match.group(1) or 0))
        return None, self._static(404, "text/html; charset=utf-8", _error_page(404))

    def _hit(self, path: str) -> int:
        with self._lock:
            self._hits[path] = self._hits.get(path, 0) + 1
            return self._hits[path]

    @staticmethod
    def _send(
        handler: _Handler,
        status: int,
        headers: dict[str, str],
        body: bytes,
        head: bool,
        close: bool = False,
    ) -> int:
        if handler.log_entry is not None:
            handler.log_entry.status = status
        handler.send_response(status)
        for name, value in headers.items():
            handler.send_header(name, value)
        if "Content-Length" not in headers:
            handler.send_header("Content-Length", str(len(body)))
        if close:
            handler.send_header("Connection", "close")
            handler.close_connection = True
        handler.end_headers()
        if not head and body:
            handler.wfile.write(body)
        return status

    def _static(self, status: int, content_type: str, body: bytes) -> _Route:
        def route(handler: _Handler, head: bool) -> int:
            return self._send(handler, status, {"Content-Type": content_type}, body, head)

        return route

    def _endless(self, page: int) -> _Route:
        body = _list_html(ENDLESS, self._endless_items, _pager(ENDLESS_CLAIMED_PAGES, page))
        return self._static(200, "text/html; charset=utf-8", body.encode("utf-8"))

    def _reset(self, handler: _Handler, head: bool) -> None:
        # The request is read; now abort: SO_LINGER on with a zero timeout makes close()
        # send RST instead of FIN. The socket really closes when the handler lets go of
        # its file objects, just after this returns.
        sock = handler.connection
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        handler.close_connection = True
        sock.close()
        return None

    def _short_body(self, page: bytes) -> _Route:
        def route(handler: _Handler, head: bool) -> int:
            headers = {"Content-Type": "text/html; charset=utf-8", "Content-Length": "5000"}
            return self._send(handler, 200, headers, page[:1000], head, close=True)

        return route

    def _slow(self, page: bytes) -> _Route:
        def route(handler: _Handler, head: bool) -> int:
            # Content-Length is the whole page: a client cannot mistake the cut for the end.
            headers = {"Content-Type": "text/html; charset=utf-8", "Content-Length": str(len(page))}
            self._send(handler, 200, headers, b"", head=True, close=True)
            if head:
                return 200
            sent, limit = 0, min(len(page), int(self.slow_seconds / self.slow_interval))
            try:
                while sent < limit and not self._stopping.wait(self.slow_interval):
                    handler.wfile.write(page[sent : sent + 1])
                    sent += 1
            except OSError:
                pass  # the client gave up, as it should
            return 200

        return route

    def _retry_after(self, path: str, status: int, times: int, wait: int, page: bytes) -> _Route:
        def route(handler: _Handler, head: bool) -> int:
            if self._hit(path) <= times:
                headers = {"Content-Type": "text/html; charset=utf-8", "Retry-After": str(wait)}
                return self._send(handler, status, headers, _error_page(status), head)
            return self._send(
                handler, 200, {"Content-Type": "text/html; charset=utf-8"}, page, head
            )

        return route

    def _redirect(self, status: int, location: Callable[[], str]) -> _Route:
        def route(handler: _Handler, head: bool) -> int:
            target = location()
            body = f'<html><body><a href="{_attr(target)}">moved</a></body></html>'.encode()
            headers = {"Content-Type": "text/html; charset=utf-8", "Location": target}
            return self._send(handler, status, headers, body, head)

        return route

    def bomb_bytes(self) -> bytes:
        """The gzip bomb as sent on the wire (built once, on first use)."""
        with self._bomb_lock:
            if self._bomb is None:
                self._bomb = _gzip_zeros(self.bomb_size)
            return self._bomb

    def _gzip_bomb(self, handler: _Handler, head: bool) -> int:
        headers = {"Content-Type": "text/html; charset=utf-8", "Content-Encoding": "gzip"}
        return self._send(handler, 200, headers, self.bomb_bytes(), head)

    def _huge(self, handler: _Handler, head: bool) -> int:
        headers = {"Content-Type": "application/pdf", "Content-Length": str(self.huge_size)}
        self._send(handler, 200, headers, b"", head=True)
        if head:
            return 200
        try:
            for chunk in _huge_chunks(self.huge_size):
                if self._stopping.is_set():
                    handler.close_connection = True
                    break
                handler.wfile.write(chunk)
        except OSError:
            handler.close_connection = True  # refused mid-stream, as a size limit does
        return 200


# -- helpers ------------------------------------------------------------------------------


def _path_of(target: str) -> str:
    if "://" in target:
        return urlsplit(target).path or "/"
    return target.split("?", 1)[0].split("#", 1)[0]


def _list_path(section: str, page: int) -> str:
    return f"/{section}/" if page == 0 else f"/{section}/index_{page}.html"


def _relative(section: str, items: list[tuple[str, str, str, int]]) -> list[tuple[str, str, str]]:
    prefix = f"/{section}/"
    return [
        ("./" + path.removeprefix(prefix) if path.startswith(prefix) else path, title, date)
        for path, title, date, _ in items
    ]


def _replace_files(d: _Doc, files: list[tuple[str, str]]) -> _Doc:
    return _Doc(**{**d.__dict__, "files": tuple(files)})


def _good(
    d: _Doc,
    attachments: list[AttachmentTruth],
    *,
    needs_retry: bool = False,
    case: str | None = None,
    aliases: tuple[str, ...] = (),
) -> GoodArticle:
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


def _hostile_markup(markup: str) -> str:
    # Escape what would break the markup, keep entities like &#0; and raw control bytes.
    return markup.replace("<", "&lt;").replace(">", "&gt;")


def _error_page(status: int) -> bytes:
    message = {404: "您访问的页面不存在", 429: "请求过于频繁", 500: "服务器内部错误"}.get(
        status, "服务暂不可用"
    )
    return _plain_page(str(status), message).encode("utf-8")


def _gzip_zeros(size: int) -> bytes:
    """gzip of an HTML prefix and NUL bytes, `size` bytes decoded, compressed in chunks."""
    prefix = b'<!DOCTYPE html><html><head><meta charset="utf-8"></head><body>'[:size]
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)  # wbits 31: gzip container
    out = [compressor.compress(prefix)]
    zeros = memoryview(bytes(1 << 20))
    remaining = size - len(prefix)
    while remaining > 0:
        step = min(remaining, len(zeros))
        out.append(compressor.compress(zeros[:step]))
        remaining -= step
    out.append(compressor.flush())
    return b"".join(out)


def _huge_chunks(size: int) -> Iterator[bytes]:
    """A PDF-looking file of exactly `size` bytes, in chunks of HUGE_CHUNK."""
    head, tail = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n", b"\n%%EOF\n"
    if size <= len(head) + len(tail):
        yield (head + tail)[:size]
        return
    yield head
    filler = b" " * HUGE_CHUNK
    remaining = size - len(head) - len(tail)
    while remaining > 0:
        step = min(remaining, HUGE_CHUNK)
        yield filler if step == HUGE_CHUNK else filler[:step]
        remaining -= step
    yield tail


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128
    faults: FaultServer


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    timeout = 30  # idle keep-alive connections and stuck writes end eventually
    server: _HTTPServer
    log_entry: FaultRequest | None = None

    def do_GET(self) -> None:
        self.server.faults._handle(self, head=False)

    def do_HEAD(self) -> None:
        self.server.faults._handle(self, head=True)

    def version_string(self) -> str:
        return "TRS-Fault-Replica"

    def log_message(self, format: str, *args: object) -> None:
        pass  # FaultServer.requests is the log


def main(argv: list[str] | None = None) -> None:
    import argparse
    import time

    parser = argparse.ArgumentParser(description="Serve the fault replica until interrupted.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    args = parser.parse_args(argv)
    with FaultServer(args.host, args.port) as server:
        print(f"fault replica at {server.base_url}", flush=True)
        for case in server.cases.values():
            print(f"  {case.name:24} {case.path}")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
