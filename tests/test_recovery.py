"""Killed crawls: SIGKILL at any moment, then a rerun, ends in a complete archive; a record cut
off at the end of a WARC file is set aside and reported, never indexed; SIGINT and SIGTERM
stop cleanly, the run marked interrupted."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import text
from warcio.archiveiterator import ArchiveIterator

from archive.cli import main as cli_main
from archive.read.frontier import known_listed_urls, open_frontier_session
from archive.store.home import ArchiveHome
from archive.store.warcstore import HttpExchange, complete_prefix, read_record, whole_record_ends
from archive.store.writer import ArchiveWriter
from replica.server import ReplicaServer
from replica.site.build import build_site
from tests.conftest import FAST, article_content, crawl_command, page_exchange, run_crawl


@pytest.fixture
def slow_replica():
    """A replica slow enough (20 ms a response, one at a time) to be killed mid-crawl."""
    with ReplicaServer(build_site(), latency=0.02) as server:
        yield server


def start_crawl(home: Path, base_url: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        crawl_command(
            home,
            base_url,
            "--full",
            "-s",
            "CONCURRENT_REQUESTS=2",
            "-s",
            "ARCHIVE_COMMIT_EVERY=7",
        ),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for_warc_bytes(home: Path, size: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if sum(p.stat().st_size for p in (home / "warc").glob("*.warc.gz")) >= size:
            return
        time.sleep(0.02)
    raise AssertionError("the crawl wrote nothing in time")


def assert_archive_complete(home: Path, live_urls: set[str]) -> None:
    database = sqlite3.connect(f"file:{home / 'archive.sqlite3'}?mode=ro", uri=True)
    assert database.execute("pragma integrity_check").fetchone()[0] == "ok"
    urls = [row[0] for row in database.execute("select url from articles")]
    assert len(urls) == len(set(urls))
    assert set(urls) == live_urls
    versions = database.execute(
        "select count(*) from article_versions group by article_id having count(*) > 1"
    ).fetchall()
    assert versions == []
    for path in (home / "warc").glob("*.warc.gz"):
        assert complete_prefix(path) == path.stat().st_size, path
        with open(path, "rb") as handle:
            for record in ArchiveIterator(handle, check_digests=True):
                record.content_stream().read()
    rows = database.execute(
        "select w.name, c.offset, c.length from captures c join warc_files w"
        " on w.id = c.warc_file_id"
    ).fetchall()
    for name, offset, length in rows:
        read_record(home / "warc" / name, offset, length)


def test_sigkill_mid_crawl_then_rerun_gives_a_complete_archive(tmp_path, slow_replica):
    home = tmp_path / "home"
    process = start_crawl(home, slow_replica.base_url)
    wait_for_warc_bytes(home, 120_000)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)

    rerun = run_crawl(home, slow_replica.base_url, "--full")
    assert rerun.exit_code == 0, rerun.stderr  # the replica's deliberate 404: a dead link
    assert rerun.summary["dead"] == 1 and rerun.summary["failures"] == []
    assert rerun.summary["recovery"]["interrupted_runs"] == [1]
    live = {
        slow_replica.base_url + a.url_path.lstrip("/") for a in slow_replica.site.live_articles()
    }
    assert_archive_complete(home, live)
    database = sqlite3.connect(home / "archive.sqlite3")
    assert database.execute("select status from crawl_runs where id = 1").fetchone() == (
        "interrupted",
    )
    # Whole records written for rows that never committed were set aside with the rest.
    verified = CliRunner().invoke(cli_main, ["verify", "--home", str(home)])
    assert verified.exit_code == 0, verified.output
    # The killed run's file, closed by the rerun's recovery, is sealed as the rerun's own are
    # (archive.evidence.warc_seal), and verify takes both seals.
    unsealed = database.execute("select count(*) from warc_files where index_sha256 is null")
    assert unsealed.fetchone() == (0,)
    assert "2 WARC file(s)" in verified.output and "2 by their seals" in verified.output


def test_whole_records_whose_rows_never_committed_are_set_aside(tmp_path):
    """Killed after writing whole records but before their rows committed: the records go
    to quarantine with the cut-off bytes, so that every record left is indexed."""
    home = ArchiveHome.at(tmp_path / "home")
    killed = ArchiveWriter(home, commit_every=1000, commit_seconds=1000)
    killed.start_run("chalco", "http://127.0.0.1:8000/", "full")
    killed.record_exchange(page_exchange(1))
    killed.commit()
    assert killed.warc is not None
    committed_size = (home.warc_dir / str(killed.warc.current_name)).stat().st_size
    killed.record_exchange(page_exchange(2))  # written and flushed, its row never committed
    killed.warc.sync()
    # What SIGKILL leaves: an uncommitted transaction, the lock released by the OS.
    killed.connection.close()
    killed.engine.dispose()
    killed._lock.release()

    writer = ArchiveWriter(home)
    writer.close()
    (set_aside,) = writer.recovery.set_aside
    assert set_aside["offset"] == committed_size
    verified = CliRunner().invoke(cli_main, ["verify", "--home", str(home.root)])
    assert verified.exit_code == 0, verified.output


def test_a_cut_off_record_is_set_aside_and_never_indexed(tmp_path, replica):
    home = tmp_path / "home"
    first = run_crawl(home, replica.base_url, "--sections", "tzzgx/thygg")
    assert first.exit_code == 0, first.stderr
    warc = sorted((home / "warc").glob("*.warc.gz"))[-1]
    good_size = warc.stat().st_size
    database = sqlite3.connect(home / "archive.sqlite3")
    (first_member,) = database.execute("select min(request_offset) from captures").fetchone()
    # Half of the file's first record (its warcinfo): a record cut mid-write.
    head = warc.read_bytes()[: first_member // 2]
    database.execute("update warc_files set closed_at = null where name = ?", (warc.name,))
    database.commit()
    with open(warc, "ab") as handle:
        handle.write(head)

    writer = ArchiveWriter(ArchiveHome.at(home))
    try:
        report = writer.recovery.as_dict()
    finally:
        writer.close()
    assert report["set_aside"] == [
        {
            "file": warc.name,
            "offset": good_size,
            "bytes": len(head),
            "to": report["set_aside"][0]["to"],
        }
    ]
    assert Path(report["set_aside"][0]["to"]).read_bytes() == head
    assert warc.stat().st_size == good_size
    (stored_sha,) = database.execute(
        "select sha256 from warc_files where name = ?", (warc.name,)
    ).fetchone()
    assert stored_sha is not None
    (beyond,) = database.execute(
        "select count(*) from captures c join warc_files w on w.id = c.warc_file_id"
        " where w.name = ? and c.offset + c.length > ?",
        (warc.name, good_size),
    ).fetchone()
    assert beyond == 0


@pytest.mark.parametrize("signal_number", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_mid_crawl_marks_the_run_interrupted_and_the_rerun_resumes(
    tmp_path, slow_replica, signal_number
):
    """Ctrl-C or systemd's SIGTERM in the middle of a crawl, over real HTTP: the writes in
    flight end, the run is `interrupted`, every WARC file is closed whole (verify passes,
    nothing set aside), and the next crawl archives the rest, fetching again nothing it
    had archived: each article once, each article and file URL answered 200 once."""
    home = tmp_path / "home"
    process = start_crawl(home, slow_replica.base_url)
    wait_for_warc_bytes(home, 60_000)
    process.send_signal(signal_number)
    stdout, stderr = process.communicate(timeout=60)
    # It ends by the signal, after the clean stop: a shell sees 128 + the signal's number.
    assert process.returncode == -signal_number, stderr
    summary = json.loads(stdout)
    assert summary["close_reason"] == "shutdown"
    assert (summary["status"], summary["exit_code"]) == ("interrupted", 128 + signal_number)
    database = sqlite3.connect(home / "archive.sqlite3")
    assert database.execute("select status, exit_code from crawl_runs").fetchall() == [
        ("interrupted", 128 + signal_number)
    ]
    assert database.execute(
        "select count(*) from warc_files where closed_at is null"
    ).fetchone() == (0,)
    for path in (home / "warc").glob("*.warc.gz"):
        assert complete_prefix(path) == path.stat().st_size
    assert not list((home / "warc").glob("quarantine/*"))
    verified = CliRunner().invoke(cli_main, ["verify", "--home", str(home)])
    assert verified.exit_code == 0, verified.output
    assert "set aside" not in verified.stderr
    archived_before = {url for (url,) in database.execute("select url from articles")}
    live = {
        slow_replica.base_url + a.url_path.lstrip("/") for a in slow_replica.site.live_articles()
    }
    assert archived_before and archived_before < live
    database.close()

    # The stopped crawl left list pages unread: the next incremental crawl walks them all.
    rerun = run_crawl(home, slow_replica.base_url)
    assert rerun.exit_code in (0, 1), rerun.stderr
    assert rerun.summary["recovery"] is None  # nothing left running, nothing to cut back
    assert rerun.summary["new"] == len(live - archived_before)
    assert_archive_complete(home, live)
    database = sqlite3.connect(home / "archive.sqlite3")
    fetched_twice = database.execute(
        "select url, count(*) from captures where status = 200 and"
        " (url in (select url from articles) or url in (select url from files))"
        " group by url having count(*) > 1"
    ).fetchall()
    assert fetched_twice == []


def test_sigterm_to_the_cli_reaches_the_crawler(tmp_path, slow_replica):
    """`chalco-archive crawl` becomes the crawler (exec), so systemd's SIGTERM stops the
    crawl itself cleanly instead of orphaning it."""
    home = tmp_path / "home"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "archive.cli",
            "crawl",
            "--home",
            str(home),
            "--base-url",
            slow_replica.base_url,
            "--full",
            "--json",
            *FAST,
            "-s",
            "CONCURRENT_REQUESTS=2",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    wait_for_warc_bytes(home, 60_000)
    process.send_signal(signal.SIGTERM)
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == -signal.SIGTERM, stderr
    assert json.loads(stdout)["close_reason"] == "shutdown"
    runs = sqlite3.connect(home / "archive.sqlite3").execute("select status from crawl_runs")
    assert runs.fetchall() == [("interrupted",)]


def test_verify_beside_a_running_crawl_raises_no_false_alarm(tmp_path, slow_replica):
    from click.testing import CliRunner

    from archive.cli import main

    home = tmp_path / "home"
    process = start_crawl(home, slow_replica.base_url)
    try:
        wait_for_warc_bytes(home, 60_000)
        time.sleep(0.5)  # let the first batch of rows commit
        result = CliRunner().invoke(main, ["verify", "--home", str(home)])
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=60)
    assert result.exit_code == 0, result.stdout
    assert "open WARC file" in result.stderr


def _writer_mid_crawl(home: ArchiveHome) -> tuple[ArchiveWriter, Path]:
    """A crawl's writer with rows committed and its WARC file still open."""
    writer = ArchiveWriter(home)
    writer.start_run("chalco", "http://h/", "full")
    for number in range(3):
        writer.record_exchange(
            HttpExchange(
                f"http://h/{number}.html",
                "GET",
                [],
                200,
                "HTTP/1.1",
                [],
                f"<html>{number}</html>".encode(),
                datetime.now(UTC),
            )
        )
    writer.commit()
    (path,) = (home.warc_dir).glob("*.warc.gz")
    return writer, path


def verify_output(home: ArchiveHome) -> tuple[int, str]:
    result = CliRunner().invoke(cli_main, ["verify", "--home", str(home.root)])
    return result.exit_code, result.stdout + result.stderr


def test_verify_reads_a_file_being_written_up_to_its_last_whole_record(tmp_path):
    """A record half-written by a running crawl, and its next file not indexed yet, are
    what a crawl in progress looks like: notes, not damage."""
    home = ArchiveHome.at(tmp_path / "home")
    writer, path = _writer_mid_crawl(home)
    whole = path.read_bytes()
    with open(path, "ab") as handle:
        *_, start, end = whole_record_ends(path)
        handle.write(whole[start : (start + end) // 2])  # the first half of a record
    run_id = writer.run_id
    started = home.warc_dir / path.name.replace("-00001.", "-00002.")
    started.write_bytes(whole[:100])
    code, out = verify_output(home)
    assert code == 0, out
    assert "not checked (a record being written" in out and f"{path.name} @ {len(whole)}" in out
    assert f"WARC file of running crawl not indexed yet: {started.name}" in out
    assert f"-run{run_id:05d}-" in started.name

    # The same file of a run no longer running is a file nobody indexed.
    sqlite3.connect(home.database_path).execute(
        "update crawl_runs set status = 'interrupted'"
    ).connection.commit()
    code, out = verify_output(home)
    assert code == 1
    assert f"WARC file not in the database [{started.name}]" in out
    writer.close()


def test_a_reader_sees_one_state_of_the_archive_for_its_whole_session(tmp_path):
    """verify beside a crawl read captures, then a ledger that had grown since, and called
    the new captures deleted: each reader session is one snapshot."""
    home = ArchiveHome.at(tmp_path / "home")
    writer, _ = _writer_mid_crawl(home)
    with open_frontier_session(home) as session:
        before = session.execute(text("select count(*) from captures")).scalar_one()
        ledger = session.execute(text("select count(*) from ledger")).scalar_one()
        writer.record_exchange(
            HttpExchange("http://h/x.html", "GET", [], 200, "HTTP/1.1", [], b"x", datetime.now(UTC))
        )
        writer.commit()
        assert session.execute(text("select count(*) from ledger")).scalar_one() == ledger
        assert session.execute(text("select count(*) from captures")).scalar_one() == before
    with open_frontier_session(home) as session:
        assert session.execute(text("select count(*) from captures")).scalar_one() == before + 1
    writer.close()


def test_a_redirect_whose_target_was_never_stored_is_fetched_again(tmp_path):
    """A crawl stopped after a listed URL's 301 was stored and before the article it leads
    to was: the next incremental crawl must follow the 301 again, or the article is lost."""
    home = ArchiveHome.at(tmp_path / "home")
    writer = ArchiveWriter(home)
    writer.start_run("chalco", "http://h/", "incremental")

    def redirect(url: str, location: str) -> None:
        writer.record_exchange(
            HttpExchange(
                url=url,
                method="GET",
                request_headers=[],
                status=301,
                protocol="HTTP/1.1",
                response_headers=[("Location", location)],
                payload=b"",
                fetched_at=datetime.now(UTC),
            )
        )

    redirect("http://h/old/a.html", "/new/a.html")
    redirect("http://h/old/b.html", "http://h/mid/b.html")
    redirect("http://h/mid/b.html", "/new/b.html")
    writer.commit()
    with open_frontier_session(home) as session:
        assert known_listed_urls(session, "chalco") == set()
    for url in ("http://h/new/a.html", "http://h/new/b.html"):
        page = writer.record_exchange(
            HttpExchange(url, "GET", [], 200, "HTTP/1.1", [], b"<html>x</html>", datetime.now(UTC))
        )
        writer.save_article(
            article_content(url, "正文"),
            page.id,
            datetime.now(UTC),
        )
    writer.finish_run("ok", 0, {})
    writer.close()
    with open_frontier_session(home) as session:
        assert known_listed_urls(session, "chalco") == {
            "http://h/new/a.html",
            "http://h/new/b.html",
            "http://h/old/a.html",
            "http://h/old/b.html",
            "http://h/mid/b.html",
        }


@pytest.mark.parametrize("signal_number", [signal.SIGINT, signal.SIGTERM])
def test_a_second_signal_still_ends_the_run_as_interrupted(tmp_path, slow_replica, signal_number):
    """Ctrl-C pressed twice (or SIGTERM sent twice) stops Scrapy at once: the run must still
    end as interrupted, never as a success with the run left `running`."""
    home = tmp_path / "home"
    process = start_crawl(home, slow_replica.base_url)
    wait_for_warc_bytes(home, 60_000)
    process.send_signal(signal_number)
    time.sleep(0.05)  # while the first is still closing the spider
    process.send_signal(signal_number)
    stdout, stderr = process.communicate(timeout=60)
    # Ended by the signal: after its own clean stop, or by Python's default handler when
    # the first stop was over before the second came.
    assert process.returncode == -signal_number, stderr
    if stdout:
        assert json.loads(stdout)["status"] == "interrupted"
    database = sqlite3.connect(home / "archive.sqlite3")
    assert database.execute("select status, exit_code from crawl_runs").fetchall() == [
        ("interrupted", 128 + signal_number)
    ]
    assert database.execute(
        "select count(*) from warc_files where closed_at is null"
    ).fetchone() == (0,)
    rerun = run_crawl(home, slow_replica.base_url)
    assert rerun.exit_code in (0, 1), rerun.stderr
    live = {
        slow_replica.base_url + a.url_path.lstrip("/") for a in slow_replica.site.live_articles()
    }
    assert_archive_complete(home, live)


@pytest.mark.parametrize(
    ("close_reason", "line"),
    [
        ("shutdown", "stopped by a signal (Ctrl-C or SIGTERM) before the walk ended"),
        ("shutdown_forced", "stopped at once by a second signal before the walk ended"),
        ("closespider_timeout", "closed early (closespider_timeout) before the walk ended"),
        ("finished", None),
    ],
)
def test_the_summary_says_why_a_run_ended_early(tmp_path, close_reason, line):
    """A cron mail saying `partial … 0 failed` must also say the run was stopped."""
    import io

    from rich.console import Console

    from chalco_crawler.run import print_summary
    from chalco_crawler.session import CrawlSummary

    out = io.StringIO()
    summary = CrawlSummary(close_reason=close_reason, status="interrupted", mode="full")
    print_summary(summary, Console(file=out, soft_wrap=True), ArchiveHome.at(tmp_path))
    text_out = out.getvalue()
    if line is None:
        assert "before the walk ended" not in text_out
    else:
        assert f"  {line}: the next incremental crawl walks every list page again" in text_out
