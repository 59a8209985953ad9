"""A version's huge texts kept beside its row on SQLite (archive/store/version_texts.py,
migration 0019), and every reader finding them whole: the ORM, the read verbs' SQL, the
view analysts query, search, export, verify's ledger pass, reextract's comparison. Real
SQLite files written by the real writer; the CLI in its own process."""

from __future__ import annotations

import json
import shutil
import sqlite3
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text

from archive.read.articles import iter_articles
from archive.store.db import open_reader, session_factory
from archive.store.home import ArchiveHome
from archive.store.models import ArticleVersion
from archive.store.version_texts import HUGE_TEXT, equals_beside, read_beside
from archive.store.warcstore import HttpExchange
from archive.store.writer import ArchiveWriter
from tests.conftest import article_content, postgresql_database
from tests.test_faults import cli

URL = "http://h/xwdt/gsyw/202602/t20260205_1.html"
SMALL_URL = "http://h/xwdt/gsyw/202602/t20260205_2.html"
# Past HUGE_TEXT, with what escaping and encoding must keep: full-width punctuation, an
# astral character, markup characters, and the word searched for at the very end.
UNIT = "中铝股份，绿色低碳。𠀀 & <b> "
HUGE_BODY = UNIT * (HUGE_TEXT // len(UNIT) + 100) + "\n结尾的检索词"
HUGE_HTML = "<p>" + HUGE_BODY.replace("&", "&amp;").replace("<", "&lt;") + "</p>"


def _exchange(url: str) -> HttpExchange:
    headers = [("Content-Type", "text/html; charset=utf-8")]
    when = datetime(2026, 2, 5, 1, 0, tzinfo=UTC)
    return HttpExchange(url, "GET", [], 200, "HTTP/1.1", headers, b"<p>page</p>", when)


@pytest.fixture(scope="module")
def home(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("texts") / "home"
    writer = ArchiveWriter(ArchiveHome.at(root))
    writer.start_run("chalco", "http://h/", "full")
    now = datetime(2026, 2, 5, 1, 0, tzinfo=UTC)
    for url, body in ((URL, HUGE_BODY), (SMALL_URL, "一段正文")):
        capture = writer.record_exchange(_exchange(url))
        content = article_content(url, body, published="2026-02-05")
        if body is HUGE_BODY:
            content = replace(content, body_html=HUGE_HTML)
        writer.save_article(content, capture.id, now)
    writer.finish_run("ok", 0, {"new": 2, "updated": 0, "unchanged": 0, "gone": 0, "failed": 0})
    writer.close()
    return root


def database(home: Path) -> sqlite3.Connection:
    return sqlite3.connect(ArchiveHome.at(home).database_path)


def test_a_huge_text_is_kept_beside_its_row_and_a_small_one_in_it(home):
    with database(home) as db:
        rows = dict(
            db.execute(
                "SELECT a.url, v.body FROM article_versions v"
                " JOIN articles a ON a.id = v.article_id"
            ).fetchall()
        )
        beside = db.execute(
            "SELECT CAST(body AS TEXT), CAST(body_html AS TEXT), typeof(body) FROM version_texts"
        ).fetchall()
    assert rows == {URL: None, SMALL_URL: "一段正文"}
    assert beside == [(HUGE_BODY, HUGE_HTML, "blob")]


def test_the_orm_and_the_read_verbs_sql_read_the_whole_text(home):
    engine = open_reader(ArchiveHome.at(home))
    with session_factory(engine)() as session:
        version = session.scalars(select(ArticleVersion).where(ArticleVersion.body.is_(None)))
        assert list(version) == []  # the ORM's body is the whole text, never the null column
        huge = session.scalars(select(ArticleVersion).order_by(ArticleVersion.id)).first()
        assert huge is not None and (huge.body, huge.body_html) == (HUGE_BODY, HUGE_HTML)
        records = {r["url"]: r for r in iter_articles(session)}
    engine.dispose()
    assert records[URL]["body"] == HUGE_BODY
    assert records[SMALL_URL]["body"] == "一段正文"


def test_the_analysts_view_reads_the_whole_body(home):
    with database(home) as db:
        bodies = dict(db.execute("SELECT url, body FROM latest_articles").fetchall())
    assert bodies == {URL: HUGE_BODY, SMALL_URL: "一段正文"}


def test_search_finds_a_word_at_the_end_of_a_huge_body(home):
    code, out, err, _peak = cli(home, "search", "结尾的检索词", "--format", "jsonl")
    assert code == 0, err
    hits = [json.loads(line) for line in out.splitlines()]
    assert [hit["url"] for hit in hits] == [URL]
    assert "结尾的检索词" in hits[0]["snippet"]


def test_export_writes_the_whole_body(home, tmp_path):
    target = tmp_path / "articles.jsonl"
    code, _out, err, _peak = cli(home, "export", "--format", "jsonl", "-o", str(target))
    assert code == 0, err
    exported = {r["url"]: r for r in map(json.loads, target.read_text("utf-8").splitlines())}
    assert exported[URL]["body"] == HUGE_BODY


def test_verify_holds_and_finds_a_text_changed_beside_its_row(home, tmp_path):
    code, out, err, _peak = cli(home, "verify")
    assert code == 0, out + err
    copy = tmp_path / "copy"
    shutil.copytree(home, copy)
    with database(copy) as db:  # one character at the end of the text beside the row
        db.execute(
            "UPDATE version_texts SET body = CAST(replace(CAST(body AS TEXT), '词', '辞') AS BLOB)"
        )
    code, out, err, _peak = cli(copy, "verify")
    assert code != 0
    assert "was edited" in out + err


def test_reextract_compares_a_text_beside_its_row_without_reading_it(home):
    engine = open_reader(ArchiveHome.at(home))
    with engine.connect() as connection:
        (version_id,) = connection.exec_driver_sql("SELECT version_id FROM version_texts").one()
        assert equals_beside(connection, version_id, "body", HUGE_BODY)
        assert not equals_beside(connection, version_id, "body", HUGE_BODY[:-1] + "辞")
        assert not equals_beside(connection, version_id, "body", HUGE_BODY + "。")
        assert not equals_beside(connection, version_id, "body", None)
        assert read_beside(connection, version_id, "body_html") == HUGE_HTML
    engine.dispose()


def test_migrate_db_puts_the_huge_text_into_its_row_on_postgresql(home, tmp_path):
    copy = tmp_path / "home"  # migrate-db marks the home: not the shared one
    shutil.copytree(home, copy)
    with postgresql_database() as url:
        sqlite_url = f"sqlite:///{copy}/archive.sqlite3"
        code, out, err, _peak = cli(copy, "--db", sqlite_url, "migrate-db", "--to", url)
        assert code == 0, out + err
        code, out, err, _peak = cli(copy, "--db", url, "verify")
        assert code == 0, out + err  # the ledger's digests hold over the texts moved
        engine = create_engine(url)
        with engine.connect() as connection:
            body, body_html, beside = connection.execute(
                text(
                    "SELECT v.body, v.body_html, (SELECT count(*) FROM version_texts)"
                    " FROM article_versions v JOIN articles a ON a.id = v.article_id"
                    " WHERE a.url = :url"
                ),
                {"url": URL},
            ).one()
        engine.dispose()
        assert (body, body_html, beside) == (HUGE_BODY, HUGE_HTML, 0)
        code, out, err, _peak = cli(copy, "--db", url, "search", "结尾的检索词", "--format=jsonl")
        assert code == 0, err
        assert [json.loads(line)["url"] for line in out.splitlines()] == [URL]


def test_a_version_made_because_a_file_changed_keeps_the_huge_body(tmp_path):
    from tests.test_file_versions import Site

    root = tmp_path / "home"
    writer = ArchiveWriter(ArchiveHome.at(root))
    writer.start_run("chalco", "http://h/", "full")
    site = Site(writer)
    attachment = "http://h/files/report.pdf"
    site.fetch_file(attachment, b"%PDF-1.4 first")
    assert site.page(URL, HUGE_BODY, [(attachment, "attachment")]) == "new"
    assert site.refetch(attachment, b"%PDF-1.4 second") == 1  # a version with cause file
    writer.finish_run("ok", 0, {"new": 1, "updated": 0, "unchanged": 0, "gone": 0, "failed": 0})
    writer.close()
    with database(root) as db:
        versions = db.execute(
            "SELECT v.number, v.cause, CAST(t.body AS TEXT) FROM article_versions v"
            " JOIN version_texts t ON t.version_id = v.id ORDER BY v.number"
        ).fetchall()
    assert versions == [(1, "crawl", HUGE_BODY), (2, "file", HUGE_BODY)]
    code, out, err, _peak = cli(root, "verify")
    assert code == 0, out + err


def test_the_read_verbs_read_an_archive_from_before_the_table(home, tmp_path):
    """Readers never migrate: an archive last written before migration 0019 is read as it
    is, every text in its row."""
    copy = tmp_path / "old"
    shutil.copytree(home, copy)
    with database(copy) as db:
        db.execute("DROP VIEW latest_articles")
        db.execute("DROP TABLE version_texts")
        db.execute("UPDATE alembic_version SET version_num = '0018'")
    for verb in (("show", SMALL_URL, "--format", "json"), ("search", "一段正文"), ("export",)):
        code, out, err, _peak = cli(copy, *verb)
        assert code == 0, (verb, err)
        assert "一段正文" in out, verb
