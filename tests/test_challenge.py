"""Challenge-page detection (chalco_crawler/challenge.py): anti-bot scripts, captchas and
login walls are told apart from content and from plain error pages."""

from __future__ import annotations

import pytest

from chalco_crawler.challenge import detect_challenge
from replica.faults import challenges
from replica.server import ReplicaServer
from replica.site.build import build_site
from tests.conftest import run_crawl

HTML = "text/html; charset=utf-8"
CLOUDFLARE = (
    b"<!DOCTYPE html><html><head><title>Just a moment...</title>"
    b"<script>window._cf_chl_opt={cType:'managed'};</script></head>"
    b"<body><noscript>Please enable JavaScript and cookies to continue</noscript>"
    b"<div id='challenge-platform'>Checking your browser before accessing the site.</div>"
    b"</body></html>"
)
COOKIE_RELOAD = (
    b"<html><body><script>document.cookie='__jsl_clearance=1697;max-age=3600;path=/';"
    b"location.href=location.pathname+location.search</script></body></html>"
)


@pytest.mark.parametrize(
    ("status", "body", "kind", "words"),
    [
        (412, challenges.script_only_page("a"), "script", "HTTP 412 with a script-only body"),
        (412, b"", "script", "HTTP 412 to a plain GET"),
        (202, challenges.script_only_page("b"), "script", "HTTP 202 with a script-only body"),
        (200, challenges.captcha_page("c"), "captcha", "HTTP 200 with a captcha"),
        (404, challenges.captcha_page("d"), "captcha", "HTTP 404 with a captcha"),
        (200, challenges.login_page(), "login", "HTTP 200 with a login form"),
        (401, b"<html><body>Unauthorized</body></html>", "login", "HTTP 401"),
        (503, CLOUDFLARE, "captcha", "HTTP 503 with a captcha"),
        (200, COOKIE_RELOAD, "script", "HTTP 200 with a script-only body"),
        (
            200,
            challenges.captcha_page("gbk").decode("utf-8").replace("utf-8", "gbk").encode("gbk"),
            "captcha",
            "captcha",
        ),
    ],
)
def test_challenge_pages_are_recognised(status, body, kind, words):
    found = detect_challenge(status, HTML if b"gbk" not in body else "text/html", body)
    assert found is not None and found.kind == kind
    assert words in found.reason
    assert "\n" not in found.reason


@pytest.fixture(scope="module")
def site():
    return build_site(articles=40)


def test_no_page_of_the_replica_is_a_challenge(site):
    paths = ["/", "/xwdt/", "/gywm/", "/robots.txt"]
    paths += [p for section in site.sections for p in site.list_paths(section)]
    paths += [a.url_path for a in site.articles]
    for path in paths:
        status, headers, body = site.render(path, "127.0.0.1:8000")
        assert detect_challenge(status, headers["Content-Type"], body) is None, path


@pytest.mark.parametrize(
    ("status", "content_type", "body"),
    [
        (200, HTML, b""),  # an empty page: flagged by extraction, not a challenge
        (404, HTML, b"<html><body><h1>404</h1><p>\xe9\xa1\xb5\xe9\x9d\xa2</p></body></html>"),
        (403, HTML, b"<html><body><h1>403 Forbidden</h1><hr>nginx</body></html>"),
        (500, HTML, b"<html><body><h1>500</h1></body></html>"),
        (200, "application/pdf", b"%PDF-1.4 captcha <script>"),
        (503, "text/plain", b"Service Unavailable"),
    ],
)
def test_errors_and_files_are_not_challenges(status, content_type, body):
    assert detect_challenge(status, content_type, body) is None


def test_an_article_that_mentions_a_captcha_is_content(site):
    article = next(a for a in site.live_articles() if a.encoding == "utf-8")
    status, headers, body = site.render(article.url_path, "127.0.0.1:8000")
    page = body.decode("utf-8").replace(
        "</body>", '<form><input type="password"><img src="/captcha.jpg">验证码</form></body>'
    )
    assert detect_challenge(status, headers["Content-Type"], page.encode("utf-8")) is None


def test_a_crawl_whose_home_page_is_a_challenge_archives_no_article(tmp_path):
    class Challenged(ReplicaServer):
        def respond(self, method, target, headers):
            if target == "/":
                return 412, {"Content-Type": HTML}, challenges.script_only_page()
            return super().respond(method, target, headers)

    with Challenged(build_site(articles=40)) as server:
        result = run_crawl(tmp_path / "home", server.base_url, timeout=60)
        paths = [r.path for r in server.requests]
    assert result.exit_code == 6, result.stderr
    assert result.summary["new"] == 0 and result.summary["failed"] == 0
    assert result.summary["challenges"][0]["reason"].startswith("HTTP 412 with a script-only")
    assert paths == ["/robots.txt"]  # the home page is answered above, unlogged: nothing after it
