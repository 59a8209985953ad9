"""Site content is untrusted: the fault replica's 不可信内容 (replica.faults.hostile) crawled
over HTTP, then every surface that shows archived text checked with it: CSV exports and
listings (no live formula), JSON Lines and Parquet (the text verbatim), `show`, `diff`,
tables and JSON on a terminal (control characters escaped, rich markup as text), the HTML
report in headless Chromium (no script runs, only http(s) links) and datasette."""

from __future__ import annotations

import asyncio
import csv
import dataclasses
import io
import json
import os
import pty
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path
from typing import Any

import lxml.html
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from datasette.app import Datasette

from archive.cli import main
from archive.read.articles import iter_articles
from archive.read.report_data import gather
from archive.read.report_page import render
from archive.safe_text import FORMULA_STARTS
from archive.store.db import open_reader, session_factory
from archive.store.home import ArchiveHome
from archive.store.warcstore import HttpExchange
from archive.store.writer import ArchiveWriter
from replica.faults import FaultServer
from replica.faults.hostile import ATTACKER
from replica.faults.pages import HOSTILE
from replica.faults.truth import HostileArticle
from tests.conftest import CrawlResult, article_content, run_crawl
from tests.test_report import chromium, console_messages

# What a terminal acts on, raw: the escapes must have replaced every one of them.
RAW_CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
SAFE_SCHEMES = ("http:", "https:")


@dataclass
class HostileCrawl:
    server: FaultServer
    home: Path
    result: CrawlResult
    records: dict[str, dict[str, Any]]

    def url(self, case: str) -> str:
        return self.server.base_url + self.article(case).url_path.lstrip("/")

    def article(self, case: str) -> HostileArticle:
        return self.server.hostile_articles[case]


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HostileCrawl]:
    with FaultServer(crawl_delay=None) as server:
        home = tmp_path_factory.mktemp("hostile") / "home"
        result = run_crawl(home, server.base_url, "--sections", HOSTILE, timeout=120)
        engine = open_reader(ArchiveHome.at(home))
        with session_factory(engine)() as session:
            records = {record["url"]: record for record in iter_articles(session)}
        engine.dispose()
        yield HostileCrawl(server, home, result, records)


def cli(*args: str) -> Any:
    return CliRunner().invoke(main, list(args))


def on_terminal(*args: str) -> str:
    """What `chalco-archive ARGS` writes on a terminal (a pseudo-terminal), as text."""
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "archive.cli", *args],
        stdin=follower,
        stdout=follower,
        stderr=subprocess.PIPE,
        close_fds=True,
    )
    os.close(follower)
    chunks = []
    while True:
        try:
            data = os.read(leader, 65536)
        except OSError:  # EIO: the command ended and closed its side
            break
        if not data:
            break
        chunks.append(data)
    os.close(leader)
    _out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    return b"".join(chunks).decode("utf-8").replace("\r\n", "\n")


# --- the crawl ------------------------------------------------------------------------------


def test_the_hostile_articles_are_archived_as_published(hostile):
    assert hostile.result.exit_code == 0, hostile.result.stderr
    assert set(hostile.server.hostile_articles) == {
        "hostile_formulas",
        "hostile_markup",
        "hostile_terminal",
    }
    base = hostile.server.base_url
    for case, article in hostile.server.hostile_articles.items():
        record = hostile.records[hostile.url(case)]
        assert record["title"] == article.title, case
        assert record["source"] == article.source, case
        assert record["published"] == article.published, case
        assert record["body"] == "\n".join(article.paragraphs), case
        assert [(a["url"], a["name"]) for a in record["attachments"]] == [
            (base + path.lstrip("/"), name) for path, name in article.attachments
        ], case
        assert all(a["sha256"] for a in record["attachments"]), case


def test_script_links_are_never_fetched_nor_kept_as_files(hostile):
    article = hostile.article("hostile_markup")
    assert article.refused_hrefs
    requested = " ".join(request.path for request in hostile.server.requests)
    for href in article.refused_hrefs:
        scheme = href.split(":", 1)[0]
        assert f"{scheme}:" not in requested
    for record in hostile.records.values():
        for named in record["attachments"] + record["images"]:
            assert named["url"].startswith(hostile.server.base_url)


# --- spreadsheets: CSV, JSON Lines, Parquet -------------------------------------------------


def csv_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))


def assert_no_formula(rows: list[dict[str, str]]) -> None:
    for row in rows:
        for column, cell in row.items():
            assert not cell.startswith(FORMULA_STARTS), (column, cell)


def test_csv_export_neutralizes_formulas_and_jsonl_and_parquet_keep_the_text(hostile, tmp_path):
    home = str(hostile.home)
    target = tmp_path / "export.csv"
    assert cli("export", "--home", home, "--format", "csv", "-o", str(target)).exit_code == 0
    rows = {row["url"]: row for row in csv_rows(target.read_text("utf-8-sig"))}
    assert_no_formula(list(rows.values()))
    formulas = hostile.article("hostile_formulas")
    row = rows[hostile.url("hostile_formulas")]
    assert row["title"] == "'" + formulas.title
    assert row["source"] == "'" + formulas.source
    assert row["body"] == "'" + "\n".join(formulas.paragraphs)
    # Lists are JSON in a cell: the names inside it start no cell.
    assert [a["name"] for a in json.loads(row["attachments"])] == [
        name for _path, name in formulas.attachments
    ]
    # Text that starts no formula is written as it is, even hostile to other readers.
    markup = hostile.article("hostile_markup")
    assert rows[hostile.url("hostile_markup")]["title"] == markup.title

    jsonl = cli("export", "--home", home, "--format", "jsonl")
    records = {r["url"]: r for r in map(json.loads, jsonl.stdout.splitlines())}
    assert records == hostile.records
    assert records[hostile.url("hostile_formulas")]["title"] == formulas.title

    parquet = tmp_path / "export.parquet"
    assert cli("export", "--home", home, "--format", "parquet", "-o", str(parquet)).exit_code == 0
    table = pq.read_table(parquet, columns=["url", "title"]).to_pydict()
    titles = dict(zip(table["url"], table["title"], strict=True))
    assert titles[hostile.url("hostile_formulas")] == formulas.title
    assert titles[hostile.url("hostile_terminal")] == hostile.article("hostile_terminal").title


def test_csv_listings_neutralize_formulas_too(hostile):
    home = str(hostile.home)
    hits = cli("search", "工作会议", "--home", home, "--format", "csv")
    assert hits.exit_code == 0, hits.output
    rows = csv_rows(hits.stdout)
    assert [row["title"] for row in rows] == ["'" + hostile.article("hostile_formulas").title]
    assert_no_formula(rows)
    for verb in (["runs"], ["stats"], ["captures", hostile.url("hostile_formulas")]):
        listed = cli(*verb, "--home", home, "--format", "csv")
        assert listed.exit_code == 0, listed.output
        assert_no_formula(csv_rows(listed.stdout))


# --- terminals ------------------------------------------------------------------------------


def test_show_on_a_terminal_escapes_control_characters(hostile):
    article = hostile.article("hostile_terminal")
    shown = on_terminal("show", hostile.url("hostile_terminal"), "--home", str(hostile.home))
    assert not RAW_CONTROLS.search(shown), shown
    assert "中铝股份\\u001b[2J\\u001b[1;31m紧急通知" in shown
    assert "来源：\\u202e部传宣委党" in shown
    assert "C1控制符\\u009b31m红色" in shown and "删除符\\u007f结束" in shown
    assert "附件 \\u001b[31m红色附件.pdf" in shown and "报告\\u202efdp.exe" in shown

    # Piped to a file or a program, the text is written as archived.
    piped = cli("show", hostile.url("hostile_terminal"), "--home", str(hostile.home))
    assert piped.stdout.splitlines()[0] == article.title
    assert "\n".join(article.paragraphs) in piped.stdout


def test_json_on_a_terminal_is_escaped_and_means_the_same(hostile):
    home = str(hostile.home)
    shown = on_terminal("export", "--home", home, "--format", "jsonl")
    assert not RAW_CONTROLS.search(shown)
    records = {r["url"]: r for r in map(json.loads, shown.splitlines())}
    assert records == hostile.records
    one = on_terminal("show", hostile.url("hostile_terminal"), "--home", home, "--format", "json")
    assert not RAW_CONTROLS.search(one)
    assert json.loads(one)["title"] == hostile.article("hostile_terminal").title


def test_a_snapshot_on_a_terminal_shows_its_control_bytes(hostile, tmp_path):
    url = hostile.url("hostile_terminal")
    shown = on_terminal("snapshot", url, "--home", str(hostile.home))
    assert "\\xe2\\x80\\xae" in shown  # U+202E
    assert not RAW_CONTROLS.search(shown)
    target = tmp_path / "page.html"
    assert cli("snapshot", url, "--home", str(hostile.home), "-o", str(target)).exit_code == 0
    assert "\u202e".encode() in target.read_bytes()  # to a file: the bytes as received


def test_tables_show_rich_markup_and_controls_as_text(hostile):
    args = ["search", "紧急通知", "--home", str(hostile.home), "--format", "table"]
    found = CliRunner().invoke(main, args, env={"COLUMNS": "400"})  # no prose cell shortened
    assert found.exit_code == 0, found.output
    flat = re.sub(r"\s+", "", found.stdout)
    assert f"[link={ATTACKER}]详情[/link]" in flat
    assert "\\u001b[2J" in flat
    assert not RAW_CONTROLS.search(found.stdout)


def test_diff_on_a_terminal_escapes_control_characters(tmp_path):
    home = ArchiveHome.at(tmp_path / "home")
    writer = ArchiveWriter(home)
    writer.start_run("chalco", "http://h/", "full")
    url = "http://h/xwdt/gsyw/202602/t20260205_1.html"
    for number, body in enumerate(("第一段", "第一段\x1b[1A\x1b[2K伪造\u202eexe.fdp")):
        fetched_at = datetime(2026, 2, 5, 1, number, tzinfo=UTC)
        exchange = HttpExchange(url, "GET", [], 200, "HTTP/1.1", [], body.encode(), fetched_at)
        capture = writer.record_exchange(exchange)
        writer.save_article(article_content(url, body), capture.id, fetched_at)
    writer.finish_run("ok", 0, {})
    writer.close()

    shown = on_terminal("diff", url, "--home", str(home.root))
    assert "+第一段\\u001b[1A\\u001b[2K伪造\\u202eexe.fdp" in shown
    assert not RAW_CONTROLS.search(shown)
    piped = cli("diff", url, "--home", str(home.root))
    assert "+第一段\x1b[1A\x1b[2K伪造\u202eexe.fdp" in piped.stdout


# --- the HTML report ------------------------------------------------------------------------

HOSTILE_LINKS = {
    "javascript": "javascript:document.documentElement.setAttribute('data-pwned','link')",
    "data": "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "vbscript": "vbscript:msgbox(1)",
}

# Loads a page in a frame, lists its links and event handlers, clicks every link (an
# http(s) one is kept from leaving), then writes what it saw into #result for --dump-dom.
HARNESS = """<!DOCTYPE html><html><body><pre id="result">pending</pre>
<iframe id="page" src="PAGE" width="1200" height="1600"></iframe>
<script>
let done = false;
const frame = document.getElementById("page");
frame.addEventListener("load", () => {
  if (done) return;
  done = true;
  const doc = frame.contentDocument;
  const pwned = () => doc.documentElement.getAttribute("data-pwned");
  const seen = {before: pwned()};
  seen.links = Array.from(doc.querySelectorAll("a[href]"), (a) => a.getAttribute("href"));
  seen.handlers = Array.from(doc.querySelectorAll("*")).flatMap((el) =>
    Array.from(el.attributes).filter((at) => at.name.startsWith("on")).map((at) => at.name));
  seen.scripts = doc.querySelectorAll("script").length;
  doc.addEventListener("click", (event) => {
    const link = event.target.closest("a");
    if (link && /^https?:$/.test(link.protocol)) event.preventDefault();
  }, true);
  for (const link of doc.querySelectorAll("a")) link.click();
  setTimeout(() => {
    seen.after = pwned();
    document.getElementById("result").textContent = JSON.stringify(seen);
  }, 1000);
});
</script></body></html>
"""


def hostile_report(hostile: HostileCrawl) -> str:
    """The report of the hostile archive, its recent articles with three more whose URLs
    are javascript:, data: and vbscript: (no crawl archives such a URL, but the page must
    not trust the archive to have kept it so)."""
    engine = open_reader(ArchiveHome.at(hostile.home))
    with session_factory(engine)() as session:
        data = gather(session, None, None)
    engine.dispose()
    title = hostile.article("hostile_markup").title
    extra = [
        {
            "url": url,
            "title": f"{name} {title}",
            "source": hostile.article("hostile_markup").source,
            "published": "2026-02-09",
            "sections": ["<b onmouseover=alert(1)>栏目</b>"],
            "attachments": 0,
        }
        for name, url in HOSTILE_LINKS.items()
    ]
    return render(dataclasses.replace(data, recent=extra + data.recent))


def test_the_report_escapes_hostile_text_and_links_only_http(hostile):
    page = hostile_report(hostile)
    doc = lxml.html.fromstring(page)
    assert not doc.xpath("//script | //img | //iframe | //object | //embed")
    assert not [a for el in doc.iter() for a in el.attrib if a.startswith("on")]
    hrefs = doc.xpath("//a/@href")
    assert hrefs and all(href.startswith(SAFE_SCHEMES) for href in hrefs)
    text = doc.text_content()
    assert hostile.article("hostile_markup").title in text  # shown, as text
    # Bidi overrides and controls shown escaped: "报告\u202efdp.exe" never reads "报告exe.pdf".
    assert not RAW_CONTROLS.search(page) and "\\u202e部传宣委党" in text
    for url in HOSTILE_LINKS.values():
        assert url not in hrefs
    titles = [row.text_content() for row in doc.xpath('//table[@id="recent"]//tr/td[2]')]
    assert [t for t in titles if t.startswith(tuple(HOSTILE_LINKS))] == [
        f"{name} {hostile.article('hostile_markup').title}" for name in HOSTILE_LINKS
    ]


@contextmanager
def served(directory: Path) -> Iterator[str]:
    handler = partial(SimpleHTTPRequestHandler, directory=str(directory))
    handler.log_message = lambda *args: None  # type: ignore[assignment]
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def in_browser(binary: str, directory: Path, page: str, profile: Path) -> tuple[dict, list[str]]:
    """Load `page` (a file in `directory`) in the harness, over HTTP, in headless Chromium:
    what the harness saw, and the browser's console lines."""
    (directory / "harness.html").write_text(HARNESS.replace("PAGE", page), "utf-8")
    with served(directory) as base:
        completed = subprocess.run(
            [
                binary,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--no-first-run",
                f"--user-data-dir={profile}",
                "--enable-logging=stderr",
                "--v=0",
                "--virtual-time-budget=5000",
                "--dump-dom",
                base + "harness.html",
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert completed.returncode == 0, completed.stderr[-2000:]
    result = lxml.html.fromstring(completed.stdout).get_element_by_id("result").text_content()
    assert result != "pending", completed.stderr[-2000:]
    frame_lines = [line for line in console_messages(completed.stderr) if "harness" not in line]
    return json.loads(result), frame_lines


def test_no_script_runs_in_the_report_in_chromium(hostile, tmp_path):
    binary = chromium()
    (tmp_path / "report.html").write_text(hostile_report(hostile), "utf-8")
    seen, console = in_browser(binary, tmp_path, "report.html", tmp_path / "profile")
    assert seen["before"] is None and seen["after"] is None  # nothing ran, clicks included
    assert seen["scripts"] == 0 and seen["handlers"] == []
    assert seen["links"] and all(link.startswith(SAFE_SCHEMES) for link in seen["links"])
    # Not even a script refused by the page's Content-Security-Policy.
    assert console == []


def test_a_script_that_ran_would_be_seen(tmp_path):
    """The browser check above can fail: an unescaped title and a javascript: link do run."""
    binary = chromium()
    unsafe = (
        "<!DOCTYPE html><html><body>"
        "<img src=x onerror=\"document.documentElement.setAttribute('data-pwned','img')\">"
        f'<a href="{HOSTILE_LINKS["javascript"]}">link</a></body></html>'
    )
    (tmp_path / "unsafe.html").write_text(unsafe, "utf-8")
    seen, _console = in_browser(binary, tmp_path, "unsafe.html", tmp_path / "profile")
    assert seen["handlers"] == ["onerror"]
    assert seen["after"] in ("img", "link")
    assert seen["links"] == [HOSTILE_LINKS["javascript"]]


# --- datasette ------------------------------------------------------------------------------

METADATA = json.loads(
    (resources.files("archive.read") / "datasette-metadata.json").read_text("utf-8")
)


@pytest.fixture(scope="module")
def datasette(hostile: HostileCrawl) -> Iterator[Datasette]:
    ds = Datasette([str(hostile.home / "archive.sqlite3")], metadata=METADATA)
    asyncio.run(ds.invoke_startup())
    yield ds
    for database in ds.databases.values():
        database.close()


def fetch(ds: Datasette, path: str, **params: str) -> tuple[int, str]:
    async def get() -> tuple[int, str]:
        response = await ds.client.get(path, params=params)
        return response.status_code, response.text

    return asyncio.run(get())


@pytest.mark.parametrize(
    "path",
    [
        "/archive/latest_articles",
        "/archive/article_versions",
        "/archive/article_files",
        "/archive/listings",
        "/archive/files",
    ],
)
def test_datasette_shows_archived_markup_as_text(hostile, datasette, path):
    status, html = fetch(datasette, path, _size="max")
    assert status == 200
    doc = lxml.html.fromstring(html)
    # datasette's own page has scripts of its own, none with an archived value in it.
    for script in doc.xpath("//script"):
        assert "data-pwned" not in (script.text or "") and not script.get("src", "").startswith(
            hostile.server.base_url
        )
    assert not [a for el in doc.iter() for a in el.attrib if a.startswith("on")]
    hrefs = doc.xpath("//a/@href")
    assert not [h for h in hrefs if h.lower().startswith(("javascript:", "data:", "vbscript:"))]
    assert not doc.xpath("//img[@onerror] | //svg[@onload]")
    if path == "/archive/latest_articles":
        assert hostile.article("hostile_markup").title in doc.text_content()


def test_datasette_takes_no_sql_write(datasette):
    for statement in (
        "delete from articles",
        "update articles set status = 'gone'",
        "insert into ledger (kind) values ('x')",
    ):
        status, _body = fetch(datasette, "/archive.json", sql=statement)
        assert status == 400, statement
    # Descriptions are text: no HTML rendered from the metadata (description_html), no
    # scripts or templates added, no canned query that writes.
    keys = set(metadata_keys(METADATA))
    assert not {key for key in keys if key.endswith("_html")}
    assert not keys & {"extra_js_urls", "extra_css_urls", "plugins", "write", "on_success_message"}
    assert set(METADATA) <= {"title", "description", "license", "source", "source_url", "databases"}


def metadata_keys(value: Any, column_names: bool = False) -> Iterator[str]:
    """Every key of datasette's metadata but the column names of "columns"."""
    if isinstance(value, dict):
        for key, item in value.items():
            if not column_names:
                yield key
            yield from metadata_keys(item, column_names=key == "columns")
