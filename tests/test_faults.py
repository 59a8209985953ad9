"""Hostile and broken input: one crawl of the fault-mode server, then one test per case
asserting the outcome docs/robustness.md documents. The crawl ends "partial" with every
good article archived; nothing is written outside the home; nothing already archived is
lost. Its decompression bombs (a page, an attachment and an image in each of gzip, deflate,
br and zstd) inflate to 512 MiB each: the crawl and every read command stay within a memory
bound that inflating any one of them would break."""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from archive.read.articles import get_article, iter_articles
from archive.read.captures import captures
from archive.read.versions import same_story
from archive.store.db import open_reader, session_factory
from archive.store.home import ArchiveHome
from replica.faults import FaultServer
from replica.faults.bombs import CODINGS
from tests.conftest import FAST, CrawlResult, run_crawl, run_measured

WHITESPACE = re.compile(r"\s+")
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
MiB = 1024 * 1024
BOMB_SIZE = 512 * MiB
# Generous: the crawl needs about a third of it; one bomb inflated in memory is 512 MiB.
MEMORY_BOUND = 300 * MiB
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
    server = FaultServer(bomb_size=BOMB_SIZE, huge_size=12 * MiB, slow_seconds=20, crawl_delay=None)
    with server:
        home = tmp_path_factory.mktemp("faults") / "home"
        result = run_crawl(home, server.base_url, *LIMITS, timeout=240)
        engine = open_reader(ArchiveHome.at(home))
        with session_factory(engine)() as session:
            records = {r["url"]: r for r in iter_articles(session)}
        engine.dispose()
        failures = {f["url"]: f["reason"] for f in result.summary.get("failures", [])}
        yield FaultCrawl(server, home, result, failures, records)


def cli(home: Path, *args: str, timeout: float = 120) -> tuple[int, str, str, int]:
    """A chalco-archive command in its own process: exit code, stdout, stderr, peak RSS."""
    command = [sys.executable, "-c", "from archive.cli import main; main()", *args]
    return run_measured([*command, "--home", str(home)], timeout)


def url(crawl: FaultCrawl, case: str) -> str:
    return crawl.server.base_url + crawl.server.cases[case].path.lstrip("/")


def squash(text: str | None) -> str:
    return WHITESPACE.sub("", text or "")


def problems(crawl: FaultCrawl, case: str) -> list[str]:
    """The flags of a case's article (or of the article at a URL)."""
    engine = open_reader(ArchiveHome.at(crawl.home))
    with session_factory(engine)() as session:
        view = get_article(session, case if "://" in case else url(crawl, case))
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


def oversize_captures(crawl: FaultCrawl) -> dict[str, bool]:
    database = sqlite3.connect(crawl.home / "archive.sqlite3")
    rows = database.execute("select url, oversize from captures where status = 200")
    flags = {row_url: bool(flag) for row_url, flag in rows}
    database.close()
    return flags


@pytest.mark.parametrize("coding", CODINGS)
def test_a_page_bomb_is_archived_as_it_came_flagged_oversize_and_never_read(crawl, coding):
    bomb = url(crawl, f"page_bomb_{coding}")
    assert oversize_captures(crawl)[bomb] is True
    assert bomb not in crawl.failures  # a rerun would not fix it
    (listed,) = [o for o in crawl.result.summary["oversize"] if o["url"] == bomb]
    assert listed["reason"] == f"decodes ({coding}) to more than 8 MiB: not inflated"
    assert crawl.records[bomb]["title"] is None
    assert any(p.startswith("page not read: it decodes") for p in problems(crawl, bomb))


@pytest.mark.parametrize("coding", CODINGS)
def test_attachment_and_image_bombs_are_kept_as_they_came_beside_their_article(crawl, coding):
    good = crawl.server.good(f"file_bombs_{coding}")
    record = crawl.records[crawl.server.base_url + good.url_path.lstrip("/")]
    files = {f["url"]: f for f in record["attachments"] + record["images"]}
    flags = oversize_captures(crawl)
    database = sqlite3.connect(crawl.home / "archive.sqlite3")
    for path in crawl.server.cases[f"file_bombs_{coding}"].related:
        file_url = crawl.server.base_url + path.lstrip("/")
        assert files[file_url]["sha256"] is None
        assert flags[file_url] is True
        assert file_url not in crawl.failures
        (problem,) = database.execute(
            "select problem from files where url = ?", (file_url,)
        ).fetchone()
        assert problem == f"oversize: decodes ({coding}) to more than 8 MiB: not inflated"
    database.close()


def test_the_crawl_stays_within_its_memory_bound(crawl):
    assert 0 < crawl.result.peak_rss <= MEMORY_BOUND, crawl.result.peak_rss / MiB


def test_snapshot_of_a_bomb_says_so_in_one_line_without_inflating_it(crawl, tmp_path):
    for coding in CODINGS:
        bomb = url(crawl, f"page_bomb_{coding}")
        code, out, err, peak = cli(crawl.home, "snapshot", bomb, "-o", str(tmp_path / "x"))
        assert code == 1 and out == "" and len(err.strip().splitlines()) == 1, err
        assert "is flagged oversize" in err and "--max-size" in err and "Traceback" not in err
        assert peak <= MEMORY_BOUND
        # Asked to decode past the crawl's limit, it still stops at the one it is given.
        code, _out, err, peak = cli(
            crawl.home, "snapshot", bomb, "--max-size", str(16 * MiB), "-o", str(tmp_path / "x")
        )
        assert code == 1 and "to more than 16 MiB: not inflated" in err, err
        assert peak <= MEMORY_BOUND
    assert not (tmp_path / "x").exists() or (tmp_path / "x").stat().st_size == 0


def test_verify_package_and_show_read_the_bomb_archive_within_the_bound(crawl, tmp_path):
    code, out, err, peak = cli(crawl.home, "verify")
    assert code == 0, out + err
    assert err.count("is oversize (decodes past the crawl's size limit)") == 3 * len(CODINGS)
    assert peak <= MEMORY_BOUND
    package = tmp_path / "all.wacz"
    code, out, err, peak = cli(
        crawl.home, "package", "--since", "2000-01-01", "-o", str(package), timeout=300
    )
    assert code == 0, err
    assert err.count("note: oversize") == 3 * len(CODINGS)
    assert peak <= MEMORY_BOUND
    for coding in CODINGS:
        good = crawl.server.good(f"file_bombs_{coding}")
        code, out, _err, peak = cli(
            crawl.home, "show", crawl.server.base_url + good.url_path.lstrip("/")
        )
        assert code == 0 and good.title in out and peak <= MEMORY_BOUND
        code, out, _err, _peak = cli(crawl.home, "show", url(crawl, f"page_bomb_{coding}"))
        assert code == 0 and "flagged: page not read: it decodes" in out


@pytest.mark.parametrize(("case", "status"), [("dead_link_404", 404), ("dead_link_410", 410)])
def test_a_dead_link_is_counted_apart_and_archived_as_answered(crawl, case, status):
    dead = url(crawl, case)
    assert {"url": dead, "reason": f"HTTP {status}"} in crawl.result.summary["dead_links"]
    assert dead not in crawl.failures and dead not in crawl.records
    database = sqlite3.connect(crawl.home / "archive.sqlite3")
    statuses = [
        row[0] for row in database.execute("select status from captures where url = ?", (dead,))
    ]
    assert statuses == [status]


@pytest.mark.parametrize("case", ["wrong_charset", "gbk_declared_utf8"])
def test_a_lying_charset_is_read_in_the_one_that_decodes_and_flagged(crawl, case):
    good = crawl.server.good(case)
    page = crawl.server.base_url + good.url_path.lstrip("/")
    record = crawl.records[page]
    assert (record["title"], record["source"]) == (good.title, good.source)
    assert record["body"].splitlines() == list(good.paragraphs)
    read_as = {"wrong_charset": "gb18030", "gbk_declared_utf8": "utf-8"}[case]
    assert any(
        p.startswith("declared charset") and p.endswith(f"read as {read_as}")
        for p in problems(crawl, page)
    )


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


@pytest.mark.parametrize("case", ["empty_200"])
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
    listed = len(server._listings["xwdt/ggdt"])  # every article of 高管动态 was challenged
    assert f"answered {listed} request(s) with challenge pages" in lines[0]
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
