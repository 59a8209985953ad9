"""Tests of the local replica of www.chalco.com.cn, over real HTTP."""

from __future__ import annotations

import gzip
import hashlib
import http.client
import math
import re
import time
import urllib.error
import urllib.request
import urllib.robotparser
from collections.abc import Iterator
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import lxml.html
import pytest

from replica.__main__ import main
from replica.server import ReplicaServer
from replica.site import ReplicaSite
from replica.site.build import build_group, build_site
from replica.site.flavours import (
    DEFAULT_NEW_ARTICLES,
    MEMBER_DEFAULT_NEW_ARTICLES,
    MEMBER_DOCID_BASE,
    MEMBER_PAGER_STYLES,
    MIRROR,
    OLD_URL,
    PAGER_STYLES,
    SHARED_STORIES,
)
from replica.site.later import default_later_state
from replica.site.truth import ArticleTruth, LaterState

SAMPLE_TXT = Path(__file__).resolve().parents[1] / "replica" / "data" / "sample-article.txt"
UNFOLD = str.maketrans({",": "，", ":": "：", "(": "（", ")": "）"})
ARTICLE_URL = re.compile(r"^/([a-z]+/[a-z]+)/(\d{6})/t(\d{8})_(\d+)\.html$")


@pytest.fixture(scope="module")
def site() -> ReplicaSite:
    return build_site()


@pytest.fixture(scope="module")
def server(site: ReplicaSite) -> Iterator[ReplicaServer]:
    with ReplicaServer(site) as running:
        yield running


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


def get(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    """GET without following redirects; urllib asks for identity encoding unless told."""
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with _OPENER.open(request, timeout=10) as response:
            return response.status, dict(response.headers.items()), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers.items()), error.read()


def get_live(server: ReplicaServer, path: str) -> bytes:
    status, _, body = get(server.base_url.rstrip("/") + path)
    if status == 500 and path in server.site.flaky_paths:
        status, _, body = get(server.base_url.rstrip("/") + path)
    assert status == 200, path
    return body


def decode(body: bytes, headers: dict[str, str]) -> str:
    charset = headers["Content-Type"].split("charset=")[1]
    # Browsers decode gb2312 and gbk labels as GB18030.
    return body.decode("gb18030" if charset in ("gb2312", "gbk") else charset)


def list_links(server: ReplicaServer, site: ReplicaSite, section: str) -> list[tuple[str, str]]:
    """(absolute href, title attribute) of every list item of a section, in order."""
    links = []
    for path in site.list_paths(section):
        page_url = server.base_url.rstrip("/") + path
        doc = lxml.html.fromstring(get_live(server, path))
        for a in doc.xpath('//ul[@class="list"]/li/a'):
            links.append((urljoin(page_url, a.get("href")), a.get("title")))
    return links


def clean(text: str) -> str:
    return " ".join(text.split())


def body_paragraphs(doc: lxml.html.HtmlElement) -> list[str]:
    body = doc.xpath(
        '//div[contains(concat(" ", @class, " "), " content-con ")]'
        ' | //div[contains(concat(" ", @class, " "), " article-body ")]'
    )[0]
    lines = [clean(p.text_content()) for p in body.iter("p")]
    return [line for line in lines if line]


def visible_text(doc: lxml.html.HtmlElement) -> str:
    for node in doc.xpath("//script | //style | //select | //head"):
        node.drop_tree()
    return "".join(doc.text_content().split())


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


def check_article(server: ReplicaServer, truth: ArticleTruth) -> None:
    status, headers, body = get(server.base_url + truth.url_path.lstrip("/"))
    if status == 500 and truth.url_path in server.site.flaky_paths:
        status, headers, body = get(server.base_url + truth.url_path.lstrip("/"))
    assert status == 200
    assert headers["Content-Type"] == f"text/html; charset={truth.encoding}"
    doc = lxml.html.fromstring(decode(body, headers))
    assert doc.xpath('//meta[@name="ArticleTitle"]/@content') == [truth.title]
    assert doc.xpath('//meta[@name="PubDate"]/@content')[0] == truth.created[:16].replace("T", " ")
    title = doc.xpath('//div[@class="content-title"] | //h1')[0]
    assert clean(title.text_content()) == truth.title
    info = "".join(
        doc.xpath('//div[@class="content-info"] | //div[@class="article-attr"]')[0]
        .text_content()
        .split()
    )
    source = re.search(r"来源[:：](.*?)时间[:：]", info)
    assert source is not None and (source.group(1) or None) == truth.source
    shown = truth.published.replace("T", "").removesuffix("+08:00")
    assert re.search(r"时间[:：]" + re.escape(shown), info)
    if truth.template == "member":
        assert f"作者：{truth.author}" in info or f"作者:{truth.author}" in info
    assert body_paragraphs(doc) == truth.paragraphs
    attachments = doc.xpath('//div[@class="content-fj"]//a | //div[@class="article-attach"]//a')
    page_url = server.base_url.rstrip("/") + truth.url_path
    assert [
        (urlsplit(urljoin(page_url, a.get("href"))).path, a.text_content()) for a in attachments
    ] == [(f.url_path, f.name) for f in truth.attachments]
    images = doc.xpath('//div[contains(@class, "content-con") or @class="article-body"]//img/@src')
    assert [urlsplit(urljoin(page_url, src)).path for src in images] == [
        f.url_path for f in truth.images
    ]


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


def test_flaky_article_fails_once_per_server(site: ReplicaSite) -> None:
    with ReplicaServer(site) as fresh:
        url = fresh.base_url + site.specials.flaky.lstrip("/")
        assert [get(url)[0] for _ in range(3)] == [500, 200, 200]
    with ReplicaServer(site) as again:
        assert get(again.base_url + site.specials.flaky.lstrip("/"))[0] == 500


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


def test_conditional_requests(server: ReplicaServer, site: ReplicaSite) -> None:
    for path in (
        site.specials.sample,
        "/xwdt/gsyw/",
        site.article(site.specials.news_attachment).attachments[0].url_path,
    ):
        url = server.base_url + path.lstrip("/")
        status, headers, body = get(url)
        assert status == 200 and body
        assert get(url, {"If-None-Match": headers["ETag"]})[0] == 304
        assert get(url, {"If-Modified-Since": headers["Last-Modified"]})[0] == 304
        assert get(url, {"If-None-Match": '"other"'})[0] == 200
        assert get(url, {"If-Modified-Since": "Mon, 01 Jan 2001 00:00:00 GMT"})[0] == 200


def test_gzip_when_asked(server: ReplicaServer, site: ReplicaSite) -> None:
    url = server.base_url + site.specials.sample.lstrip("/")
    _, plain_headers, plain = get(url)
    status, headers, body = get(url, {"Accept-Encoding": "gzip, deflate"})
    assert status == 200 and headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(body) == plain and len(body) < len(plain)
    assert "Content-Encoding" not in plain_headers
    assert get(url, {"Accept-Encoding": "gzip;q=0"})[1].get("Content-Encoding") is None
    assert get(url, {"If-None-Match": headers["ETag"], "Accept-Encoding": "gzip"})[0] == 304
    pdf = site.article(site.specials.news_attachment).attachments[0].url_path
    assert (
        "Content-Encoding"
        not in get(server.base_url + pdf.lstrip("/"), {"Accept-Encoding": "gzip"})[1]
    )


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


def test_head_and_keep_alive_throughput(server: ReplicaServer, site: ReplicaSite) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    paths = [a.url_path for a in site.live_articles() if a.url_path not in site.flaky_paths]
    started = time.perf_counter()
    for i in range(300):
        connection.request("GET", paths[i % len(paths)], headers={"Accept-Encoding": "gzip"})
        response = connection.getresponse()
        response.read()
        assert response.status == 200
    elapsed = time.perf_counter() - started
    connection.request("HEAD", site.specials.sample)
    response = connection.getresponse()
    assert (
        response.status == 200
        and response.read() == b""
        and int(response.getheader("Content-Length")) > 0
    )
    connection.close()
    assert elapsed < 3.0, f"300 requests took {elapsed:.2f}s"


def test_build_is_deterministic_and_scales() -> None:
    first, second = build_site(articles=40, seed=7), build_site(articles=40, seed=7)
    assert first.articles == second.articles
    assert first.render(first.specials.sample, "h:1") == second.render(
        second.specials.sample, "h:1"
    )
    assert build_site(articles=40, seed=8).articles != first.articles
    started = time.perf_counter()
    big = build_site(2000)
    elapsed = time.perf_counter() - started
    assert elapsed < 5.0, f"build_site(2000) took {elapsed:.2f}s"
    assert len(big.articles) == 2000 and len({a.docid for a in big.articles}) == 2000
    assert big.list_pages["xwdt/gsyw"] > 100
    with pytest.raises(ValueError):
        build_site(articles=5)


def test_main_rejects_bad_arguments(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--articles", "5"])
    assert exit_info.value.code == 2
    assert "articles must be at least" in capsys.readouterr().err


# -- the later state: a day on, with new, edited and removed articles ---------------------


@dataclass
class Later:
    server: ReplicaServer
    site: ReplicaSite
    state: LaterState
    links: dict[str, list[tuple[str, str]]]
    """list_links per section before the change."""
    pages: dict[str, int]
    """list_pages before the change."""
    responses: dict[str, tuple[int, dict[str, str], bytes]]
    """Responses before the change, by path."""
    related_to_edited: str
    """An unchanged article whose 相关新闻 lists the edited one."""


@pytest.fixture(scope="module")
def later() -> Iterator[Later]:
    """A site of its own, served, fetched, then advanced with the defaults while running."""
    site = build_site()
    edit, remove = site.default_edit(), site.default_removal()
    # An unchanged page whose 相关新闻 links the article that will be edited.
    name = edit.rsplit("/", 1)[1].encode()
    related = next(
        a.url_path
        for a in site.live_articles()
        if a.url_path not in (edit, site.specials.flaky) and name in site.render(a.url_path, "h")[2]
    )
    with ReplicaServer(site) as running:
        links = {s: list_links(running, site, s) for s in site.sections}
        paths = [
            *(p for s in site.sections for p in site.list_paths(s)),
            edit,
            remove,
            related,
            site.specials.sample,
            site.article(site.specials.news_attachment).attachments[0].url_path,
            site.specials.shared_image[0],
            "/xwdt/",
            "/tzzgx/",
        ]
        responses = {p: get(running.base_url + p.lstrip("/")) for p in paths}
        pages_before = dict(site.list_pages)
        state = site.advance()
        yield Later(running, site, state, links, pages_before, responses, related)


def test_later_state_defaults(later: Later) -> None:
    site, state = later.site, later.state
    assert state.day == "2026-02-07" and site.changes == [state]
    assert [a.sections for a in state.new_articles] == [["xwdt/qydt"]] * 2 + [["xwdt/gsyw"]] * 3
    edited, removed = site.article(state.edited), site.article(state.removed)
    assert edited.sections == ["xwdt/gsyw"] and not edited.attachments
    assert removed.sections == ["xwdt/ggdt"] and state.removed_files == []
    special = {
        site.specials.sample,
        site.specials.shared,
        site.specials.missing,
        site.specials.news_attachment,
        *site.specials.member,
        *site.specials.legacy,
        *site.specials.empty_source,
        *site.specials.ascii_colon,
    }
    assert not {state.edited, state.removed} & special
    # Same choices on every build.
    again = build_site()
    assert (again.default_edit(), again.default_removal()) == (state.edited, state.removed)
    assert default_later_state(again).new_paths == state.new_paths
    assert again.articles == site.articles


def test_later_new_articles_on_top(later: Later) -> None:
    server, site, state = later.server, later.site, later.state
    old = [a for a in site.articles if a.url_path not in state.new_paths]
    base = server.base_url.rstrip("/")
    for section, count in DEFAULT_NEW_ARTICLES.items():
        new = [a for a in state.new_articles if a.sections == [section]]
        assert len(new) == count
        links = list_links(server, site, section)
        assert [href for href, _ in links[:count]] == [base + a.url_path for a in new]
        # The old items, shifted down (the edited one under its new title).
        assert [h for h, _ in links[count:]] == [h for h, _ in later.links[section]]
        pages = math.ceil(len(links) / site.page_size)
        assert site.list_pages[section] == pages > later.pages[section]
        first = get_live(server, f"/{section}/").decode("utf-8")
        if PAGER_STYLES[section] == "createPageHTML":
            assert f'createPageHTML({pages}, 0, "index", "html");' in first
        assert get(server.base_url + f"{section}/index_{pages - 1}.html")[0] == 200
        assert get(server.base_url + f"{section}/index_{pages}.html")[0] == 404
    for truth in state.new_articles:
        assert truth in site.live_articles() and truth.template == "trs"
        assert truth.docid > max(a.docid for a in old)
        assert truth.created[:10] > max(a.created[:10] for a in old)
        assert truth.published > max(a.published[:10] for a in old)
        assert ARTICLE_URL.match(truth.url_path).group(3) == truth.created[:10].replace("-", "")
        assert truth.attachments == [] and truth.images == []
        check_article(server, truth)
        body = get_live(server, truth.url_path)
        assert b"<img" not in body.split(b'class="content-con')[1].split(b"</div>")[0]
    # The home page shows the newest items.
    home = lxml.html.fromstring(get_live(server, "/"))
    recent = [h.removeprefix(".") for h in home.xpath('//div[@class="index-news"]//li/a/@href')]
    assert recent[:5] == [a.url_path for a in state.new_articles]


def test_later_edited_article(later: Later) -> None:
    server, site, state = later.server, later.site, later.state
    truth, before = site.article(state.edited), state.edited_before
    assert before is not None and before.url_path == truth.url_path
    assert truth.title != before.title and len(truth.title) == len(before.title)
    assert (
        truth.paragraphs[:-1] == before.paragraphs
        and len(truth.paragraphs) == len(before.paragraphs) + 1
    )
    check_article(server, truth)
    old_status, old_headers, old_body = later.responses[state.edited]
    url = server.base_url + state.edited.lstrip("/")
    status, headers, body = get(url)
    assert old_status == status == 200 and body != old_body
    assert headers["ETag"] != old_headers["ETag"]
    assert parsedate_to_datetime(headers["Last-Modified"]) > parsedate_to_datetime(
        old_headers["Last-Modified"]
    )
    # A revisit with the old validators gets the new page, not 304.
    assert get(url, {"If-None-Match": old_headers["ETag"]})[::2] == (200, body)
    assert get(url, {"If-Modified-Since": old_headers["Last-Modified"]})[::2] == (200, body)
    assert get(url, {"If-None-Match": headers["ETag"]})[0] == 304
    assert get(url, {"If-Modified-Since": headers["Last-Modified"]})[0] == 304
    titles = dict(list_links(server, site, "xwdt/gsyw"))
    assert titles[server.base_url.rstrip("/") + state.edited] == truth.title


def test_later_removed_article(later: Later) -> None:
    server, site, state = later.server, later.site, later.state
    removed = site.article(state.removed)
    assert removed.status == 404 and removed not in site.live_articles()
    assert later.responses[state.removed][0] == 200
    url = server.base_url + state.removed.lstrip("/")
    assert get(url)[0] == 404
    assert get(url, {"If-None-Match": later.responses[state.removed][1]["ETag"]})[0] == 404
    target = server.base_url.rstrip("/") + state.removed
    assert target in dict(later.links["xwdt/ggdt"])
    links = list_links(server, site, "xwdt/ggdt")
    assert links == [link for link in later.links["xwdt/ggdt"] if link[0] != target]
    # The list changed, so a revisit by date must not get 304 either.
    first = later.responses["/xwdt/ggdt/"][1]
    assert (
        get(server.base_url + "xwdt/ggdt/", {"If-Modified-Since": first["Last-Modified"]})[0] == 200
    )
    assert get(server.base_url + "xwdt/ggdt/", {"If-None-Match": first["ETag"]})[0] == 200
    live = {a.url_path for a in site.live_articles()}
    assert set(state.new_paths) <= live and state.removed not in live
    assert len(live) == len(later.site.articles) - 2  # the old missing page and the removed one


def test_later_unchanged_pages_revalidate(later: Later) -> None:
    server, state = later.server, later.state
    changed = {state.edited, state.removed, "/xwdt/"} | {
        p for s in ("xwdt/gsyw", "xwdt/qydt", "xwdt/ggdt") for p in later.site.list_paths(s)
    }
    unchanged = [p for p in later.responses if p not in changed]
    assert later.related_to_edited in unchanged and "/xwdt/mtgz/" in unchanged
    for path in unchanged:
        old_status, old_headers, old_body = later.responses[path]
        url = server.base_url + path.lstrip("/")
        status, headers, body = get(url)
        assert (status, body) == (old_status, old_body), path
        for name in ("ETag", "Last-Modified"):
            assert headers[name] == old_headers[name], path
        assert get(url, {"If-None-Match": old_headers["ETag"]})[0] == 304, path
        assert get(url, {"If-Modified-Since": old_headers["Last-Modified"]})[0] == 304, path
    # A static page keeps its stale 相关新闻 title of the edited article.
    old_title = state.edited_before.title if state.edited_before else ""
    assert old_title.encode() in get_live(server, later.related_to_edited)


def test_advance_explicit_changes_and_errors() -> None:
    site = build_site(articles=40, seed=5)
    pages = dict(site.list_pages)
    removed = site.specials.shared
    files = [
        f.url_path
        for f in site.article(site.specials.news_attachment).attachments
        + site.article(site.specials.news_attachment).images
    ]
    with pytest.raises(ValueError):
        site.advance(edit=site.specials.missing)
    with pytest.raises(ValueError):
        site.advance(new_articles={"xwdt/nosuch": 1})
    with pytest.raises(ValueError):
        site.advance(remove=removed, remove_status=500)
    assert site.changes == []
    state = site.advance(new_articles={"tzzgx/thygg": 1}, remove=removed, remove_status=410)
    assert state.edited is None and state.edited_before is None and state.removed == removed
    assert site.render(removed, "h")[0] == 410 and site.article(removed).status == 410
    for section in ("xwdt/gsyw", "xwdt/ggdt"):
        assert all(e.target != removed for e in site._entries[section])
    assert site.list_pages["xwdt/qydt"] == pages["xwdt/qydt"]
    (notice,) = state.new_articles
    assert notice.sections == ["tzzgx/thygg"] and site._entries["tzzgx/thygg"][0].target == (
        notice.url_path
    )
    # Removing an article takes its files with it; a second day moves on again.
    second = site.advance(remove=site.specials.news_attachment)
    assert second.removed_files == files and all(site.render(f, "h") is None for f in files)
    assert second.day > state.day and second.new_articles == []
    with pytest.raises(ValueError):
        site.advance(edit=removed)


def test_main_serves_later_state(monkeypatch: pytest.MonkeyPatch) -> None:
    import replica.__main__ as cli

    served: list[ReplicaServer] = []

    class Recording(ReplicaServer):
        def start(self) -> ReplicaServer:
            served.append(self)
            return self

    def interrupt(seconds: float) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "ReplicaServer", Recording)
    monkeypatch.setattr(cli.time, "sleep", interrupt)
    assert main(["--state", "later", "--port", "0"]) == 0
    assert len(served[0].site.changes) == 1
    assert main(["--port", "0"]) == 0
    assert served[1].site.changes == []


# -- the member flavour: a member site of the 中铝网站群, news under /xwzx/ -----------------

MEMBER_NEWS = [
    ("./xwzx/gsyw/", "公司要闻"),
    ("./xwzx/qydt/", "企业动态"),
    ("./xwzx/mtjj/", "媒体聚焦"),
]
ARTICLE_H1 = '//div[contains(concat(" ", @class, " "), " article ")]/h1'
CLOCK = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+08:00")


@pytest.fixture(scope="module")
def group() -> tuple[ReplicaSite, ReplicaSite]:
    return build_group()


@pytest.fixture(scope="module")
def member(group: tuple[ReplicaSite, ReplicaSite]) -> ReplicaSite:
    return group[1]


@pytest.fixture(scope="module")
def member_server(member: ReplicaSite) -> Iterator[ReplicaServer]:
    with ReplicaServer(member) as running:
        yield running


def test_member_home_nav_children_under_xwzx(member_server: ReplicaServer) -> None:
    status, headers, body = get(member_server.base_url)
    assert status == 200 and headers["Content-Type"] == "text/html; charset=utf-8"
    html = body.decode("utf-8")
    doc = lxml.html.fromstring(body)
    menu = doc.xpath('//div[@class="nav"]//ul[@class="menu"]')[0]
    top = [a.text_content() for a in menu.xpath("./li/a")]
    assert top == ["首页", "走进中州", "新闻中心", "党建工作", "联系我们"]
    children = menu.xpath('./li[a="新闻中心"]/ul/li/a')
    assert [(a.get("href"), a.text_content()) for a in children] == MEMBER_NEWS
    assert menu.xpath('./li[a="新闻中心"]/a/@href') == ["./xwzx/"]
    assert "通函与公告" not in html and "tzzgx" not in html and "xwdt" not in html
    # The current header puts the site name in a logo <h1>.
    assert [clean(h.text_content()) for h in doc.xpath('//h1[@class="logo"]')] == [
        "中铝中州铝业有限公司"
    ]
    recent = doc.xpath('//div[@class="index-col"][1]//li/a/@href')
    assert len(recent) == 8 and all(ARTICLE_URL.match(h.removeprefix(".")) for h in recent)
    for href, _ in [("./xwzx/", ""), *MEMBER_NEWS, ("./zjzz/", ""), ("./lxwm/", "")]:
        assert get(member_server.base_url + href.removeprefix("./"))[0] == 200
    assert get(member_server.base_url + "xwdt/")[0] == 404


def test_member_list_pages_and_counts(member_server: ReplicaServer, member: ReplicaSite) -> None:
    assert list(member.sections) == ["xwzx/gsyw", "xwzx/qydt", "xwzx/mtjj"]
    assert all(member.list_pages[s] >= 3 for s in member.sections)
    for section, pages in member.list_pages.items():
        for current, path in enumerate(member.list_paths(section)):
            body = get_live(member_server, path).decode("utf-8")
            style = MEMBER_PAGER_STYLES[section]
            if style == "createPageHTML":
                assert f'createPageHTML({pages}, {current}, "index", "html");' in body
            elif style == "countPage":
                assert f"var countPage = {pages}//共多少页" in body
            else:
                assert "createPageHTML(" not in body and "countPage" not in body
        assert get(member_server.base_url + f"{section}/index_{pages}.html")[0] == 404
        on_site = {
            urlsplit(href).path
            for href, _ in list_links(member_server, member, section)
            if href.startswith(member_server.base_url)
        }
        assert {a.url_path for a in member.articles if section in a.sections} <= on_site


def check_member_article(server: ReplicaServer, site: ReplicaSite, truth: ArticleTruth) -> bool:
    """Check one member-template page against its truth; True if it has a logo <h1>."""
    status, headers, body = get(server.base_url + truth.url_path.lstrip("/"))
    assert status == 200 and headers["Content-Type"] == "text/html; charset=utf-8"
    doc = lxml.html.fromstring(body.decode("utf-8"))
    assert not doc.xpath(
        '//*[contains(@class, "content-title") or contains(@class, "content-info")'
        ' or contains(@class, "content-con")]'
    )
    assert doc.xpath('//meta[@name="ArticleTitle"]/@content') == [truth.title]
    assert doc.xpath('//meta[@name="SiteName"]/@content') == [site.site_name]
    assert doc.xpath('//meta[@name="PubDate"]/@content')[0] == truth.created[:16].replace("T", " ")
    assert [clean(h.text_content()) for h in doc.xpath(ARTICLE_H1)] == [truth.title]
    logos = doc.xpath('//h1[@class="logo"]')
    assert [clean(h.text_content()) for h in logos] in ([], [site.site_name])
    info = "".join(doc.xpath('//div[@class="article-attr"]')[0].text_content().split())
    match = re.fullmatch(
        r"来源[:：](.*)时间[:：](\d{4}-\d{2}-\d{2})(\d{2}:\d{2}:\d{2})作者[:：](.+)", info
    )
    assert match is not None, info
    assert (match.group(1) or None) == truth.source
    assert f"{match.group(2)}T{match.group(3)}+08:00" == truth.published
    assert match.group(4) == truth.author
    assert body_paragraphs(doc) == truth.paragraphs
    page_url = server.base_url.rstrip("/") + truth.url_path
    images = doc.xpath('//div[@class="article-body"]//img/@src')
    assert [urlsplit(urljoin(page_url, src)).path for src in images] == [
        f.url_path for f in truth.images
    ]
    return bool(logos)


def test_member_articles_match_truth(member_server: ReplicaServer, member: ReplicaSite) -> None:
    logos = []
    for truth in member.articles:
        assert truth.template == "member" and truth.encoding == "utf-8"
        assert truth.author and CLOCK.fullmatch(truth.published)
        assert truth.sections[0] in member.sections and ARTICLE_URL.match(truth.url_path)
        logos.append(check_member_article(member_server, member, truth))
    # Older pages keep the header with a logo <h1> before the title's <h1>; newer ones do not.
    assert any(logos) and not all(logos)
    assert any(a.source is None for a in member.articles)
    # Images carry captions: the centred <p> under an image is a line of the truth.
    captions = []
    for truth in (a for a in member.articles if a.images):
        doc = lxml.html.fromstring(get_live(member_server, truth.url_path))
        for img in doc.xpath('//div[@class="article-body"]//p[img]'):
            after = img.getnext()
            centred = after is not None and "text-align:center" in after.get("style", "")
            if centred and not after.xpath(".//img"):
                captions.append(clean(after.text_content()))
                assert captions[-1] in truth.paragraphs
    assert len(captions) >= 2
    for path in {f.url_path for a in member.articles for f in a.images}:
        status, headers, body = get(member_server.base_url + path.lstrip("/"))
        assert status == 200 and headers["Content-Type"] in ("image/jpeg", "image/png")


def test_shared_stories_match_chalco(
    group: tuple[ReplicaSite, ReplicaSite], member_server: ReplicaServer, server: ReplicaServer
) -> None:
    chalco, member = group
    assert server.site.articles == chalco.articles  # build_group's main site is build_site()
    assert len(member.shared_stories) == SHARED_STORIES
    same = []
    for member_path, chalco_path in member.shared_stories:
        ours, theirs = member.article(member_path), chalco.article(chalco_path)
        assert (ours.title, ours.paragraphs) == (theirs.title, theirs.paragraphs)
        assert ours.url_path.startswith("/xwzx/gsyw/") and theirs.url_path.startswith("/xwdt/")
        assert (ours.template, theirs.template) == ("member", "trs")
        # Over HTTP too: same title and body text under two templates.
        mine = lxml.html.fromstring(get_live(member_server, member_path))
        main = lxml.html.fromstring(get_live(server, chalco_path))
        assert clean(mine.xpath(ARTICLE_H1)[0].text_content()) == theirs.title
        assert clean(main.xpath('//div[@class="content-title"]')[0].text_content()) == ours.title
        assert body_paragraphs(mine) == body_paragraphs(main) == theirs.paragraphs
        if ours.docid == theirs.docid:
            same.append(ours)
            # A quoted document: same docid, same URL date, other channel path.
            assert ours.url_path.rsplit("/", 1)[1] == theirs.url_path.rsplit("/", 1)[1]
        else:
            assert ours.docid > MEMBER_DOCID_BASE and ours.created > theirs.created
    assert len(same) == 1


def test_member_docids_do_not_collide(group: tuple[ReplicaSite, ReplicaSite]) -> None:
    chalco, member = group
    (same,) = [
        m for m, c in member.shared_stories if member.article(m).docid == chalco.article(c).docid
    ]
    same_docid = member.article(same).docid
    chalco_ids = {a.docid for a in chalco.articles} | {
        e.docid for extra in chalco._extras.values() for e in extra
    }
    member_ids = {a.docid for a in member.articles} | {
        e.docid for extra in member._extras.values() for e in extra
    }
    assert len(member_ids) == len(member.articles) + 1  # the disallowed item
    assert chalco_ids & member_ids == {same_docid}
    assert max(chalco_ids) < MEMBER_DOCID_BASE < min(member_ids - {same_docid})
    # Within the member site docids grow with the URL date, the quoted document aside.
    own = sorted((a for a in member.articles if a.docid != same_docid), key=lambda a: a.docid)
    dates = [a.url_path.split("/")[4][1:9] for a in own]
    assert dates == sorted(dates)
    for a in member.articles:
        match = ARTICLE_URL.match(a.url_path)
        assert (
            match
            and int(match.group(4)) == a.docid
            and a.created.startswith(
                f"{match.group(3)[:4]}-{match.group(3)[4:6]}-{match.group(3)[6:]}"
            )
        )


def test_member_robots_txt_and_disallowed(
    member_server: ReplicaServer, member: ReplicaSite
) -> None:
    status, _, body = get(member_server.base_url + "robots.txt")
    assert status == 200 and b"zzly.chinalco.com.cn" in body
    robots = urllib.robotparser.RobotFileParser()
    robots.parse(body.decode("utf-8").splitlines())
    private = member.specials.disallowed
    assert private.startswith("/xwzx/gsyw/nbzl/")
    assert not robots.can_fetch("chalco-archive", member_server.base_url + private.lstrip("/"))
    assert all(
        robots.can_fetch("chalco-archive", member_server.base_url + a.url_path.lstrip("/"))
        for a in member.articles
    )
    listed = {urlsplit(h).path for h, _ in list_links(member_server, member, "xwzx/gsyw")}
    assert private in listed and get(member_server.base_url + private.lstrip("/"))[0] == 200


def test_member_build_is_deterministic(member: ReplicaSite) -> None:
    again = build_site(articles=40, flavour="member")
    assert again.articles == member.articles and again.shared_stories == member.shared_stories
    assert again.render(member.articles[0].url_path, "h") == member.render(
        member.articles[0].url_path, "h"
    )
    other = build_group(seed=7, articles=45, member_articles=30, page_size=4)[1]
    assert len(other.articles) == 30 and len(other.shared_stories) == SHARED_STORIES
    assert all(other.list_pages[s] >= 3 for s in other.sections)
    with pytest.raises(ValueError):
        build_site(flavour="nope")
    with pytest.raises(ValueError):
        build_group(member_articles=5)


def test_member_advance() -> None:
    member = build_group()[1]
    shared = [m for m, _ in member.shared_stories]
    edit, remove = member.default_edit(), member.default_removal()
    assert edit.startswith("/xwzx/gsyw/") and remove.startswith("/xwzx/qydt/")
    assert edit not in shared and remove not in shared
    state = member.advance()
    assert len(state.new_articles) == sum(MEMBER_DEFAULT_NEW_ARTICLES.values())
    for truth in state.new_articles:
        assert truth.template == "member" and truth.author and CLOCK.fullmatch(truth.published)
        assert truth.docid > MEMBER_DOCID_BASE
        page = member.render(truth.url_path, "h")
        assert page is not None and page[0] == 200
        html = page[2].decode("utf-8")
        assert f"<h1>{truth.title}</h1>" in html and "作者" in html
    gone = member.render(remove, "h")
    assert gone is not None and gone[0] == 404
    before = state.edited_before
    assert state.edited == edit and before is not None
    assert member.article(edit).title != before.title
    assert all(
        member.article(m).title == build_site().article(c).title for m, c in member.shared_stories
    )


def test_main_serves_member_and_group(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import replica.__main__ as cli

    served: list[ReplicaServer] = []

    class Recording(ReplicaServer):
        def start(self) -> ReplicaServer:
            served.append(self)
            return self

    def interrupt(seconds: float) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "ReplicaServer", Recording)
    monkeypatch.setattr(cli.time, "sleep", interrupt)
    assert main(["--flavour", "member", "--port", "0", "--articles", "40"]) == 0
    assert served[0].site.flavour == "member" and len(served[0].site.articles) == 40
    capsys.readouterr()
    assert main(["--group", "--port", "8123"]) == 0
    chalco, member = served[1:]
    assert (chalco.site.flavour, member.site.flavour) == ("chalco", "member")
    assert (chalco.port, member.port) == (8123, 8124)
    assert len(member.site.shared_stories) == SHARED_STORIES
    assert capsys.readouterr().out.split() == [
        "http://127.0.0.1:8123/",
        "http://127.0.0.1:8124/",
    ]
