"""The chalco replica's pages over real HTTP: navigation, lists and their pagers, articles
against their truth, files, and the deliberate hard cases (a listed 404, a 301 from a
legacy URL, an article in two sections, GB2312-labelled pages, robots.txt, off-site links)."""

from __future__ import annotations

import hashlib
import re
import urllib.request
import urllib.robotparser
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import lxml.html
import pytest

from replica.server import ReplicaServer
from replica.site import ReplicaSite
from replica.site.build import build_site
from replica.site.flavours import MIRROR, OLD_URL, PAGER_STYLES
from tests.replica_http import (
    ARTICLE_URL,
    body_paragraphs,
    check_article,
    clean,
    get,
    get_live,
    list_links,
    visible_text,
)

SAMPLE_TXT = Path(__file__).resolve().parents[1] / "replica" / "data" / "sample-article.txt"
UNFOLD = str.maketrans({",": "，", ":": "：", "(": "（", ")": "）"})


@pytest.fixture(scope="module")
def site() -> ReplicaSite:
    return build_site()


@pytest.fixture(scope="module")
def server(site: ReplicaSite) -> Iterator[ReplicaServer]:
    with ReplicaServer(site) as running:
        yield running


def test_home_nav_has_news_children(server: ReplicaServer) -> None:
    status, headers, body = get(server.base_url)
    assert status == 200
    doc = lxml.html.fromstring(body)
    menu = doc.xpath('//div[@class="nav"]//ul[@class="menu"]')[0]
    top = [a.text_content() for a in menu.xpath("./li/a")]
    assert top == ["首页", "关于我们", "新闻动态", "投资者关系", "科技创新", "English"]
    children = menu.xpath('./li[a="新闻动态"]/ul/li/a')
    assert [(a.get("href"), a.text_content()) for a in children] == [
        ("./xwdt/gsyw/", "公司要闻"),
        ("./xwdt/ggdt/", "高管动态"),
        ("./xwdt/qydt/", "企业动态"),
        ("./xwdt/mtgz/", "媒体关注"),
    ]
    assert menu.xpath('./li[a="投资者关系"]/ul/li/a/@href') == ["./tzzgx/thygg/"]
    recent = doc.xpath('//div[@class="index-news"]//li/a/@href')
    assert len(recent) == 8 and all(ARTICLE_URL.match("/" + h.removeprefix("./")) for h in recent)


def test_list_pages_pager_and_counts(server: ReplicaServer, site: ReplicaSite) -> None:
    # Default config: every news section spans at least three list pages.
    assert all(site.list_pages[s] >= 3 for s in site.sections if s.startswith("xwdt/"))
    for section, pages in site.list_pages.items():
        sizes = []
        for current, path in enumerate(site.list_paths(section)):
            body = get_live(server, path).decode("utf-8")
            sizes.append(len(lxml.html.fromstring(body).xpath('//ul[@class="list"]/li')))
            style = PAGER_STYLES[section]
            if style == "createPageHTML":
                assert f'createPageHTML({pages}, {current}, "index", "html");' in body
            elif style == "countPage":
                assert f"var countPage = {pages}//共多少页" in body
                assert f"var currentPage = {current};" in body
            else:
                assert "createPageHTML(" not in body and "countPage" not in body
        assert sizes == [site.page_size] * (pages - 1) + [sizes[-1]]
        assert 1 <= sizes[-1] <= site.page_size
        # Beyond the last page the server answers 404: readers without a pager stop there.
        assert get(server.base_url + f"{section}/index_{pages}.html")[0] == 404
    assert (
        get(server.base_url + "xwdt/gsyw/index.html")[2] == get(server.base_url + "xwdt/gsyw/")[2]
    )
    assert get(server.base_url + "xwdt/gsyw")[0] == 301


def test_list_items_are_newest_first_and_relative(server: ReplicaServer, site: ReplicaSite) -> None:
    body = get_live(server, "/xwdt/gsyw/").decode("utf-8")
    item = re.search(
        r'<li><a href="(\./\d{6}/t\d{8}_\d+\.html)" title="([^"]+)" target="_blank">([^<]+)</a>'
        r"<span>(\d{4}-\d{2}-\d{2})</span></li>",
        body,
    )
    assert item is not None
    for section in site.sections:
        dates = []
        for path in site.list_paths(section):
            doc = lxml.html.fromstring(get_live(server, path))
            dates += doc.xpath('//ul[@class="list"]/li/span/text()')
        assert dates == sorted(dates, reverse=True)
        on_site = {
            urlsplit(href).path
            for href, _ in list_links(server, site, section)
            if href.startswith(server.base_url)
        }
        listed = {a.url_path for a in site.articles if section in a.sections}
        # Every article is listed; the migrated one through its old URL.
        assert listed - on_site <= {site.specials.redirect_to}
    shown_titles = [
        (a.get("title"), a.text_content())
        for path in site.list_paths("xwdt/gsyw")
        for a in lxml.html.fromstring(get_live(server, path)).xpath('//ul[@class="list"]/li/a')
    ]
    cut = [(full, shown) for full, shown in shown_titles if full != shown]
    assert cut and all(shown.endswith("…") and full.startswith(shown[:-1]) for full, shown in cut)


def test_sample_article_matches_truth_and_sample_text(
    server: ReplicaServer, site: ReplicaSite
) -> None:
    truth = site.article("/xwdt/gsyw/202602/t20260204_163644.html")
    assert truth.docid == 163644 and truth.sections == ["xwdt/gsyw"]
    assert truth.title == "中铝股份召开一届四次职工代表大会"
    assert (truth.source, truth.published, truth.author) == ("党委宣传部", "2026-02-03", None)
    assert len(truth.paragraphs) == 20 and truth.attachments == [] and truth.images == []
    assert truth.paragraphs[0].startswith("2月2日，中铝股份一届四次职工代表大会")
    assert truth.paragraphs[-1].endswith("以及职工代表等参加会议。")
    assert not any(c in "".join(truth.paragraphs) for c in ",:()")

    status, headers, body = get(server.base_url + truth.url_path.lstrip("/"))
    assert status == 200 and headers["Content-Type"] == "text/html; charset=utf-8"
    doc = lxml.html.fromstring(body)
    assert doc.xpath('//meta[@name="ArticleTitle"]/@content') == [truth.title]
    assert doc.xpath('//meta[@name="PubDate"]/@content') == ["2026-02-04 09:32"]
    assert doc.xpath('//meta[@name="ContentSource"]/@content') == ["党委宣传部"]
    assert clean(doc.xpath('//div[@class="content-title"]')[0].text_content()) == truth.title
    info = doc.xpath('//div[@class="content-info"]/span')
    assert [s.text_content() for s in info] == ["来源：党委宣传部", "时间：2026-02-03"]
    assert body_paragraphs(doc) == truth.paragraphs

    # The page reads like sample-article.txt, with the folded punctuation full-width again.
    text = visible_text(doc)
    position = 0
    for line in SAMPLE_TXT.read_text(encoding="utf-8").splitlines():
        expected = "".join(line.translate(UNFOLD).split())
        if expected:
            found = text.find(expected, position)
            assert found >= 0, expected
            position = found + len(expected)
    assert "【打印本页】【关闭窗口】" in text


def test_every_live_article_matches_truth(server: ReplicaServer, site: ReplicaSite) -> None:
    for truth in site.live_articles():
        check_article(server, truth)
    templates = {a.template for a in site.live_articles()}
    assert templates == {"trs", "member"}
    member = site.article(site.specials.member[0])
    assert member.author and re.fullmatch(
        r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+08:00", member.published
    )


def test_urls_docids_and_dates(site: ReplicaSite) -> None:
    assert len(site.articles) == 60
    docids = [a.docid for a in site.articles]
    assert len(set(docids)) == len(docids)
    by_docid = sorted(site.articles, key=lambda a: a.docid)
    url_dates = [ARTICLE_URL.match(a.url_path).group(3) for a in by_docid]
    assert url_dates == sorted(url_dates)  # docids grow with the CMS date
    for a in site.articles:
        match = ARTICLE_URL.match(a.url_path)
        assert (
            match and match.group(1) == a.sections[0] and match.group(3).startswith(match.group(2))
        )
        assert a.created.startswith(
            f"{match.group(3)[:4]}-{match.group(3)[4:6]}-{match.group(3)[6:]}"
        )
    lagging = [
        a
        for a in site.articles
        if a.published[:10].replace("-", "") != a.created[:10].replace("-", "")
    ]
    assert len(lagging) > len(site.articles) / 3
    migrated = site.article(site.specials.redirect_to)
    assert (
        migrated.url_path.split("/")[4].startswith("t2020") and migrated.published == "2016-12-29"
    )
    counts = {s: sum(s in a.sections for a in site.articles) for s in site.sections}
    assert len(set(counts.values())) > 2  # spread unevenly


def test_missing_article_is_listed_and_404(server: ReplicaServer, site: ReplicaSite) -> None:
    missing = site.article(site.specials.missing)
    assert missing.status == 404 and missing not in site.live_articles()
    assert server.base_url.rstrip("/") + missing.url_path in dict(
        list_links(server, site, "xwdt/ggdt")
    )
    assert get(server.base_url + missing.url_path.lstrip("/"))[0] == 404
    assert get(server.base_url + "no/such/page.html")[0] == 404


def test_old_url_redirects_to_trs_article(server: ReplicaServer, site: ReplicaSite) -> None:
    links = dict(list_links(server, site, "xwdt/gsyw"))
    assert server.base_url.rstrip("/") + OLD_URL in links
    status, headers, _ = get(server.base_url + OLD_URL.lstrip("/"))
    assert status == 301
    assert headers["Location"] == server.base_url.rstrip("/") + site.specials.redirect_to
    with urllib.request.urlopen(server.base_url + OLD_URL.lstrip("/"), timeout=10) as followed:
        assert followed.url == headers["Location"] and followed.status == 200


def test_shared_article_listed_in_two_sections(server: ReplicaServer, site: ReplicaSite) -> None:
    shared = site.article(site.specials.shared)
    assert shared.sections == ["xwdt/gsyw", "xwdt/ggdt"]
    target = server.base_url.rstrip("/") + shared.url_path
    assert target in dict(list_links(server, site, "xwdt/gsyw"))
    assert target in dict(list_links(server, site, "xwdt/ggdt"))


def test_legacy_pages_need_gb18030(server: ReplicaServer, site: ReplicaSite) -> None:
    for char in "镕䶮𠮷":
        with pytest.raises(UnicodeEncodeError):
            char.encode("gb2312")
    labels = set()
    for path in site.specials.legacy:
        truth = site.article(path)
        status, headers, body = get(server.base_url + path.lstrip("/"))
        assert status == 200
        assert headers["Content-Type"] == f"text/html; charset={truth.encoding}"
        assert f'<meta charset="{truth.encoding}">'.encode("ascii") in body
        with pytest.raises(UnicodeDecodeError):
            body.decode("gb2312")
        text = body.decode("gb18030")
        assert all(char in text for char in "镕䶮𠮷")
        labels.add(truth.encoding)
    assert labels == {"gb2312", "gbk"}


def test_robots_txt_and_disallowed_link(server: ReplicaServer, site: ReplicaSite) -> None:
    status, headers, body = get(server.base_url + "robots.txt")
    assert status == 200 and headers["Content-Type"].startswith("text/plain")
    robots = urllib.robotparser.RobotFileParser()
    robots.parse(body.decode("utf-8").splitlines())
    base = server.base_url.rstrip("/")
    assert not robots.can_fetch("chalco-archive", base + site.specials.disallowed)
    assert not robots.can_fetch("chalco-archive", base + "/search/?searchword=x")
    assert robots.can_fetch("chalco-archive", base + site.specials.sample)
    assert base + site.specials.disallowed in dict(list_links(server, site, "xwdt/gsyw"))
    assert get(base + site.specials.disallowed)[0] == 200  # only robots.txt keeps a crawler out


def test_files_are_real_and_match_truth(server: ReplicaServer, site: ReplicaSite) -> None:
    files = [f for a in site.live_articles() for f in a.attachments + a.images]
    assert any(f.media_type == "image/png" for f in files) and any(
        f.media_type == "image/jpeg" for f in files
    )
    magic = {
        "image/png": b"\x89PNG\r\n\x1a\n",
        "image/jpeg": b"\xff\xd8\xff",
        "application/pdf": b"%PDF-1.",
    }
    for file in files:
        status, headers, body = get(server.base_url + file.url_path.lstrip("/"))
        assert status == 200 and headers["Content-Type"] == file.media_type
        assert hashlib.sha256(body).hexdigest() == file.sha256 and len(body) == file.size
        assert body.startswith(magic[file.media_type])
        name = file.url_path.rsplit("/", 1)[1]
        assert re.fullmatch(r"(W0\d{20}\.(jpg|png))|(P0\d{20}\.pdf)", name)
    first, second = site.specials.shared_image
    assert first != second and site.file_bytes(first) == site.file_bytes(second)
    announcements = [a for a in site.live_articles() if a.sections == ["tzzgx/thygg"]]
    assert announcements and all(a.attachments for a in announcements)
    assert all(
        f.name.endswith(".pdf") and re.search(r"[\u4e00-\u9fff]", f.name)
        for a in announcements
        for f in a.attachments
    )
    assert site.article(site.specials.news_attachment).attachments


def test_offsite_links_and_host_log(server: ReplicaServer, site: ReplicaSite) -> None:
    base = server.base_url.rstrip("/")
    other = f"http://localhost:{server.port}/"
    list_page = get_live(server, "/xwdt/qydt/index_1.html").decode("utf-8")
    assert other in list_page and MIRROR + "/" in list_page
    assert site.specials.mirror_item in dict(list_links(server, site, "xwdt/mtgz"))
    assert any(
        other in get_live(server, a.url_path).decode("utf-8")
        for a in site.live_articles()[:20]
        if a.encoding == "utf-8"
    )
    get(base + "/", {"Host": f"localhost:{server.port}"})
    seen = server.hosts_seen()
    assert f"127.0.0.1:{server.port}" in seen and f"localhost:{server.port}" in seen
    last = server.requests[-1]
    assert (last.method, last.path, last.status) == ("GET", "/", 200)
    # Under the other host name the pages point back at 127.0.0.1.
    assert (
        b"http://127.0.0.1:" in get(base + "/xwdt/qydt/", {"Host": f"localhost:{server.port}"})[2]
    )
