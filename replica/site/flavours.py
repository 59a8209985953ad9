"""What the replica's two flavours are made of: www.chalco.com.cn ("chalco") and a member
site of the 中铝网站群 ("member", 中州铝业, zzly.chinalco.com.cn, news under /xwzx/): their
sections, pagers, static pages, dates and docids, and the `Profile` that rendering and later
states read."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from replica.site.chrome import CHALCO, MEMBER, Chrome

CST = dt.timezone(dt.timedelta(hours=8))

SAMPLE_PATH = "/xwdt/gsyw/202602/t20260204_163644.html"
SAMPLE_DOCID = 163644
SAMPLE_CREATED = dt.datetime(2026, 2, 4, 9, 32, 17, tzinfo=CST)
SAMPLE_SHOWN = dt.datetime(2026, 2, 3, tzinfo=CST)
# 1482990000000 ms is 2016-12-29: the old CMS named pages after their publication time.
OLD_URL = "/zgly/xwdt/webinfo/2016/12/1482990000000001.htm"
OLD_URL_SHOWN = dt.datetime(2016, 12, 29, tzinfo=CST)
MIRROR = "http://mirror.example.invalid"
# Creation time of the newest generated article; a later site state adds articles after it.
NEWEST = dt.datetime(2026, 2, 6, 17, 40, tzinfo=CST)
STATIC_MODIFIED = dt.datetime(2025, 6, 30, 10, 0, tzinfo=CST)

NEWS_SECTIONS = {
    "xwdt/gsyw": "公司要闻",
    "xwdt/ggdt": "高管动态",
    "xwdt/qydt": "企业动态",
    "xwdt/mtgz": "媒体关注",
}
ANNOUNCEMENTS = "tzzgx/thygg"
SECTIONS = {**NEWS_SECTIONS, ANNOUNCEMENTS: "通函与公告"}
PARENTS = {"xwdt": "新闻动态", "tzzgx": "投资者关系"}
# SITE.md: createPageHTML(...), `countPage = N`, or no pager at all (step index_N until 404).
PAGER_STYLES: dict[str, str | None] = {
    "xwdt/gsyw": "createPageHTML",
    "xwdt/ggdt": "countPage",
    "xwdt/qydt": None,
    "xwdt/mtgz": "createPageHTML",
    ANNOUNCEMENTS: "createPageHTML",
}
_ELLIPSIS = {ANNOUNCEMENTS: "..."}
MIN_ARTICLES = 30  # below this the special cases do not all fit

STATIC_PAGES = {
    "/gywm/": (
        "关于我们",
        "中国铝业股份有限公司是中国铝业集团有限公司的控股子公司，是中国有色金属行业的龙头企业。",
    ),
    "/gywm/lxwm/": ("联系我们", "地址：北京市海淀区西直门北大街62号　邮编：100082"),
    "/gywm/cyqy/": (
        "成员企业",
        "云铝股份、中铝几内亚、郑州铝业、广西分公司、中铝香港、兰州铝业、中州铝业等。",
    ),
    "/gywm/xflx/": ("信访联系", "信访接待时间：工作日上午9:00—11:30，下午14:00—17:00。"),
    "/flsm/": ("法律声明", "本网站所载内容版权归中国铝业股份有限公司所有，未经许可不得转载。"),
    "/kjcx/": ("科技创新", "中铝股份坚持创新驱动发展，持续打造原创技术策源地。"),
    "/en/": (
        "English",
        "Aluminum Corporation of China Limited (Chalco) is a leading aluminium producer.",
    ),
    "/search/": ("站内搜索", "请输入关键字进行搜索。"),
}


# -- the member flavour (a member site of the group: zzly.chinalco.com.cn) ---------------

MEMBER_NEWS_SECTIONS = {
    "xwzx/gsyw": "公司要闻",
    "xwzx/qydt": "企业动态",
    "xwzx/mtjj": "媒体聚焦",
}
MEMBER_PARENTS = {"xwzx": "新闻中心"}
MEMBER_PAGER_STYLES: dict[str, str | None] = {
    "xwzx/gsyw": "createPageHTML",
    "xwzx/qydt": "countPage",
    "xwzx/mtjj": None,
}
MEMBER_MIN_ARTICLES = 12
MEMBER_DOCID_BASE = 500_000
"""Member docids are above this; the chalco flavour's are all below it (163644 is its
sample). The one exception is the shared story that keeps the main site's docid."""
SHARED_STORIES = 3
"""Member articles republishing a chalco-flavour article (one of them with its docid)."""
# Member article pages made before this keep the old header with an <h1 class="logo">.
MEMBER_REDESIGN = dt.datetime(2026, 1, 1, tzinfo=CST)
MEMBER_DEFAULT_NEW_ARTICLES = {"xwzx/gsyw": 2, "xwzx/qydt": 2}
MEMBER_PRIVATE_TITLE = "关于加强内部资料保密管理的通知"
MEMBER_STATIC_PAGES = {
    "/zjzz/": (
        "走进中州",
        "中铝中州铝业有限公司位于河南省焦作市，是中国铝业股份有限公司的全资子公司。",
    ),
    "/zjzz/gsjj/": (
        "公司简介",
        "中州铝业是我国重要的氧化铝生产基地，拥有氧化铝、精细氧化铝、热电等生产系统。",
    ),
    "/zjzz/zzjg/": ("组织机构", "公司设综合管理部、党委工作部、安全环保健康部、生产运行部等部门。"),
    "/djgz/": ("党建工作", "坚持以高质量党建引领保障企业高质量发展。"),
    "/lxwm/": ("联系我们", "地址：河南省焦作市修武县　邮编：454171"),
    "/search/": ("站内搜索", "请输入关键字进行搜索。"),
}
FLAVOURS = ("chalco", "member")

# What `ReplicaSite.advance()` adds when called without arguments (chalco flavour).
DEFAULT_NEW_ARTICLES = {"xwdt/gsyw": 3, "xwdt/qydt": 2}


@dataclass(frozen=True)
class Profile:
    """What differs between the flavours, for rendering and later states."""

    chrome: Chrome
    news_sections: dict[str, str]
    parents: dict[str, str]
    pager_styles: dict[str, str | None]
    ellipsis: dict[str, str]
    static_pages: dict[str, tuple[str, str]]
    template: str
    """Template of an ordinary article page."""
    default_new: dict[str, int]
    edit_section: str
    removal_section: str


PROFILES = {
    "chalco": Profile(
        chrome=CHALCO,
        news_sections=NEWS_SECTIONS,
        parents=PARENTS,
        pager_styles=PAGER_STYLES,
        ellipsis=_ELLIPSIS,
        static_pages=STATIC_PAGES,
        template="trs",
        default_new=DEFAULT_NEW_ARTICLES,
        edit_section="xwdt/gsyw",
        removal_section="xwdt/ggdt",
    ),
    "member": Profile(
        chrome=MEMBER,
        news_sections=MEMBER_NEWS_SECTIONS,
        parents=MEMBER_PARENTS,
        pager_styles=MEMBER_PAGER_STYLES,
        ellipsis={},
        static_pages=MEMBER_STATIC_PAGES,
        template="member",
        default_new=MEMBER_DEFAULT_NEW_ARTICLES,
        edit_section="xwzx/gsyw",
        removal_section="xwzx/qydt",
    ),
}
