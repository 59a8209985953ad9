"""End to end: crawl the replica over HTTP twice; check the archive against the replica's truth."""

from __future__ import annotations

import io
import re
import sqlite3
import urllib.request
import urllib.robotparser
from urllib.parse import urlsplit

import pytest
from rich.console import Console
from sqlalchemy import func, select
from warcio.archiveiterator import ArchiveIterator

from archive.read.articles import iter_articles
from archive.read.captures import get_snapshot
from archive.store.db import open_reader, session_factory
from archive.store.home import ArchiveHome
from archive.store.models import Article, ArticleVersion, Capture
from chalco_crawler.run import print_summary
from chalco_crawler.session import CrawlSummary
from tests.conftest import run_crawl

WHITESPACE = re.compile(r"\s+")


def squash(text: str | None) -> str:
    return WHITESPACE.sub("", text or "")


@pytest.fixture(scope="module")
def session(crawled):
    engine = open_reader(ArchiveHome.at(crawled.home))
    session = session_factory(engine)()
    yield session
    session.close()
    engine.dispose()


@pytest.fixture(scope="module")
def records(session):
    return {record["url"]: record for record in iter_articles(session)}


def missing_urls(replica_site, replica) -> set[str]:
    return {
        replica.base_url + a.url_path.lstrip("/") for a in replica_site.articles if a.status == 404
    }


def test_first_crawl_is_ok_and_counts_the_missing_page_as_a_dead_link(
    crawled, replica_site, replica, session
):
    """A listed page answering 404 is a finished fact: archived as answered, counted as a
    dead link, exit 0; the one that fails once with 500 is fetched again and archived."""
    assert crawled.first.exit_code == 0, crawled.first.stderr
    summary = crawled.first.summary
    assert summary["status"] == "ok" and summary["failures"] == []
    missing = missing_urls(replica_site, replica)
    assert missing and summary["dead"] == len(missing)
    assert {(d["url"], d["reason"]) for d in summary["dead_links"]} == {
        (url, "HTTP 404") for url in missing
    }
    for url in missing:
        statuses = session.scalars(select(Capture.status).where(Capture.url == url)).all()
        assert statuses == [404, 404]  # archived as answered, once by each crawl
    logs = "".join(p.read_text("utf-8") for p in (crawled.home / "logs").glob("crawl-*.log"))
    for url in missing:
        assert f"dead link: {url} (HTTP 404)" in logs
    # The --full crawl asks again and finds it dead again: still not a failure.
    assert crawled.second.exit_code == 0, crawled.second.stderr
    assert crawled.second.summary["dead"] == len(missing)


def test_dead_links_fail_the_run_when_asked(replica, replica_site, tmp_path):
    section = "xwdt/ggdt"  # the section that lists the missing page
    assert any(
        url.startswith(replica.base_url + section) for url in missing_urls(replica_site, replica)
    )
    result = run_crawl(
        tmp_path / "home", replica.base_url, "--sections", section, "-s", "DEAD_LINKS_FAIL=True"
    )
    assert result.exit_code == 1, result.stderr
    assert result.summary["status"] == "partial" and result.summary["failures"] == []
    assert result.summary["dead"] == 1


def test_every_live_article_is_archived_with_exact_fields(records, replica_site, replica):
    live = replica_site.live_articles()
    assert len(records) == len(live)
    for truth in live:
        url = replica.base_url + truth.url_path.lstrip("/")
        record = records.get(url)
        assert record is not None, f"not archived: {url}"
        assert record["title"] == truth.title, url
        assert record["source"] == truth.source, url
        assert record["author"] == truth.author, url
        assert record["published"] == truth.published, url
        assert squash(record["body"]) == squash("\n".join(truth.paragraphs)), url
        assert sorted(record["sections"]) == sorted(truth.sections), url
        assert [(a["url"], a["name"], a["sha256"]) for a in record["attachments"]] == [
            (replica.base_url + f.url_path.lstrip("/"), f.name, f.sha256) for f in truth.attachments
        ], url
        assert sorted((i["url"], i["sha256"]) for i in record["images"]) == sorted(
            (replica.base_url + f.url_path.lstrip("/"), f.sha256) for f in truth.images
        ), url
        assert record["status"] == "live" and record["version"] == 1


def test_sample_article_is_exact(records, replica):
    record = records[replica.base_url + "xwdt/gsyw/202602/t20260204_163644.html"]
    assert record["title"] == "中铝股份召开一届四次职工代表大会"
    assert record["source"] == "党委宣传部"
    assert record["published"] == "2026-02-03"
    lines = record["body"].split("\n")
    assert len(lines) == 20
    assert lines[0].startswith("2月2日，中铝股份一届四次职工代表大会")
    assert lines[-1].endswith("以及职工代表等参加会议。")
    assert record["attachments"] == []


def test_article_in_two_sections_is_one_article(records, replica_site, replica):
    shared = [a for a in replica_site.live_articles() if len(a.sections) > 1]
    assert shared
    for truth in shared:
        record = records[replica.base_url + truth.url_path.lstrip("/")]
        assert sorted(record["sections"]) == sorted(truth.sections)


def test_snapshots_are_byte_identical_to_what_the_server_sent(
    session, crawled, replica_site, replica
):
    home = ArchiveHome.at(crawled.home)
    host = urlsplit(replica.base_url).netloc
    for truth in replica_site.live_articles():
        url = replica.base_url + truth.url_path.lstrip("/")
        rendered = replica_site.render(truth.url_path, host)
        assert rendered is not None
        status, _headers, body = rendered
        snapshot = get_snapshot(session, home, url)
        assert snapshot.content == body, url


def test_no_request_off_host_or_against_robots(crawled, replica):
    host = urlsplit(replica.base_url).netloc
    robots = urllib.robotparser.RobotFileParser()
    with urllib.request.urlopen(replica.base_url + "robots.txt") as response:
        robots.parse(response.read().decode("utf-8").splitlines())
    requests = crawled.requests_first + crawled.requests_second
    assert requests
    for logged in requests:
        assert logged.host_header == host, logged
        assert robots.can_fetch("chalco-archive", replica.base_url + logged.path.lstrip("/")), (
            logged
        )


def test_every_page_and_file_fetched_once_per_crawl(crawled):
    fetched = [
        r.path
        for r in crawled.requests_first
        if re.search(r"/(t\d{8}_\d+\.html|[PW]0\d+\.\w+)$", r.path) and r.status == 200
    ]
    assert fetched
    assert len(fetched) == len(set(fetched))


def test_known_files_are_not_fetched_again(crawled):
    assert not [r.path for r in crawled.requests_second if re.search(r"/[PW]0\d+\.\w+$", r.path)]


def test_second_crawl_adds_nothing_and_stores_revisits(session, crawled):
    assert crawled.second.summary["new"] == 0
    assert crawled.second.summary["updated"] == 0
    assert crawled.second.summary["unchanged"] == crawled.first.summary["new"]
    assert session.scalar(select(func.count()).select_from(ArticleVersion)) == session.scalar(
        select(func.count()).select_from(Article)
    )
    second_run = session.scalar(select(func.max(Capture.run_id)))
    full_records = session.scalars(
        select(Capture).where(
            Capture.run_id == second_run,
            Capture.status == 200,
            Capture.record_type == "response",
            Capture.url.like("%/t20%.html"),
        )
    ).all()
    assert full_records == []  # unchanged payloads became revisit records


def test_every_warc_record_is_indexed_and_reads(crawled):
    home = ArchiveHome.at(crawled.home)
    database = sqlite3.connect(f"file:{home.database_path}?mode=ro", uri=True)
    indexed = {row[0] for row in database.execute("select record_id from captures")}
    seen = set()
    for path in sorted(home.warc_dir.glob("*.warc.gz")):
        with open(path, "rb") as handle:
            for record in ArchiveIterator(handle, check_digests=True):
                record.content_stream().read()
                if record.rec_type in ("response", "revisit"):
                    seen.add(record.rec_headers.get_header("WARC-Record-ID"))
    assert seen == indexed
    assert database.execute("pragma integrity_check").fetchone()[0] == "ok"


def test_the_summary_names_dead_links_and_oversize_responses_apart_from_failures(tmp_path):
    """What a cron mail shows: the counts line, then a line per failure, dead link and
    oversize response, each saying which it is."""
    out = io.StringIO()
    summary = CrawlSummary(
        status="ok",
        mode="incremental",
        new=3,
        failures=[{"url": "http://h/a.html", "reason": "HTTP 503"}],
        dead_links=[{"url": "http://h/b.html", "reason": "HTTP 404"}],
        oversize=[{"url": "http://h/c.html", "reason": "decodes (br) to more than 32 MiB: x"}],
    )
    print_summary(summary, Console(file=out, soft_wrap=True), ArchiveHome.at(tmp_path))
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("ok: incremental crawl, 3 new, 0 updated, 0 unchanged, 0 gone")
    assert ", 1 failed, dead links: 1 (" in lines[0]
    assert lines[1:] == [
        "  failed http://h/a.html: HTTP 503",
        "  dead link http://h/b.html: HTTP 404",
        "  oversize http://h/c.html: decodes (br) to more than 32 MiB: x; archived as received",
    ]
