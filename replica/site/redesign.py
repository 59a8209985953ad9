"""The replica after a site redesign: the same articles and URLs, a new article template.

`build_site(template="redesign")` serves every article page in this template. It is what a
TRS site looks like after its template was redone without telling anyone: the channel's
name in a banner `<h1>`, the title in an `<h2 class="xl-tit">`, the info line relabelled
(稿源 / 发布于 / 撰稿 instead of 来源 / 时间 / 作者, the date written 2026年02月03日), the body
in `<div class="xl-txt">` without the TRS_Editor wrapper, attachments in `.xl-fj`.

The bundled profiles read such a page wrongly: the title comes out as the channel's name,
source and author are missing, the date falls back to the CMS's PubDate (not the displayed
date), and the body is found only by the density fallback. `fitted_profile_toml()` is a
profile that reads it exactly, as an archivist would write after `probe` flagged the change.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from replica.site.article_html import ArticleView
from replica.site.chrome import CHALCO, Chrome, attr, esc, footer, head, list_items, nav, topbar

TEMPLATES = ("standard", "redesign")

_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}:\d{2}:\d{2}))?$")

# The selectors and labels of the redesigned template, for a profile that fits it.
FITTED_EXTRACTION = """[extraction]
# The 2026 redesign of the article template (replica/site/redesign.py).
title = [".xl-tit", ".content-title", ".article-title", "meta[name=ArticleTitle]"]
info = [".xl-msg", ".content-info", ".article-info", ".article-attr"]
body = [".xl-txt", ".content-con", ".TRS_Editor", "#zoom"]
attachments = [".xl-fj", ".content-fj", ".article-attach"]
boilerplate = ["script", "style", "nav", "header", "footer", ".share", ".print", ".related",
               ".xl-rel", ".xl-tools"]
source_labels = ["稿源", "来源"]
time_labels = ["发布于", "时间", "发布时间", "日期"]
author_labels = ["撰稿", "作者"]
"""

_FITTED_SITES = {
    "chalco": """name = "chalco"
title = "中国铝业股份有限公司"
base_url = "https://www.chalco.com.cn/"
timezone = "Asia/Shanghai"

[news]
roots = ["xwdt/"]
root_labels = ["新闻动态"]
fallback_sections = ["xwdt/gsyw/", "xwdt/ggdt/"]
extra_sections = ["tzzgx/thygg/"]
""",
    "member": """name = "zzly"
title = "中州铝业"
base_url = "https://zzly.chinalco.com.cn/"
timezone = "Asia/Shanghai"

[news]
roots = ["xwzx/"]
root_labels = ["新闻中心"]
fallback_sections = ["xwzx/gsyw/"]
""",
}


def fitted_profile_toml(flavour: str = "chalco") -> str:
    """A site profile (TOML text) that reads the redesigned template exactly: the bundled
    profile of the flavour's site (`chalco`, or `zzly` for the member flavour) with the
    redesign's selectors and labels. Write it to HOME/sites/<name>.toml or pass its path
    as --site."""
    if flavour not in _FITTED_SITES:
        raise ValueError(f"no fitted profile for flavour {flavour!r}")
    return _FITTED_SITES[flavour] + "\n" + FITTED_EXTRACTION


def shown_date(published_raw: str) -> str:
    """2026-02-03 → 2026年02月03日; 2024-09-30 15:27:51 → 2024年09月30日 15:27:51."""
    match = _ISO.match(published_raw.strip())
    if match is None:
        return published_raw
    year, month, day, clock = match.groups()
    return f"{year}年{month}月{day}日" + (f" {clock}" if clock else "")


def redesign_article(
    view: ArticleView,
    news_children: Sequence[tuple[str, str]],
    chrome: Chrome = CHALCO,
) -> str:
    """An article page in the redesigned template (see the module's docstring)."""
    root = "../../../"
    c = view.colon
    author = f"<span>撰稿{c}{esc(view.author)}</span>" if view.author else ""
    original = (
        f'<div class="xl-origin">原文链接{c}<a href="{attr(view.original)}" '
        f'target="_blank">{esc(view.original)}</a></div>\n'
        if view.original
        else ""
    )
    files = "".join(
        f'<li><a href="./{href}" target="_blank">{esc(name)}</a></li>' for href, name in view.files
    )
    return (
        head(f"{view.title}_{chrome.site_name}", root, view.charset, view.metas)
        + "</head>\n<body>\n"
        + topbar()
        # The new banner names the channel in the page's only <h1>.
        + '<div class="xl-banner"><div class="wrap"><h1 class="banner-name">'
        + f"{esc(view.channel)}</h1></div></div>\n"
        + nav(root, news_children, current=view.parent[0] + "/", chrome=chrome)
        + f'<div class="wrap crumbs">当前位置：<a href="{root}">首页</a> &gt; '
        + f'<a href="../../">{esc(view.parent[1])}</a> &gt; '
        + f'<a href="../">{esc(view.channel)}</a></div>\n'
        + '<div class="wrap xl-main">\n'
        + f'<h2 class="xl-tit">{esc(view.title)}</h2>\n'
        + f'<div class="xl-msg"><span>稿源{c}{esc(view.source)}</span>'
        + f"<span>发布于{c}{shown_date(view.published_raw)}</span>{author}</div>\n"
        + f'<div class="xl-txt" id="xlText">\n{view.body}\n</div>\n'
        + f'<div class="xl-fj"><span>附件{c.strip()}</span>'
        + (f"<ul>{files}</ul>" if files else "")
        + "</div>\n"
        + original
        + '<div class="xl-tools">【<a href="javascript:window.print()">打印本页</a>】'
        + '【<a href="javascript:window.close()">关闭窗口</a>】</div>\n'
        + '<div class="xl-rel"><h3>相关新闻</h3><ul>\n'
        + list_items(view.related, 30, "…")
        + "\n</ul></div>\n</div>\n"
        + footer(root, chrome)
        + "</body>\n</html>\n"
    )
