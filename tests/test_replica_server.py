"""ReplicaServer over real HTTP: a page that fails once per server, conditional GETs, gzip
when asked, HEAD, and keep-alive throughput."""

from __future__ import annotations

import gzip
import http.client
import time
from collections.abc import Iterator

import pytest

from replica.server import ReplicaServer
from replica.site import ReplicaSite
from replica.site.build import build_site
from tests.replica_http import get


@pytest.fixture(scope="module")
def site() -> ReplicaSite:
    return build_site()


@pytest.fixture(scope="module")
def server(site: ReplicaSite) -> Iterator[ReplicaServer]:
    with ReplicaServer(site) as running:
        yield running


def test_flaky_article_fails_once_per_server(site: ReplicaSite) -> None:
    with ReplicaServer(site) as fresh:
        url = fresh.base_url + site.specials.flaky.lstrip("/")
        assert [get(url)[0] for _ in range(3)] == [500, 200, 200]
    with ReplicaServer(site) as again:
        assert get(again.base_url + site.specials.flaky.lstrip("/"))[0] == 500


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
