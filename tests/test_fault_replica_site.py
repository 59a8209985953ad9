"""The fault replica's site at the HTTP level: every case described, the good articles as
their truth says, navigation and lists (the endless one too), the hostile section,
robots.txt, 404s, HEAD and the request log."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

import pytest

from replica.faults import FaultServer
from replica.faults.lists import ENDLESS_CLAIMED_PAGES
from tests.fault_replica_http import (
    ARTICLE_URL,
    BOMB_SIZE,
    SLOW_INTERVAL,
    assert_article,
    fetch,
    linked_paths,
)

# Good articles whose declared charset lies: (the header's charset, what the bytes are in).
CHARSET_LIES = {"wrong_charset": ("utf-8", "gb18030"), "gbk_declared_utf8": ("GBK", "utf-8")}
EXPECTED_CASES = {
    "reset",
    "short_body",
    "slow",
    "retry_after_429",
    "retry_after_503",
    "page_bomb_gzip",
    "page_bomb_deflate",
    "page_bomb_br",
    "page_bomb_zstd",
    "file_bombs_gzip",
    "file_bombs_deflate",
    "file_bombs_br",
    "file_bombs_zstd",
    "gbk_declared_utf8",
    "dead_link_404",
    "dead_link_410",
    "redirect_loop",
    "redirect_offhost",
    "redirect_offhost_mirror",
    "endless_list",
    "malformed_unclosed",
    "malformed_nul",
    "wrong_charset",
    "mixed_charset",
    "empty_200",
    "huge_attachment",
    "hostile_names",
    "duplicate_docid",
    "server_error_always",
    "robots_disallowed",
    "hostile_formulas",
    "hostile_markup",
    "hostile_terminal",
    "challenge_412",
    "challenge_202",
    "challenge_captcha",
    "challenge_login",
}


@pytest.fixture
def server() -> Iterator[FaultServer]:
    with FaultServer(bomb_size=BOMB_SIZE, slow_interval=SLOW_INTERVAL, slow_seconds=3) as s:
        yield s


def test_every_case_is_described(server: FaultServer) -> None:
    assert set(server.cases) == EXPECTED_CASES
    for name, case in server.cases.items():
        assert case.name == name and case.path.startswith("/")
        assert case.description and case.expected
        if name != "endless_list":
            assert ARTICLE_URL.search(case.path), case.path
        has_good = any(a.case == name for a in server.good_articles)
        assert case.good == has_good, name
    assert len({c.path for c in server.cases.values()}) == len(server.cases)


def test_good_articles(server: FaultServer) -> None:
    plain = [a for a in server.good_articles if a.case is None]
    assert len([a for a in plain if a.section == "xwdt/gsyw"]) == 6
    assert {a.case for a in server.good_articles if a.needs_retry} == {
        "retry_after_429",
        "retry_after_503",
    }
    assert len({a.url_path for a in server.good_articles}) == len(server.good_articles)
    assert any(a.attachments for a in plain)
    for article in server.good_articles:
        assert article.url_path.endswith(f"_{article.docid}.html")
        if article.needs_retry:
            continue
        status, headers, body = fetch(server, article.url_path)
        assert status == 200, article.url_path
        charset = CHARSET_LIES.get(article.case or "", ("utf-8", "utf-8"))
        assert headers["Content-Type"] == f"text/html; charset={charset[0]}"
        assert_article(article, body, charset[1])
        for attachment in article.attachments:
            if attachment.oversized:
                continue
            status, headers, data = fetch(server, attachment.url_path)
            assert status == 200 and headers["Content-Type"] == attachment.media_type
            assert len(data) == attachment.size and data.startswith(b"%PDF-")
            assert hashlib.sha256(data).hexdigest() == attachment.sha256


def test_home_navigation_lists_the_news_sections(server: FaultServer) -> None:
    status, _, body = fetch(server, "/")
    assert status == 200
    text = body.decode("utf-8")
    news = text[text.index("新闻动态") :]
    for path, name in (("/xwdt/gsyw/", "公司要闻"), ("/xwdt/ggdt/", "高管动态")):
        assert f'<a href="{path}">{name}</a>' in news
    assert f'<a href="{server.cases["endless_list"].path}">无尽列表</a>' in news
    assert fetch(server, "/xwdt/")[0] == 200


def test_gsyw_lists_two_pages_of_good_articles_and_cases(server: FaultServer) -> None:
    first = fetch(server, "/xwdt/gsyw/")[2].decode("utf-8")
    second = fetch(server, "/xwdt/gsyw/index_1.html")[2].decode("utf-8")
    assert 'createPageHTML(2, 0, "index", "html")' in first
    assert 'createPageHTML(2, 1, "index", "html")' in second
    assert fetch(server, "/xwdt/gsyw/index.html")[2].decode("utf-8") == first
    assert fetch(server, "/xwdt/gsyw/index_2.html")[0] == 404
    listed = linked_paths(server, "/xwdt/gsyw/") | linked_paths(server, "/xwdt/gsyw/index_1.html")
    in_ggdt = linked_paths(server, "/xwdt/ggdt/")
    for name, case in server.cases.items():
        if name != "endless_list" and name not in server.hostile_articles:
            assert case.path in listed | in_ggdt, name
    for article in server.good_articles:
        if article.section == "xwdt/gsyw":
            assert article.url_path in listed
    # Items are relative, as on the live site.
    assert 'href="./202602/t' in first


def test_the_hostile_section_lists_its_articles_and_serves_their_files(
    server: FaultServer,
) -> None:
    """不可信内容 (replica.faults.hostile): linked from the navigation, its list links each hostile
    article; control characters reach the page as references, the script links are there."""
    news = fetch(server, "/")[2].decode("utf-8")
    assert '<a href="/xwdt/hostile/">不可信内容</a>' in news
    listed = linked_paths(server, "/xwdt/hostile/")
    assert {a.url_path for a in server.hostile_articles.values()} <= listed
    assert {server.cases[name].path for name in server.hostile_articles} <= listed
    terminal = server.hostile_articles["hostile_terminal"]
    page = fetch(server, terminal.url_path)[2].decode("utf-8")
    assert "&#27;[2J" in page and "\x1b" not in page and "\u202e" in page
    markup = server.hostile_articles["hostile_markup"]
    page = fetch(server, markup.url_path)[2].decode("utf-8")
    for href in markup.refused_hrefs:
        assert f'href="{href}"' in page.replace("&#x27;", "'")
    assert "&lt;img src=x onerror=" in page  # the title, escaped: text on the page
    for article in server.hostile_articles.values():
        for path, _name in article.attachments:
            status, headers, data = fetch(server, path)
            assert status == 200 and data.startswith(b"%PDF-")


def test_robots_txt(server: FaultServer) -> None:
    status, headers, body = fetch(server, "/robots.txt")
    assert status == 200 and headers["Content-Type"].startswith("text/plain")
    text = body.decode("utf-8")
    assert "Crawl-delay: 1" in text
    assert "Disallow: /xwdt/gsyw/private/" in text
    assert server.cases["robots_disallowed"].path.startswith("/xwdt/gsyw/private/")
    assert fetch(server, server.cases["robots_disallowed"].path)[0] == 200
    with FaultServer(crawl_delay=None) as quick:
        text = fetch(quick, "/robots.txt")[2].decode("utf-8")
    assert "Crawl-delay" not in text and "Disallow: /xwdt/gsyw/private/" in text
    with FaultServer(crawl_delay=0.25) as other:
        assert "Crawl-delay: 0.25\n" in fetch(other, "/robots.txt")[2].decode("utf-8")


def test_unknown_paths_are_404(server: FaultServer) -> None:
    assert fetch(server, "/no/such/page.html")[0] == 404
    assert fetch(server, "/xwdt/gsyw/202602/t20260207_1.html")[0] == 404


def test_head_sends_headers_only(server: FaultServer) -> None:
    path = server.good_articles[0].url_path
    status, headers, body = fetch(server, path, method="HEAD")
    assert status == 200 and body == b""
    assert int(headers["Content-Length"]) == len(fetch(server, path)[2])


def test_requests_are_logged(server: FaultServer) -> None:
    fetch(server, "/robots.txt", headers={"Host": "example.test:1", "X-Probe": "yes"})
    fetch(server, server.cases["server_error_always"].path)
    first, second = server.requests
    assert (first.method, first.path, first.host_header) == ("GET", "/robots.txt", "example.test:1")
    assert first.headers["X-Probe"] == "yes" and first.status == 200 and first.at.tzinfo
    assert second.case == "server_error_always" and second.status == 500
    assert server.hosts_seen() == {"example.test:1", f"{server.host}:{server.port}"}
    assert len(server.requests_for("/robots.txt")) == 1
    server.reset()
    assert server.requests == []


def test_endless_list(server: FaultServer) -> None:
    root = server.cases["endless_list"].path
    first = fetch(server, root)[2].decode("utf-8")
    assert f'createPageHTML({ENDLESS_CLAIMED_PAGES}, 0, "index", "html")' in first
    items = linked_paths(server, root)
    good = {a.url_path for a in server.good_articles}
    articles = {p for p in items if ARTICLE_URL.search(p)}
    assert articles and articles <= good
    for page in (1, 7, 99_999, 123_456):
        status, _, body = fetch(server, f"{root}index_{page}.html")
        assert status == 200
        assert f"createPageHTML({ENDLESS_CLAIMED_PAGES}, {page}," in body.decode("utf-8")
        assert linked_paths(server, f"{root}index_{page}.html") == items
