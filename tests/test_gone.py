"""An archived article is marked gone only when its own URL answers 404 or 410: never on a
403, a 429, a 5xx, a timeout, a redirect to a missing page, or a missing file it names. One
crawl of a section, then a revisit against a replica where each such article misbehaves."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from archive.read.articles import iter_articles
from archive.store.db import open_reader, session_factory
from archive.store.home import ArchiveHome
from replica.server import ReplicaServer
from replica.site.build import build_site
from tests.conftest import CrawlResult, run_crawl

SECTION = "xwdt/gsyw"
# What each misbehaving article answers on the revisit; the first letter names it below.
ANSWERS = ("403", "429", "500", "503", "timeout", "redirect", "404", "410", "file404")
TIMEOUT = ["-s", "DOWNLOAD_TIMEOUT=1"]


class MisbehavingReplica(ReplicaServer):
    """The replica, with some article paths answering something other than their page."""

    answers: dict[str, str] = {}
    missing_target = "/xwdt/gsyw/202601/t20260101_1.html"

    def respond(self, method, target, headers):
        path = urlsplit(target).path
        answer = self.answers.get(path)
        if answer is None:
            return super().respond(method, target, headers)
        if answer.isdigit():
            return int(answer), {"Content-Type": "text/html; charset=utf-8"}, b"<p>no</p>"
        if answer == "timeout":
            time.sleep(2.5)
            return super().respond(method, target, headers)
        # a redirect of the article to a page that is not there
        return 301, {"Location": self.missing_target}, b""


@dataclass
class Revisited:
    server: MisbehavingReplica
    result: CrawlResult
    urls: dict[str, str]
    """answer -> the article URL answering it"""
    file_url: str
    statuses: dict[str, str]


@pytest.fixture(scope="module")
def revisited(tmp_path_factory) -> Revisited:
    site = build_site()
    with MisbehavingReplica(site) as server:
        home = tmp_path_factory.mktemp("gone") / "home"
        first = run_crawl(home, server.base_url, "--sections", SECTION)
        assert first.exit_code == 0, first.stderr
        records = list(_records(home))
        with_files = [r for r in records if r["attachments"] or r["images"]]
        plain = [r for r in records if not (r["attachments"] or r["images"])]
        assert len(plain) >= len(ANSWERS) - 1 and with_files
        urls = {answer: record["url"] for answer, record in zip(ANSWERS[:-1], plain, strict=False)}
        urls["file404"] = with_files[0]["url"]
        named = with_files[0]["attachments"] + with_files[0]["images"]
        file_url = named[0]["url"]
        answers = {urlsplit(u).path: a for a, u in urls.items() if a != "file404"}
        answers[urlsplit(file_url).path] = "404"
        server.answers = answers
        result = run_crawl(home, server.base_url, "--revisit", *TIMEOUT, timeout=240)
        statuses = {r["url"]: r["status"] for r in _records(home)}
    return Revisited(server, result, urls, file_url, statuses)


def _records(home: Path):
    engine = open_reader(ArchiveHome.at(home))
    with session_factory(engine)() as session:
        yield from list(iter_articles(session))
    engine.dispose()


@pytest.mark.parametrize("answer", ["404", "410"])
def test_an_article_whose_own_url_answers_404_or_410_is_gone(revisited, answer):
    assert revisited.statuses[revisited.urls[answer]] == "gone"


@pytest.mark.parametrize("answer", ["403", "429", "500", "503", "timeout"])
def test_an_error_a_rerun_may_fix_leaves_the_article_live_and_fails_the_run(revisited, answer):
    url = revisited.urls[answer]
    assert revisited.statuses[url] == "live"
    failed = {f["url"]: f["reason"] for f in revisited.result.summary["failures"]}
    assert url in failed, failed
    assert revisited.result.exit_code == 1 and revisited.result.summary["status"] == "partial"


def test_a_redirect_to_a_missing_page_is_a_dead_link_not_a_gone_article(revisited):
    url = revisited.urls["redirect"]
    assert revisited.statuses[url] == "live"
    target = revisited.server.base_url + revisited.server.missing_target.lstrip("/")
    assert {"url": url, "reason": f"HTTP 404 at {target}"} in revisited.result.summary["dead_links"]


def test_a_missing_file_is_a_dead_link_and_its_article_stays_live(revisited):
    assert revisited.statuses[revisited.urls["file404"]] == "live"
    dead = {d["url"]: d["reason"] for d in revisited.result.summary["dead_links"]}
    assert dead[revisited.file_url] == "HTTP 404 on revisit"
    assert revisited.file_url not in {f["url"] for f in revisited.result.summary["failures"]}


def test_only_those_two_are_counted_gone(revisited):
    assert revisited.result.summary["gone"] == 2
    gone = {url for url, status in revisited.statuses.items() if status == "gone"}
    assert gone == {revisited.urls["404"], revisited.urls["410"]}
