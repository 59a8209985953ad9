"""Pages with one enormous part over real HTTP (replica/faults/huge_pages.py): a 50 MB inline
script before an article's <title>, a 50 MB image pasted as a data: URI before its text, a
50 MB paragraph (five times libxml2's limit), and a list page carrying a 50 MB script.
libxml2 drops such a part and everything after it unless told otherwise: every field and
attachment must come out exact, in the crawl and in `reextract`, within the crawl's memory
bound."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import pytest
from lxml import etree
from lxml import html as lxml_html

from archive.read.articles import iter_articles
from archive.store import ledger
from archive.store.db import open_reader, session_factory
from archive.store.home import ArchiveHome
from chalco_crawler.slim_markup import KEPT_HEAD, slim
from pipelines.extraction import extract_article
from replica.faults import FaultServer
from replica.faults.huge_pages import png_data_uri
from replica.faults.pages import HUGE
from tests.conftest import CrawlResult, run_crawl
from tests.fault_replica_http import fetch
from tests.test_faults import cli
from tests.test_reextract import wrong_profile

MiB = 1024 * 1024
HUGE_SIZE = 50_000_000
MEMORY_BOUND = 300 * MiB
CASES = ("huge_script_head", "huge_data_uri", "huge_text_node")


@dataclass
class HugeCrawl:
    server: FaultServer
    home: Path
    result: CrawlResult
    records: dict[str, dict]
    wrong_home: Path
    reextract: tuple[int, str, str, int]
    fixed: dict[str, dict]
    requested: list[str]
    """The paths the first crawl requested."""


def records_of(home: Path) -> dict[str, dict]:
    engine = open_reader(ArchiveHome.at(home))
    with session_factory(engine)() as session:
        records = {r["url"]: r for r in iter_articles(session)}
    engine.dispose()
    return records


@pytest.fixture(scope="module")
def huge(tmp_path_factory) -> HugeCrawl:
    work = tmp_path_factory.mktemp("huge")
    with FaultServer(crawl_delay=None, huge_page_size=HUGE_SIZE) as server:
        home = work / "home"
        result = run_crawl(home, server.base_url, "--sections", HUGE, timeout=300)
        requested = [request.path for request in server.requests]
        # The same pages crawled with a wrong title rule, then read again by reextract.
        wrong_home = work / "wrong"
        wrong = run_crawl(
            wrong_home, server.base_url, "--sections", HUGE, "--site", str(wrong_profile(work))
        )
        assert wrong.exit_code == 0, wrong.stderr
        reextract = cli(wrong_home, "reextract", "--json")
        yield HugeCrawl(
            server,
            home,
            result,
            records_of(home),
            wrong_home,
            reextract,
            records_of(wrong_home),
            requested,
        )


def db_rows(home: Path, query: str, *args: object) -> list[tuple]:
    with sqlite3.connect(ArchiveHome.at(home).database_path) as db:
        return db.execute(query, args).fetchall()


def good(crawl: HugeCrawl, case: str):
    return crawl.server.good(case)


def record(records: dict[str, dict], crawl: HugeCrawl, case: str) -> dict:
    return records[crawl.server.base_url + good(crawl, case).url_path.lstrip("/")]


def assert_exact(records: dict[str, dict], crawl: HugeCrawl, case: str) -> None:
    article = good(crawl, case)
    found = record(records, crawl, case)
    assert found["title"] == article.title
    assert found["source"] == article.source
    assert found["published"] == article.published
    assert found["body"] == "\n".join(article.paragraphs)
    assert found["images"] == []  # a data: URI is no file to fetch
    assert [(a["url"], a["name"], a["sha256"], a["size"]) for a in found["attachments"]] == [
        (crawl.server.base_url + t.url_path.lstrip("/"), t.name, t.sha256, t.size)
        for t in article.attachments
    ]


def test_the_crawl_is_ok_and_flags_nothing(huge):
    assert huge.result.exit_code == 0, huge.result.stderr
    assert huge.result.summary["status"] == "ok"
    assert huge.result.summary["new"] == len(CASES)
    assert huge.result.summary["flagged"] == 0
    assert huge.result.summary["failures"] == []


@pytest.mark.parametrize("case", CASES)
def test_every_field_and_attachment_is_exact(huge, case):
    assert_exact(huge.records, huge, case)


def test_the_list_page_with_a_huge_script_lists_every_article(huge):
    listed = {huge.server.base_url + huge.server.cases[c].path.lstrip("/") for c in CASES}
    assert {url for url, r in huge.records.items() if r["sections"] == [HUGE]} == listed
    # Every article and its attachment archived once: nothing twice, nothing missed (the
    # first crawl's probe leaves pages this large to the crawl).
    for case in CASES:
        for path in (huge.server.cases[case].path, *huge.server.cases[case].related):
            assert huge.requested.count(path) >= 1, path
            (captured,) = db_rows(
                huge.home,
                "SELECT count(*) FROM captures WHERE url = ? AND status = 200",
                huge.server.base_url + path.lstrip("/"),
            )[0]
            assert captured == 1, path


def test_the_crawl_stays_within_its_memory_bound(huge):
    assert 0 < huge.result.peak_rss <= MEMORY_BOUND, huge.result.peak_rss / MiB


def test_the_pages_are_archived_byte_for_byte(huge, tmp_path):
    for case in CASES:
        path = huge.server.cases[case].path
        _status, _headers, served = fetch(huge.server, path)
        url = huge.server.base_url + path.lstrip("/")
        code, _out, err, _peak = cli(huge.home, "snapshot", url, "-o", str(tmp_path / case))
        assert code == 0, err
        assert (tmp_path / case).read_bytes() == served


def test_the_body_html_shows_the_pasted_image_cut_to_its_head(huge):
    url = huge.server.base_url + huge.server.cases["huge_data_uri"].path.lstrip("/")
    with sqlite3.connect(ArchiveHome.at(huge.home).database_path) as db:
        (body_html,) = db.execute(
            "SELECT v.body_html FROM article_versions v JOIN articles a ON a.id = v.article_id"
            " WHERE a.url = ?",
            (url,),
        ).fetchone()
    head = png_data_uri(HUGE_SIZE)[:KEPT_HEAD]
    assert f'src="{head}..."' in body_html
    assert good(huge, "huge_data_uri").paragraphs[0] in body_html
    assert len(body_html) < 10_000


def test_the_huge_paragraph_is_kept_whole_beside_its_row(huge):
    paragraph = good(huge, "huge_text_node").paragraphs[-1]
    assert len(paragraph.encode("utf-8")) > 40_000_000  # the replica's, past libxml2's limit
    url = huge.server.base_url + huge.server.cases["huge_text_node"].path.lstrip("/")
    (stored, body_html, in_row) = db_rows(
        huge.home,
        "SELECT CAST(t.body AS TEXT), CAST(t.body_html AS TEXT), v.body IS NOT NULL"
        " FROM article_versions v JOIN articles a ON a.id = v.article_id"
        " JOIN version_texts t ON t.version_id = v.id WHERE a.url = ?",
        url,
    )[0]
    assert not in_row
    assert stored == "\n".join(good(huge, "huge_text_node").paragraphs)
    assert body_html.startswith('<div class="content-con TRS_Editor">')
    assert body_html.endswith(f">{paragraph}</p>\n</div>")  # nothing to escape: as served


def test_search_finds_the_huge_paragraph(huge):
    code, out, err, _peak = cli(huge.home, "search", "现代化产业体系", "--format", "jsonl")
    assert code == 0, err
    urls = {json.loads(line)["url"] for line in out.splitlines()}
    assert huge.server.base_url + huge.server.cases["huge_text_node"].path.lstrip("/") in urls


def test_reextract_reads_the_huge_pages_to_the_exact_fields(huge):
    code, out, err, peak = huge.reextract
    assert code == 0, err
    summary = json.loads(out)
    assert summary["changed"] == len(CASES) and summary["failures"] == []
    for case in CASES:
        assert_exact(huge.fixed, huge, case)
    assert 0 < peak <= MEMORY_BOUND, peak / MiB


# The slimming itself, on pages built here -------------------------------------------------


def page(head: str = "", body: str = "") -> bytes:
    return (
        f"<html><head>{head}<title>标题</title></head><body>{body}"
        '<div class="content-title">标题</div><p>正文。</p></body></html>'
    ).encode()


def test_a_page_without_huge_parts_is_not_copied():
    small = page(head="<script>var a = 1;</script>")
    assert slim(small).markup is small
    ordinary = page(body="<p>" + "铝" * 1_000_000 + "</p>")  # text is never set aside
    assert slim(ordinary).markup is ordinary


def test_a_huge_script_is_hollowed_and_a_script_in_a_comment_is_not_taken_for_one():
    script = "<script>if(a<b&&c>d){s='</div>'}" + "x" * 2 * MiB + "</script>"
    commented = "<!-- <script> -->" + "<p>" + "铝" * 1_000_000 + "</p>"
    slimmed = slim(page(head=script, body=commented))
    assert slimmed.hollowed == len(script) - len("<script></script>")
    assert b"<script></script>" in slimmed.markup
    assert "铝".encode() * 1_000_000 in slimmed.markup  # the text after the comment stays


@pytest.mark.parametrize("quote", ['"', "'"])
def test_a_huge_data_uri_keeps_its_head(quote):
    uri = png_data_uri(2 * MiB)
    slimmed = slim(page(body=f"<p><img src={quote}{uri}{quote}></p>"))
    assert f"src={quote}{uri[:KEPT_HEAD]}...{quote}".encode() in slimmed.markup
    assert slimmed.cut == len(uri) - KEPT_HEAD


def test_the_slim_reading_equals_the_whole_reading_but_for_the_image():
    """Every field as a parser of the whole page (huge_tree) gives them."""
    uri = png_data_uri(12_000_000)
    markup = page(
        head="<script>" + "var x=1;" * 1_500_000 + "</script>",
        body=f'<div class="content-con"><p><img src="{uri}"></p><p>第一段。</p></div>',
    )
    slimmed = extract_article(markup, "http://example.com/a/t20260209_1.html")
    parser = lxml_html.HTMLParser(encoding="utf-8", huge_tree=True)
    root = etree.fromstring(markup, parser)
    assert root.xpath("string(//img/@src)") == uri  # the whole reading has it all
    assert slimmed.title == "标题"
    assert slimmed.body_text == "第一段。"
    assert slimmed.images == []
    assert slimmed.problems == ["publication time not found"]


def test_a_huge_text_is_hashed_a_slice_at_a_time_to_the_same_digest(monkeypatch):
    monkeypatch.setattr(ledger, "TEXT_SLICE", 7)  # slices that cut through every escape
    text = ('中铝"\\\n\t\x01' + "\U0001f600é" + "</p>") * 300_000
    row = {"body": text, "title": "标题", "n": 3, "files": [["a", None]], "body_html": text[:9]}
    whole = hashlib.sha256(
        json.dumps(row, ensure_ascii=False, sort_keys=True).encode("utf-8")
    ).hexdigest()
    assert len(text) > ledger.LARGE_TEXT
    assert ledger.canonical_digest(row) == whole
