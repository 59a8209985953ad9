"""Reading the replica over real HTTP in tests: GET without following redirects, the
links of a section's lists, an article page's text checked against its truth."""

from __future__ import annotations

import re
import urllib.error
import urllib.request
from urllib.parse import urljoin, urlsplit

import lxml.html

from replica.server import ReplicaServer
from replica.site import ReplicaSite
from replica.site.truth import ArticleTruth

ARTICLE_URL = re.compile(r"^/([a-z]+/[a-z]+)/(\d{6})/t(\d{8})_(\d+)\.html$")


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
