"""The chalco-archive command: export, snapshot, show and stats on a crawled archive; crawl's
exit codes; the demo."""

from __future__ import annotations

import csv
import io
import json
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from archive.cli import main
from archive.read.articles import EXPORT_FIELDS
from archive.store.home import ArchiveHome
from archive.store.writer.durability import HomeLock
from tests.conftest import run_crawl

SAMPLE_PATH = "xwdt/gsyw/202602/t20260204_163644.html"


def invoke(*args: str) -> tuple[int, str, bytes]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.stderr, result.stdout_bytes


def test_export_jsonl_has_the_contract_fields(crawled, replica_site):
    code, _err, out = invoke("export", "--home", str(crawled.home), "--format", "jsonl")
    assert code == 0
    records = [json.loads(line) for line in out.decode("utf-8").splitlines()]
    assert len(records) == len(replica_site.live_articles())
    for record in records:
        assert set(record) >= set(EXPORT_FIELDS)
        assert set(record["snapshot"]) == {"sha256", "fetched_at"}


def test_export_csv_opens_in_excel(crawled, tmp_path):
    target = tmp_path / "out.csv"
    code, _err, _out = invoke(
        "export", "--home", str(crawled.home), "--format", "csv", "--output", str(target)
    )
    assert code == 0
    raw = target.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM: Excel reads the file as UTF-8
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    sample = next(r for r in rows if r["url"].endswith(SAMPLE_PATH))
    assert sample["title"] == "中铝股份召开一届四次职工代表大会"
    assert sample["sections"] == "xwdt/gsyw"
    assert len(sample["body"].splitlines()) == 20


def test_export_filters_by_section(crawled):
    code, _err, out = invoke("export", "--home", str(crawled.home), "--section", "tzzgx/thygg")
    records = [json.loads(line) for line in out.decode("utf-8").splitlines()]
    assert code == 0 and records
    assert all("tzzgx/thygg" in r["sections"] for r in records)
    assert any(r["attachments"] for r in records)


def test_snapshot_writes_the_page_as_received(crawled, replica, replica_site, tmp_path):
    url = replica.base_url + SAMPLE_PATH
    target = tmp_path / "page.html"
    code, _err, _out = invoke("snapshot", url, "--home", str(crawled.home), "--output", str(target))
    assert code == 0
    host = url.split("/")[2]
    assert target.read_bytes() == replica_site.render("/" + SAMPLE_PATH, host)[2]


def test_snapshot_before_the_first_capture_is_a_one_line_error(crawled, replica):
    code, err, _out = invoke(
        "snapshot",
        replica.base_url + SAMPLE_PATH,
        "--home",
        str(crawled.home),
        "--at",
        "2000-01-01T00:00:00+00:00",
    )
    assert code != 0
    assert len(err.strip().splitlines()) == 1 and "no capture" in err


def test_show_prints_the_article(crawled, replica):
    code, _err, out = invoke("show", replica.base_url + SAMPLE_PATH, "--home", str(crawled.home))
    text = out.decode("utf-8")
    assert code == 0
    assert text.splitlines()[0] == "中铝股份召开一届四次职工代表大会"
    assert "来源：党委宣传部" in text and "2026-02-03" in text


def test_show_unknown_url_is_a_one_line_error(crawled):
    code, err, _out = invoke("show", "http://nowhere/x.html", "--home", str(crawled.home))
    assert code == 1 and "no archived article" in err


def test_commands_on_a_missing_home_say_what_to_do(tmp_path):
    code, err, _out = invoke("stats", "--home", str(tmp_path / "nothing"))
    assert code == 1 and "chalco-archive crawl" in err


def test_stats_counts_sections_and_months(crawled, replica_site):
    code, _err, out = invoke("stats", "--home", str(crawled.home), "--format", "jsonl")
    rows = [json.loads(line) for line in out.decode("utf-8").splitlines()]
    assert code == 0
    expected: dict[tuple[str, str], int] = {}
    for truth in replica_site.live_articles():
        for section in truth.sections:
            key = (section, truth.published[:7])
            expected[key] = expected.get(key, 0) + 1
    assert {(r["section"], r["month"]): r["articles"] for r in rows} == expected


def test_a_listing_as_one_json_array_holds_the_json_lines_records(crawled):
    code, _err, lines = invoke("runs", "--home", str(crawled.home), "--format", "jsonl")
    assert code == 0
    code, _err, array = invoke("runs", "--home", str(crawled.home), "--format", "json")
    assert code == 0
    records = json.loads(array.decode("utf-8"))
    assert records and records == [json.loads(line) for line in lines.decode().splitlines()]


def cli_crawl(home: Path, base_url: str, *settings: str) -> subprocess.CompletedProcess[str]:
    """`chalco-archive crawl` as a user runs it: its exit code and its own stderr."""
    options = [arg for setting in settings for arg in ("-s", setting)]
    return subprocess.run(
        [sys.executable, "-m", "archive.cli", "crawl", "--home", str(home)]
        + ["--base-url", base_url, *options],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_unreachable_site_exits_2_with_one_line(tmp_path):
    result = run_crawl(
        tmp_path / "home", "http://127.0.0.1:9/", "--sections", "xwdt/gsyw", timeout=60
    )
    assert result.exit_code == 2
    assert result.summary["status"] == "failed"
    completed = cli_crawl(tmp_path / "home", "http://127.0.0.1:9/", "RETRY_TIMES=0")
    assert completed.returncode == 2
    assert len(completed.stderr.strip().splitlines()) == 1
    assert "unreachable" in completed.stderr


@pytest.fixture
def silent_server() -> Iterator[tuple[str, list[str]]]:
    """A server that accepts connections, reads the request and never answers: its URL, and
    the request lines it got."""
    listener = socket.create_server(("127.0.0.1", 0))
    lines: list[str] = []
    held: list[socket.socket] = []

    def serve() -> None:
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            held.append(connection)
            lines.append(connection.recv(4096).split(b"\r\n", 1)[0].decode("latin-1"))

    threading.Thread(target=serve, daemon=True).start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}/", lines
    listener.close()
    for connection in held:
        connection.close()


def test_a_site_that_never_answers_ends_the_crawl_in_seconds(tmp_path, silent_server):
    """robots.txt, the first request, gets a short budget; with no answer to it the site is
    not crawled (its rules are unknown), so the crawl ends after that budget."""
    base_url, request_lines = silent_server
    started = time.monotonic()
    completed = cli_crawl(tmp_path / "home", base_url, "ROBOTSTXT_TIMEOUT=1")
    elapsed = time.monotonic() - started
    assert completed.returncode == 2, completed.stderr
    assert len(completed.stderr.strip().splitlines()) == 1
    assert "unreachable" in completed.stderr and "robots.txt got no answer" in completed.stderr
    assert request_lines == ["GET /robots.txt HTTP/1.1"] * 2  # one retry, no home page
    assert elapsed < 30  # the default budgets took about 3 minutes


def test_a_second_crawl_on_a_busy_home_exits_3(tmp_path, replica):
    home = ArchiveHome.at(tmp_path / "home")
    lock = HomeLock(home)
    try:
        result = run_crawl(home.root, replica.base_url, timeout=60)
    finally:
        lock.release()
    assert result.exit_code == 3
    assert "in use" in result.stderr


def test_unknown_site_profile_is_a_usage_error(tmp_path, replica):
    result = run_crawl(tmp_path / "home", replica.base_url, "--site", "nosuchsite", timeout=60)
    assert result.exit_code == 4
    assert "no site profile" in result.stderr


def test_scrapy_crawl_from_the_repository_root(tmp_path, replica):
    root = Path(__file__).resolve().parent.parent
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "scrapy",
            "crawl",
            "news",
            "-s",
            f"ARCHIVE_HOME={tmp_path}",
            "-a",
            f"base_url={replica.base_url}",
            "-a",
            "sections=tzzgx/thygg",
            "-s",
            "DOWNLOAD_DELAY=0",
            "-s",
            "AUTOTHROTTLE_ENABLED=False",
            "-s",
            "LOG_LEVEL=WARNING",
        ],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stderr
    code, _err, out = invoke("export", "--home", str(tmp_path))
    records = [json.loads(line) for line in out.decode("utf-8").splitlines()]
    assert records and all(r["sections"] == ["tzzgx/thygg"] for r in records)


def test_demo_crawls_the_replica_and_says_what_next(tmp_path):
    """In the order a person reads it (stdout and stderr as one stream), and every command
    of its "Try:" list runs in a fresh shell whose PATH knows no chalco-archive."""
    completed = subprocess.run(
        [sys.executable, "-m", "archive.cli", "demo", "--home", str(tmp_path / "demo")],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=180,
    )
    assert completed.returncode == 0, completed.stdout
    lines = completed.stdout.splitlines()
    assert "dead links: 1" in completed.stdout and "0 failed" in completed.stdout
    assert (tmp_path / "demo" / "archive.sqlite3").exists()
    serving = next(i for i, line in enumerate(lines) if line.startswith("replica serving at"))
    summary = next(i for i, line in enumerate(lines) if line.startswith("ok: "))
    stopped = next(i for i, line in enumerate(lines) if " stopped" in line)
    tried = lines.index("Try, in this shell or a new one:")
    assert serving < summary < stopped < tried
    export, *commands = [line.strip() for line in lines[tried + 1 :] if line.strip()]
    assert export.startswith("export CHALCO_ARCHIVE_HOME=")
    assert any(" show " in command for command in commands)
    fresh = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    for command in commands:
        if " browse" in command or " report" in command or " export" in command:
            continue  # a server until Ctrl-C; files written: run elsewhere in the suite
        if " snapshot " in command:
            command = command.replace("--output page.html", f"--output {tmp_path}/page.html")
        ran = subprocess.run(
            ["bash", "-c", f"{export} && {command}"],
            env=fresh,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert ran.returncode == 0, (command, ran.stderr)
        assert ran.stdout or (tmp_path / "page.html").exists(), command


@pytest.mark.parametrize("query", ["铝", "中铝", "职工代表", "中铝 会议", "AND (", "无此词语"])
def test_search_finds_exactly_the_articles_containing_the_text(crawled, query):
    """The index is filled by the crawl itself (no reindex), in step with the archive."""
    code, _err, out = invoke(
        "search", query, "--home", str(crawled.home), "--limit", "0", "--format", "jsonl"
    )
    assert code == 0
    found = {json.loads(line)["url"] for line in out.decode("utf-8").splitlines()}
    _code, _err, exported = invoke("export", "--home", str(crawled.home))
    expected = {
        record["url"]
        for record in map(json.loads, exported.decode("utf-8").splitlines())
        if all(
            word in (record["title"] or "") + "\n" + (record["body"] or "")
            for word in query.split()
        )
    }
    assert found == expected


def test_an_empty_search_is_a_usage_error(crawled):
    code, err, _out = invoke("search", "  ", "--home", str(crawled.home))
    assert code == 4 and "empty query" in err


def test_export_takes_the_same_filters_as_search(crawled):
    code, _err, out = invoke(
        "export",
        "--home",
        str(crawled.home),
        "--since",
        "2026-01",
        "--until",
        "2026-01",
        "--source",
        "党委宣传部",
    )
    records = [json.loads(line) for line in out.decode("utf-8").splitlines()]
    _code, _err, everything = invoke("export", "--home", str(crawled.home))
    expected = [
        r["url"]
        for r in map(json.loads, everything.decode("utf-8").splitlines())
        if (r["published"] or "")[:7] == "2026-01" and r["source"] == "党委宣传部"
    ]
    assert code == 0 and expected
    assert [r["url"] for r in records] == expected


@pytest.mark.parametrize(
    "args",
    [
        ["crawl", "--full", "--revisit"],
        ["crawl", "--revisit-days", "3"],
        ["crawl", "--base-url", "notaurl"],
        ["crawl", "--overlap", "0"],
        ["runs", "--format", "xml"],
        ["export", "--since", "notadate"],
    ],
)
def test_usage_errors_are_one_line_with_exit_4(tmp_path, args):
    completed = subprocess.run(
        [sys.executable, "-m", "archive.cli", *args, "--home", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert completed.returncode == 4, completed.stderr
    assert len(completed.stderr.strip().splitlines()) == 1, completed.stderr
    assert completed.stderr.startswith("Error: ")


def test_an_unwritable_output_is_a_one_line_error(crawled, tmp_path):
    code, err, _out = invoke(
        "export",
        "--home",
        str(crawled.home),
        "--format",
        "csv",
        "--output",
        str(tmp_path / "no" / "such" / "dir.csv"),
    )
    assert code == 1
    assert len(err.strip().splitlines()) == 1 and "No such file or directory" in err


def test_a_reader_that_goes_away_stops_the_export_quietly(crawled):
    """`chalco-archive export | head -1`: no error message, the exit status of SIGPIPE."""
    process = subprocess.Popen(
        [sys.executable, "-m", "archive.cli", "export", "--home", str(crawled.home)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout is not None and process.stderr is not None
    assert json.loads(process.stdout.readline())["url"]
    process.stdout.close()  # the export (about 130 KB) is larger than a pipe's buffer (64 KB)
    stderr = process.stderr.read().decode()
    assert process.wait(timeout=60) == 141, stderr
    assert stderr == ""


def test_impossible_dates_are_refused(crawled):
    for bad in ("2026-13", "2026-02-30", "2026-02-03T25:00"):
        result = CliRunner().invoke(main, ["export", "--home", str(crawled.home), "--since", bad])
        assert result.exit_code == 4, (bad, result.output)
        assert "must be a year, month or day" in result.output


@pytest.mark.parametrize(
    "args",
    [["migrate-db", "--to", "nonsense"], ["--db", "nonsense", "stats"]],
    ids=["--to", "--db"],
)
def test_a_database_option_that_is_not_a_url_is_a_usage_error(tmp_path, args):
    result = CliRunner().invoke(main, [*args, "--home", str(tmp_path)])
    assert result.exit_code == 4
    assert "is not a database URL" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
