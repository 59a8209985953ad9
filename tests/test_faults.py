"""Hostile and broken input: one crawl of the fault-mode server, then one test per case
asserting the outcome the README's table documents. The crawl ends "partial" with every
good article archived; nothing is written outside the home; nothing already archived is
lost."""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from archive.db import open_reader, session_factory
from archive.home import ArchiveHome
from archive.queries import captures, get_article, iter_articles, same_story
from replica.faults import FaultServer
from tests.conftest import FAST, CrawlResult, run_crawl

WHITESPACE = re.compile(r"\s+")
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
MiB = 1024 * 1024
# Limits small enough for a test; the defaults are in chalco_crawler/settings.py.
LIMITS = [
    "-s",
    "DOWNLOAD_TIMEOUT=3",
    "-s",
    f"DOWNLOAD_MAXSIZE={8 * MiB}",
    "-s",
    f"ATTACHMENT_MAXSIZE={8 * MiB}",
    "-s",
    "MAX_LIST_PAGES=20",
    "-s",
    "RETRY_AFTER_MAX=5",
]


@dataclass
class FaultCrawl:
    server: FaultServer
    home: Path
    result: CrawlResult
    failures: dict[str, str]
    records: dict[str, dict]


@pytest.fixture(scope="module")
def crawl(tmp_path_factory) -> FaultCrawl:
    server = FaultServer(bomb_size=64 * MiB, huge_size=12 * MiB, slow_seconds=20, crawl_delay=None)
    with server:
        home = tmp_path_factory.mktemp("faults") / "home"
        result = run_crawl(home, server.base_url, *LIMITS, timeout=240)
        engine = open_reader(ArchiveHome.at(home))
        with session_factory(engine)() as session:
            records = {r["url"]: r for r in iter_articles(session)}
        engine.dispose()
        failures = {f["url"]: f["reason"] for f in result.summary.get("failures", [])}
        yield FaultCrawl(server, home, result, failures, records)


def url(crawl: FaultCrawl, case: str) -> str:
    return crawl.server.base_url + crawl.server.cases[case].path.lstrip("/")


def squash(text: str | None) -> str:
    return WHITESPACE.sub("", text or "")


def problems(crawl: FaultCrawl, case: str) -> list[str]:
    engine = open_reader(ArchiveHome.at(crawl.home))
    with session_factory(engine)() as session:
        view = get_article(session, url(crawl, case))
    engine.dispose()
    return view.problems


CHALLENGES = ["challenge_412", "challenge_202", "challenge_captcha", "challenge_login"]


def test_the_crawl_is_partial_and_archives_every_good_article(crawl):
    # 6, not 1: the site answered with challenge pages, which a monitor must tell apart.
    assert crawl.result.exit_code == 6, crawl.result.stderr
    assert crawl.result.summary["status"] == "partial"
    for good in crawl.server.good_articles:
        record = crawl.records[crawl.server.base_url + good.url_path.lstrip("/")]
        assert record["title"] == good.title
        assert record["source"] == good.source
        assert record["published"] == good.published
        assert squash(record["body"]) == squash("\n".join(good.paragraphs))


def test_reset_connection_is_a_failure(crawl):
    assert (
        "Connection" in crawl.failures[url(crawl, "reset")]
        or "Response" in crawl.failures[url(crawl, "reset")]
    )
    assert url(crawl, "reset") not in crawl.records


def test_short_body_is_a_failure_not_a_truncated_page(crawl):
    assert url(crawl, "short_body") in crawl.failures
    assert url(crawl, "short_body") not in crawl.records


def test_slow_response_times_out(crawl):
    assert "Timeout" in crawl.failures[url(crawl, "slow")]
    assert url(crawl, "slow") not in crawl.records


@pytest.mark.parametrize(("case", "wait"), [("retry_after_429", 2.0), ("retry_after_503", 1.0)])
def test_retry_after_is_honoured(crawl, case, wait):
    assert url(crawl, case) in crawl.records
    times = [r.at for r in crawl.server.requests_for(crawl.server.cases[case].path)]
    assert len(times) >= 2
    gaps = [
        (later - earlier).total_seconds() for earlier, later in zip(times, times[1:], strict=False)
    ]
    assert min(gaps) >= wait * 0.9


def test_gzip_bomb_is_refused_by_its_decoded_size(crawl):
    reason = crawl.failures[url(crawl, "gzip_bomb")]
    assert "exceeded DOWNLOAD_MAXSIZE" in reason and "during decompression" in reason
    assert url(crawl, "gzip_bomb") not in crawl.records


def test_redirect_loop_is_cut(crawl):
    assert crawl.failures[url(crawl, "redirect_loop")].startswith("redirect loop: ")
    assert len(crawl.server.requests_for("/loop/a")) == 1


@pytest.mark.parametrize("case", ["redirect_offhost", "redirect_offhost_mirror"])
def test_redirect_to_another_host_is_refused_and_never_followed(crawl, case):
    reason = crawl.failures[url(crawl, case)]
    assert reason.startswith("redirected off the configured hosts to http")
    assert "localhost" not in "".join(h or "" for h in crawl.server.hosts_seen())


def test_endless_list_is_capped(crawl):
    listed = [r for r in crawl.server.requests if r.path.startswith("/xwdt/endless/")]
    assert 1 <= len(listed) <= 20
    assert any("MAX_LIST_PAGES" in reason for reason in crawl.failures.values())


@pytest.mark.parametrize("case", ["malformed_unclosed", "malformed_nul", "mixed_charset"])
def test_malformed_pages_are_read(crawl, case):
    good = crawl.server.good(case)
    record = crawl.records[crawl.server.base_url + good.url_path.lstrip("/")]
    assert record["title"] == good.title
    assert squash(record["body"]) == squash("\n".join(good.paragraphs))


@pytest.mark.parametrize("case", ["wrong_charset", "empty_200"])
def test_unreadable_pages_are_archived_and_flagged(crawl, case):
    assert url(crawl, case) in crawl.records
    assert problems(crawl, case)


def test_huge_attachment_is_refused_and_the_refusal_recorded(crawl):
    good = crawl.server.good("huge_attachment")
    record = crawl.records[crawl.server.base_url + good.url_path.lstrip("/")]
    huge = next(a for a in good.attachments if a.oversized)
    huge_url = crawl.server.base_url + huge.url_path.lstrip("/")
    (attachment,) = [a for a in record["attachments"] if a["url"] == huge_url]
    assert attachment["sha256"] is None
    assert "max size" in crawl.failures[huge_url] or "larger than" in crawl.failures[huge_url]
    database = sqlite3.connect(crawl.home / "archive.sqlite3")
    (problem,) = database.execute("select problem from files where url = ?", (huge_url,)).fetchone()
    assert problem


def test_hostile_attachment_names_are_kept_as_text_never_as_paths(crawl):
    good = crawl.server.good("hostile_names")
    record = crawl.records[crawl.server.base_url + good.url_path.lstrip("/")]
    names = [a["name"] for a in record["attachments"]]
    assert [CONTROL.sub("", a.name) for a in good.attachments] == [
        CONTROL.sub("", n or "") for n in names
    ]
    assert all(a["sha256"] for a in record["attachments"])
    written = {p.relative_to(crawl.home).parts[0] for p in crawl.home.rglob("*")}
    assert written <= {
        "archive.sqlite3",
        "archive.sqlite3-wal",
        "archive.sqlite3-shm",
        "warc",
        "logs",
        ".lock",
        "sites",
    }


def test_duplicate_docid_under_two_urls_is_two_articles_linked_as_one_story(crawl):
    good = crawl.server.good("duplicate_docid")
    first = crawl.server.base_url + good.url_path.lstrip("/")
    second = crawl.server.base_url + good.aliases[0].lstrip("/")
    assert first in crawl.records and second in crawl.records
    engine = open_reader(ArchiveHome.at(crawl.home))
    with session_factory(engine)() as session:
        assert [o["url"] for o in same_story(session, first)] == [second]
    engine.dispose()


def test_server_error_every_time_gives_up_after_retries(crawl):
    assert crawl.failures[url(crawl, "server_error_always")] == "HTTP 500"
    requests = crawl.server.requests_for(crawl.server.cases["server_error_always"].path)
    assert len(requests) == 1 + 2  # RETRY_TIMES=2 in the tests


def test_robots_disallowed_link_is_never_requested(crawl):
    assert not [r for r in crawl.server.requests if "/private/" in r.path]


def test_the_summary_lists_every_failure_once_with_a_reason(crawl):
    summary = crawl.result.summary
    assert summary["failed"] == len(summary["failures"]) == len(crawl.failures)
    assert all(reason for reason in crawl.failures.values())
    json.dumps(summary)  # the run's record stays serialisable whatever the input


def test_robots_crawl_delay_spaces_the_requests_to_a_host(tmp_path):
    with FaultServer(crawl_delay=1) as server:
        result = run_crawl(
            tmp_path / "home", server.base_url, "--sections", "xwdt/ggdt", *LIMITS, timeout=120
        )
        times = [r.at for r in server.requests if r.path != "/robots.txt"]
    assert result.exit_code in (0, 1), result.stderr
    assert len(times) >= 3
    gaps = [(b - a).total_seconds() for a, b in zip(times, times[1:], strict=False)]
    assert min(gaps) >= 0.9, gaps


@pytest.mark.parametrize("case", CHALLENGES)
def test_challenge_pages_are_captures_never_articles(crawl, case):
    assert url(crawl, case) not in crawl.records
    assert url(crawl, case) not in crawl.failures
    engine = open_reader(ArchiveHome.at(crawl.home))
    with session_factory(engine)() as session:
        (capture,) = captures(session, url(crawl, case))
    engine.dispose()
    assert capture["record_type"] == "response" and capture["payload_sha256"]
    seen = {c["url"]: c for c in crawl.result.summary["challenges"]}
    assert seen[url(crawl, case)]["reason"].startswith(f"HTTP {capture['status']} ")


def test_the_summary_counts_the_challenge_pages(crawl):
    assert crawl.result.summary["challenged"] == len(CHALLENGES)


def test_a_site_that_challenges_every_article_ends_with_one_line(tmp_path):
    with FaultServer(crawl_delay=None) as server:
        server.challenge_articles = 412
        completed = subprocess.run(
            [sys.executable, "-m", "chalco_crawler.run", "--home", str(tmp_path / "home")]
            + ["--base-url", server.base_url, "--sections", "xwdt/ggdt", *FAST, *LIMITS],
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert completed.returncode == 6, completed.stderr
    lines = [line for line in completed.stdout.splitlines() if "challenge pages" in line]
    assert len(lines) == 1
    assert "answered 2 request(s) with challenge pages" in lines[0]
    assert "HTTP 412 with a script-only body" in lines[0]
    assert completed.stdout.startswith("partial: incremental crawl, 0 new")


def test_a_revisit_answered_by_challenge_pages_marks_nothing_gone_or_changed(crawl):
    """Last in the module: it revisits the shared crawl's home with every article page
    behind a captcha answered 404 (a WAF switched on since)."""
    engine = open_reader(ArchiveHome.at(crawl.home))
    with session_factory(engine)() as session:
        before = {r["url"]: (r["status"], r["version"]) for r in iter_articles(session)}
    engine.dispose()
    crawl.server.challenge_articles = 404
    try:
        result = run_crawl(crawl.home, crawl.server.base_url, "--revisit", *LIMITS, timeout=120)
    finally:
        crawl.server.challenge_articles = None
    assert result.exit_code == 6, result.stderr
    assert result.summary["gone"] == 0 and result.summary["updated"] == 0
    assert result.summary["challenged"] >= len(before)
    engine = open_reader(ArchiveHome.at(crawl.home))
    with session_factory(engine)() as session:
        after = {r["url"]: (r["status"], r["version"]) for r in iter_articles(session)}
    engine.dispose()
    assert after == before
