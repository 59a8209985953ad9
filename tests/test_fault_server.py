"""The fault replica behaves as described, at the HTTP level (http.client and raw sockets)."""

from __future__ import annotations

import gzip
import hashlib
import http.client
import re
import socket
import time
import zlib
from collections.abc import Iterator
from urllib.parse import urljoin, urlsplit

import pytest
from backports import zstd
from brotli import decompress as unbrotli

from replica.faults import FaultServer
from replica.faults.content import DUPLICATE_DOCID
from replica.faults.lists import ENDLESS_CLAIMED_PAGES
from replica.faults.redirects import LOOP_A, LOOP_B, MIRROR_URL
from replica.faults.truth import GoodArticle

BOMB_SIZE = 4 * 1024 * 1024
# Good articles whose declared charset lies: (the header's charset, what the bytes are in).
CHARSET_LIES = {"wrong_charset": ("utf-8", "gb18030"), "gbk_declared_utf8": ("GBK", "utf-8")}
SLOW_INTERVAL = 0.2
ARTICLE_URL = re.compile(r"/t\d{8}_\d+\.html$")
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


def fetch(
    server: FaultServer,
    path: str,
    method: str = "GET",
    headers: dict[str, str] | None = None,
) -> tuple[int, http.client.HTTPMessage, bytes]:
    conn = http.client.HTTPConnection(server.host, server.port, timeout=5)
    try:
        conn.request(method, path, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.headers, response.read()
    finally:
        conn.close()


def raw_request(server: FaultServer, path: str, timeout: float = 5) -> socket.socket:
    sock = socket.create_connection((server.host, server.port), timeout=timeout)
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: {server.host}:{server.port}\r\n\r\n".encode())
    return sock


def read_head(sock: socket.socket) -> tuple[bytes, bytes]:
    """Status line and headers, and whatever body bytes came with them."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        assert chunk, "connection closed before the headers ended"
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    return head, rest


def header(head: bytes, name: str) -> str | None:
    for line in head.decode("latin-1").split("\r\n")[1:]:
        key, _, value = line.partition(":")
        if key.strip().lower() == name.lower():
            return value.strip()
    return None


def visible_text(body: bytes, charset: str = "utf-8") -> str:
    text = body.decode(charset).replace("\x00", "")
    return re.sub(r"<[^>]+>", "", text)


def linked_paths(server: FaultServer, path: str) -> set[str]:
    _, _, body = fetch(server, path)
    base = server.base_url.rstrip("/") + path
    return {
        urlsplit(urljoin(base, href)).path
        for href in re.findall(r'href="([^"]+)"', body.decode("utf-8"))
    }


def assert_article(article: GoodArticle, body: bytes, charset: str = "utf-8") -> None:
    text = visible_text(body, charset)
    assert article.title in text
    assert f"来源：{article.source}" in text
    assert f"时间：{article.published}" in text
    for paragraph in article.paragraphs:
        assert paragraph in text


# -- the site ------------------------------------------------------------------------------


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


# -- connection faults ----------------------------------------------------------------------


def test_reset(server: FaultServer) -> None:
    sock = raw_request(server, server.cases["reset"].path)
    with sock, pytest.raises(ConnectionResetError):
        while sock.recv(4096):
            pass
    assert server.requests_for(server.cases["reset"].path)[0].status is None


def test_short_body(server: FaultServer) -> None:
    conn = http.client.HTTPConnection(server.host, server.port, timeout=5)
    conn.request("GET", server.cases["short_body"].path)
    response = conn.getresponse()
    assert response.status == 200 and response.headers["Content-Length"] == "5000"
    with pytest.raises(http.client.IncompleteRead) as caught:
        response.read()
    assert len(caught.value.partial) == 1000
    assert caught.value.partial.startswith(b"<!DOCTYPE html>")
    conn.close()


def test_slow_trickles(server: FaultServer) -> None:
    started = time.monotonic()
    sock = raw_request(server, server.cases["slow"].path)
    with sock:
        head, rest = read_head(sock)
        assert time.monotonic() - started < SLOW_INTERVAL
        assert head.startswith(b"HTTP/1.1 200") and rest == b""
        assert int(header(head, "Content-Length") or 0) > 1000
        received = b""
        while len(received) < 3:
            received += sock.recv(10)
        elapsed = time.monotonic() - started
        assert received.startswith(b"<!D") and len(received) <= 4
        assert elapsed >= 3 * SLOW_INTERVAL * 0.8
        # close early, as a timed-out client does


def test_slow_gives_up_after_slow_seconds() -> None:
    with FaultServer(slow_interval=0.05, slow_seconds=0.3) as s:
        sock = raw_request(s, s.cases["slow"].path)
        with sock:
            _, rest = read_head(sock)
            while chunk := sock.recv(100):
                rest += chunk
        assert 0 < len(rest) <= 6  # closed far short of Content-Length


def test_server_error_always(server: FaultServer) -> None:
    for _ in range(4):
        assert fetch(server, server.cases["server_error_always"].path)[0] == 500


# -- retries --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "status", "failures", "retry_after"),
    [("retry_after_429", 429, 2, "2"), ("retry_after_503", 503, 1, "1")],
)
def test_retry_after(
    server: FaultServer, name: str, status: int, failures: int, retry_after: str
) -> None:
    article = server.good(name)
    assert article.needs_retry and server.cases[name].good
    for _ in range(failures):
        got, headers, _ = fetch(server, article.url_path)
        assert got == status and headers["Retry-After"] == retry_after
    got, _, body = fetch(server, article.url_path)
    assert got == 200
    assert_article(article, body)
    server.reset()
    assert fetch(server, article.url_path)[0] == status


# -- bodies ---------------------------------------------------------------------------------


UNDO = {
    "gzip": gzip.decompress,
    "deflate": zlib.decompress,
    "br": unbrotli,
    "zstd": zstd.decompress,
}
MAGIC = {"page": b"<!DOCTYPE html>", "attachment": b"%PDF-", "image": b"\x89PNG"}


@pytest.mark.parametrize("coding", sorted(UNDO))
def test_bombs(server: FaultServer, coding: str) -> None:
    page = server.cases[f"page_bomb_{coding}"].path
    attachment, image = server.cases[f"file_bombs_{coding}"].related
    for kind, path in (("page", page), ("attachment", attachment), ("image", image)):
        status, headers, body = fetch(server, path)
        assert status == 200
        assert headers["Content-Encoding"] == coding
        assert int(headers["Content-Length"]) == len(body) < BOMB_SIZE // 100
        decoded = UNDO[coding](body)
        assert len(decoded) == BOMB_SIZE and decoded.startswith(MAGIC[kind])
        assert not decoded[len(MAGIC[kind]) + 64 :].strip(b"\x00")
    assert server.bomb_bytes() == fetch(server, server.cases["page_bomb_gzip"].path)[2]
    article = server.good(f"file_bombs_{coding}")
    assert_article(article, fetch(server, article.url_path)[2])
    assert linked_paths(server, article.url_path) >= {attachment}


@pytest.mark.parametrize(("case", "status"), [("dead_link_404", 404), ("dead_link_410", 410)])
def test_dead_links(server: FaultServer, case: str, status: int) -> None:
    assert fetch(server, server.cases[case].path)[0] == status


def test_malformed_unclosed(server: FaultServer) -> None:
    article = server.good("malformed_unclosed")
    body = fetch(server, article.url_path)[2]
    text = body.decode("utf-8")
    assert "</head>" not in text and "</body>" not in text and "</html>" not in text
    assert text.count("<p") > text.count("</p>") - 3  # <p>s left open, stray </p>s after
    assert "</b></i>" in text
    assert_article(article, body)


def test_malformed_nul(server: FaultServer) -> None:
    article = server.good("malformed_nul")
    body = fetch(server, article.url_path)[2]
    assert body.count(b"\x00") > 10
    head, _, rest = body.partition(b"<body>")
    assert b"\x00" not in head
    assert article.title.encode("utf-8") not in rest  # split by a NUL
    assert_article(article, body)


def test_wrong_charset(server: FaultServer) -> None:
    status, headers, body = fetch(server, server.cases["wrong_charset"].path)
    assert status == 200 and headers["Content-Type"] == "text/html; charset=utf-8"
    assert b'<meta charset="utf-8">' in body
    with pytest.raises(UnicodeDecodeError):
        body.decode("utf-8")
    assert "青海分公司开展冬季设备检修" in body.decode("gb18030")


def test_gbk_declared_utf8(server: FaultServer) -> None:
    article = server.good("gbk_declared_utf8")
    status, headers, body = fetch(server, article.url_path)
    assert status == 200 and headers["Content-Type"] == "text/html; charset=GBK"
    assert b"charset=gbk" in body
    assert article.title not in body.decode("gbk", "replace")
    assert_article(article, body, "utf-8")


def test_mixed_charset(server: FaultServer) -> None:
    article = server.good("mixed_charset")
    status, headers, body = fetch(server, article.url_path)
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    assert b"charset=gb2312" in body and b"<meta charset=" not in body
    assert_article(article, body)
    assert article.title not in body.decode("gb18030", "replace")


def test_empty_200(server: FaultServer) -> None:
    status, headers, body = fetch(server, server.cases["empty_200"].path)
    assert status == 200 and headers["Content-Length"] == "0" and body == b""


# -- redirects ------------------------------------------------------------------------------


def test_redirect_loop(server: FaultServer) -> None:
    case = server.cases["redirect_loop"]
    assert case.related == (LOOP_A, LOOP_B)
    hops = [case.path]
    for _ in range(5):
        status, headers, _ = fetch(server, hops[-1])
        assert status == 302
        hops.append(headers["Location"])
    assert hops[1:] == [LOOP_A, LOOP_B, LOOP_A, LOOP_B, LOOP_A]


def test_redirect_offhost(server: FaultServer) -> None:
    case = server.cases["redirect_offhost"]
    status, headers, _ = fetch(server, case.path)
    assert status == 301
    target = urlsplit(headers["Location"])
    assert (target.hostname, target.port) == ("localhost", server.port)
    assert target.path == case.related[0]
    # The target answers, so a crawler that followed it would show in the log.
    assert fetch(server, target.path, headers={"Host": target.netloc})[0] == 200
    assert f"localhost:{server.port}" in server.hosts_seen()

    status, headers, _ = fetch(server, server.cases["redirect_offhost_mirror"].path)
    assert status == 301 and headers["Location"] == MIRROR_URL


# -- lists ----------------------------------------------------------------------------------


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


# -- attachments ----------------------------------------------------------------------------


def test_huge_attachment_headers_only(server: FaultServer) -> None:
    article = server.good("huge_attachment")
    (huge,) = article.attachments
    assert huge.oversized and huge.size == 30 * 1024 * 1024 and huge.sha256 is None
    page = fetch(server, article.url_path)[2].decode("utf-8")
    assert "./" + huge.url_path.rsplit("/", 1)[1] in page and huge.name in page
    sock = raw_request(server, huge.url_path)
    with sock:
        head, rest = read_head(sock)
    assert head.startswith(b"HTTP/1.1 200")
    assert header(head, "Content-Length") == str(huge.size)
    assert header(head, "Content-Type") == "application/pdf"
    assert not rest or rest.startswith(b"%PDF")


def test_huge_attachment_is_exactly_huge_size() -> None:
    with FaultServer(huge_size=200_003) as s:
        (huge,) = s.good("huge_attachment").attachments
        status, headers, body = fetch(s, huge.url_path)
    assert status == 200 and len(body) == 200_003 == huge.size
    assert body.startswith(b"%PDF-1.4") and body.endswith(b"%%EOF\n")


def test_hostile_names(server: FaultServer) -> None:
    article = server.good("hostile_names")
    body = fetch(server, article.url_path)[2]
    for needle in (b"../../etc/passwd", b"&#0;", b"\x00", b"\x1b[31m", "\u202e".encode()):
        assert needle in body
    names = [a.name for a in article.attachments]
    assert "../../etc/passwd" in names and "CON" in names
    assert any("\u202e" in n for n in names) and any("\x01" in n for n in names)
    assert max(len(n) for n in names) == 500
    hrefs = re.findall(rb'href="\./(P0[0-9]+\.pdf)"', body)
    assert len(hrefs) == len(article.attachments)
    for attachment in article.attachments:
        status, headers, data = fetch(server, attachment.url_path)
        assert status == 200 and headers["Content-Type"] == "application/pdf"
        assert hashlib.sha256(data).hexdigest() == attachment.sha256


def test_duplicate_docid(server: FaultServer) -> None:
    article = server.good("duplicate_docid")
    (other,) = article.aliases
    assert article.docid == DUPLICATE_DOCID
    assert article.url_path.startswith("/xwdt/gsyw/") and other.startswith("/xwdt/ggdt/")
    assert article.url_path.rsplit("/", 1)[1] == other.rsplit("/", 1)[1]
    assert other in linked_paths(server, "/xwdt/ggdt/")
    for path in (article.url_path, other):
        status, _, body = fetch(server, path)
        assert status == 200
        assert_article(article, body)
