"""Daily use: an incremental crawl of the replica a day later finds the new articles cheaply;
a revisit turns the edit into version 2, marks the removed article gone, and asks
conditionally."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from click.testing import CliRunner
from parsel import Selector
from sqlalchemy import text

from archive.cli import main
from archive.read.articles import get_article, iter_articles
from archive.read.captures import get_snapshot
from archive.store.db import open_reader, session_factory
from archive.store.home import ArchiveHome
from chalco_crawler.discovery import listed_articles
from chalco_crawler.profile import load_profile
from replica.server import ReplicaServer
from replica.site.build import build_site
from replica.site.truth import LaterState
from tests.conftest import CrawlResult, run_crawl


@dataclass
class History:
    home: Path
    server: ReplicaServer
    later: LaterState
    edited_bytes_before: bytes
    between: datetime
    incremental: CrawlResult
    incremental_requests: list
    revisit: CrawlResult
    revisit_requests: list


@pytest.fixture(scope="module")
def history(tmp_path_factory) -> History:
    site = build_site()
    with ReplicaServer(site) as server:
        home = tmp_path_factory.mktemp("home")
        first = run_crawl(home, server.base_url)
        assert first.exit_code == 0, first.stderr  # its dead link is no failure
        host = urlsplit(server.base_url).netloc
        later = site.advance()
        edited_bytes_before = None
        assert later.edited is not None
        between = datetime.now(UTC)
        # The replica renders the new state now; the old bytes are what the first crawl got.
        engine = open_reader(ArchiveHome.at(home))
        with session_factory(engine)() as session:
            edited_bytes_before = get_snapshot(
                session, ArchiveHome.at(home), server.base_url + later.edited.lstrip("/")
            ).content
        engine.dispose()
        assert edited_bytes_before != site.render(later.edited, host)[2]

        start = len(server.requests)
        incremental = run_crawl(home, server.base_url)
        middle = len(server.requests)
        revisit = run_crawl(home, server.base_url, "--revisit")
        return History(
            home=home,
            server=server,
            later=later,
            edited_bytes_before=edited_bytes_before,
            between=between,
            incremental=incremental,
            incremental_requests=list(server.requests[start:middle]),
            revisit=revisit,
            revisit_requests=list(server.requests[middle:]),
        )


@pytest.fixture(scope="module")
def session(history):
    engine = open_reader(ArchiveHome.at(history.home))
    session = session_factory(engine)()
    yield session
    session.close()
    engine.dispose()


def url(history: History, path: str) -> str:
    return history.server.base_url + path.lstrip("/")


def test_incremental_crawl_finds_every_new_article_cheaply(history, session):
    assert history.incremental.exit_code == 0, history.incremental.stderr
    assert history.incremental.summary["new"] == len(history.later.new_articles)
    records = {r["url"]: r for r in iter_articles(session)}
    for truth in history.later.new_articles:
        record = records[url(history, truth.url_path)]
        assert (record["title"], record["source"], record["published"]) == (
            truth.title,
            truth.source,
            truth.published,
        )
        assert sorted(record["sections"]) == sorted(truth.sections)
    counted = [r for r in history.incremental_requests if r.path not in ("/", "/robots.txt")]
    sections = len(history.server.site.sections)
    assert len(counted) <= len(history.later.new_articles) + sections + 2, [r.path for r in counted]


def test_revisit_makes_the_edit_version_2_and_keeps_version_1(history, session):
    edited = url(history, history.later.edited)
    view = get_article(session, edited)
    assert [v.number for v in view.versions] == [1, 2]
    truth = history.server.site.article(history.later.edited)
    assert view.record["title"] == truth.title
    assert get_article(session, edited, 1).record["title"] == history.later.edited_before.title
    # Exactly one version of each article is flagged as its newest: here, version 2.
    flags = session.execute(
        text(
            "SELECT v.number FROM article_versions v JOIN articles a ON a.id = v.article_id"
            " WHERE a.url = :url AND v.is_latest"
        ),
        {"url": edited},
    ).all()
    assert flags == [(2,)]
    doubles = session.execute(
        text(
            "SELECT article_id FROM article_versions GROUP BY article_id"
            " HAVING sum(CASE WHEN is_latest THEN 1 ELSE 0 END) != 1"
        )
    ).all()
    assert doubles == []
    old = get_snapshot(session, ArchiveHome.at(history.home), edited, at=history.between)
    assert old.content == history.edited_bytes_before
    assert history.revisit.summary["updated"] == 1


def test_revisit_marks_the_removed_article_gone_and_keeps_its_content(history, session):
    removed = get_article(session, url(history, history.later.removed))
    assert removed.record["status"] == "gone"
    assert removed.record["title"]
    assert len(removed.versions) == 1
    assert history.revisit.summary["gone"] == 1


def test_revisit_asks_conditionally(history):
    revisits = [r for r in history.revisit_requests if r.path not in ("/", "/robots.txt")]
    assert revisits
    conditional = [
        r for r in revisits if "If-None-Match" in r.headers or "If-Modified-Since" in r.headers
    ]
    assert len(conditional) / len(revisits) >= 0.9
    assert sum(r.status == 304 for r in revisits) >= len(revisits) - 5


def test_versions_and_diff_commands_show_the_history(history):
    edited = url(history, history.later.edited)
    runner = CliRunner()
    listed = runner.invoke(
        main, ["versions", edited, "--home", str(history.home), "--format", "jsonl"]
    )
    rows = [json.loads(line) for line in listed.stdout.splitlines()]
    assert [r["version"] for r in rows] == [1, 2]
    assert [r["cause"] for r in rows] == ["crawl", "crawl"]
    assert rows[0]["extractor_version"] == rows[1]["extractor_version"] is not None
    assert rows[0]["content_sha256"] != rows[1]["content_sha256"]
    diff = runner.invoke(main, ["diff", edited, "--home", str(history.home)])
    assert diff.exit_code == 0
    assert f"{edited} version 2 (crawl, extractor {rows[1]['extractor_version']})" in diff.stdout
    assert f"-标题：{history.later.edited_before.title}" in diff.stdout
    assert f"+标题：{history.server.site.article(history.later.edited).title}" in diff.stdout


def test_runs_lists_every_crawl_with_its_mode(history):
    result = CliRunner().invoke(main, ["runs", "--home", str(history.home), "--format", "jsonl"])
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["mode"] for r in rows] == ["revisit", "incremental", "incremental"]
    assert [r["status"] for r in rows] == ["ok", "ok", "ok"]
    # The first crawl met the replica's listed dead link; `runs` counts and names it.
    assert [r["dead"] for r in rows][2] == 1 and [r["failed"] for r in rows][2] == 0
    assert rows[2]["dead_links"][0].endswith("t20260105_162712.html")


class FailingReplica(ReplicaServer):
    """The replica, with some paths answering 502 until told otherwise (an outage)."""

    failing: set[str] = set()

    def respond(self, method, target, headers):
        if urlsplit(target).path in self.failing:
            return 502, {"Content-Type": "text/plain"}, b"bad gateway"
        return super().respond(method, target, headers)


def test_an_article_that_failed_is_fetched_by_the_next_incremental_crawl(tmp_path):
    """An article listed on a later list page fails in one crawl: the next incremental crawl
    stops its walk at the first page with nothing new, yet fetches that article."""
    site = build_site()
    first_page, second_page = site.list_paths("xwdt/gsyw")[:2]

    def listed(path: str) -> list[str]:
        page = Selector(text=site.render(path, "127.0.0.1")[2].decode("utf-8"))
        url = "http://127.0.0.1" + path
        return [urlsplit(a.url).path for a in listed_articles(page, url, load_profile("chalco"))]

    article = next(path for path in listed(second_page) if path not in listed(first_page))
    with FailingReplica(site) as server:
        server.failing = {article}
        home = tmp_path / "home"
        first = run_crawl(home, server.base_url)
        assert article in first.stdout + first.stderr
        server.failing = set()
        start = len(server.requests)
        again = run_crawl(home, server.base_url)
        asked = [r.path for r in server.requests[start:]]
    assert again.exit_code in (0, 1), again.stderr
    assert article in asked
    assert second_page not in asked  # the walk stopped on the first page, as before
    engine = open_reader(ArchiveHome.at(home))
    with session_factory(engine)() as session:
        assert get_article(session, server.base_url + article.lstrip("/")).record["title"]
    engine.dispose()


def test_snapshot_of_a_removed_article_says_the_site_answered_404(history):
    removed = url(history, history.later.removed)
    home = str(history.home)
    now = CliRunner().invoke(main, ["snapshot", removed, "--home", home])
    assert now.exit_code == 1
    assert "answered 404" in now.stderr and "--at" in now.stderr
    before = CliRunner().invoke(
        main, ["snapshot", removed, "--home", home, "--at", history.between.isoformat()]
    )
    assert before.exit_code == 0, before.stderr
    assert b"<html" in before.stdout_bytes.lower()


def test_snapshot_headers_of_a_304_are_those_of_the_page_it_confirmed(history, session):
    unchanged = session.execute(
        text("SELECT url FROM captures WHERE status = 304 ORDER BY id LIMIT 1")
    ).scalar_one()
    result = CliRunner().invoke(
        main, ["snapshot", unchanged, "--home", str(history.home), "--headers"]
    )
    assert result.exit_code == 0, result.stderr
    head, _, body = result.stdout_bytes.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200")
    assert body
