"""Reading navigation and list pages: sections, listed articles, pagers."""

from __future__ import annotations

import pytest
from parsel import Selector

from chalco_crawler.discovery import (
    discover_sections,
    docid_of,
    list_page_url,
    listed_articles,
    page_count,
    section_labels,
    section_path,
)
from chalco_crawler.profile import load_profile

PROFILE = load_profile()
BASE = "https://www.chalco.com.cn/"

HOME = """<html><body><ul class="nav">
<li><a href="/">首页</a></li>
<li><a href="/xwdt/">新闻动态</a><ul>
  <li><a href="/xwdt/gsyw/">公司要闻</a></li>
  <li><a href="./xwdt/ggdt/index.html">高管动态</a></li>
  <li><a href="https://www.chalco.com.cn/xwdt/qydt/"><span>企业动态</span></a></li>
  <li><a href="/xwdt/gsyw/202602/t20260204_163644.html">an article, not a section</a></li>
</ul></li>
<li><a href="/tzzgx/">投资者关系</a><ul><li><a href="/tzzgx/thygg/">通函与公告</a></li></ul></li>
<li><a href="http://mirror.example.invalid/xwdt/fake/">镜像</a></li>
</ul></body></html>"""

LIST = """<html><body>
<div class="side"><ul>
  <li><a href="../ggdt/202601/t20260101_160000.html">hot 1</a></li>
</ul></div>
<div class="list"><ul>
  <li><a href="./202602/t20260204_163644.html" title="中铝股份召开一届四次职工代表大会"
         >中铝股份召开…</a><span>2026-02-03</span></li>
  <li><a href="./202602/t20260201_163600.html">第二条</a><span>2026-01-31</span></li>
  <li><a href="http://mirror.example.invalid/xwdt/gsyw/202602/t20260202_163601.html">mirror</a></li>
  <li><a href="/zgly/xwdt/webinfo/2016/12/1482990000000001.htm">旧文</a></li>
</ul></div>
<script>createPageHTML(7, 0, "index", "html");</script>
</body></html>"""


def test_news_sections_are_the_children_of_the_news_root():
    sections = discover_sections(Selector(HOME), BASE, PROFILE)
    assert [(s.path, s.name) for s in sections] == [
        ("xwdt/gsyw", "公司要闻"),
        ("xwdt/ggdt", "高管动态"),
        ("xwdt/qydt", "企业动态"),
    ]


def test_section_labels_cover_other_sections_but_not_other_hosts():
    labels = section_labels(Selector(HOME), BASE)
    assert labels["tzzgx/thygg"] == "通函与公告"
    assert "xwdt/fake" not in labels


def test_listed_articles_come_from_the_main_list_on_this_host():
    listed = listed_articles(Selector(LIST), BASE + "xwdt/gsyw/", PROFILE)
    assert [a.url for a in listed] == [
        BASE + "xwdt/gsyw/202602/t20260204_163644.html",
        BASE + "xwdt/gsyw/202602/t20260201_163600.html",
        BASE + "zgly/xwdt/webinfo/2016/12/1482990000000001.htm",
    ]
    assert listed[0].title == "中铝股份召开一届四次职工代表大会"  # the full title attribute


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        ('createPageHTML(7, 0, "index", "html");', 7),
        ("createPageHTML('12','3','index','html')", 12),
        ("var countPage = 4//共多少页", 4),
        ("var currentPage = 0;", None),
    ],
)
def test_page_count_reads_both_trs_pagers(script, expected):
    assert page_count(f"<script>{script}</script>") == expected


@pytest.mark.parametrize(
    "value", ["xwdt/gsyw", "/xwdt/gsyw/", "https://www.chalco.com.cn/xwdt/gsyw/index_3.html"]
)
def test_section_path_normalises(value):
    assert section_path(value) == "xwdt/gsyw"


def test_list_page_urls_follow_trs_naming():
    assert list_page_url(BASE, "xwdt/gsyw", 0) == BASE + "xwdt/gsyw/"
    assert list_page_url(BASE, "xwdt/gsyw", 2) == BASE + "xwdt/gsyw/index_2.html"


def test_docid_comes_from_the_article_url():
    assert docid_of(BASE + "xwdt/gsyw/202602/t20260204_163644.html", PROFILE) == 163644
    assert docid_of(BASE + "zgly/xwdt/webinfo/2016/12/1.htm", PROFILE) is None


def test_a_news_root_moved_to_another_slug_is_found_by_its_label():
    moved = HOME.replace("/xwdt/", "/news/")
    sections = discover_sections(Selector(moved), BASE, PROFILE)
    assert [s.path for s in sections] == ["news/gsyw", "news/ggdt", "news/qydt"]
