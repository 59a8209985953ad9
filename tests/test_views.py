"""The analysts' SQL views (migration 0004) on a crawled archive, read as analysts read it:
sqlite3, `mode=ro`."""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from click.testing import CliRunner

from archive.cli import main
from archive.read.articles import iter_articles
from archive.read.captures import captures as capture_list
from archive.store.db import _alembic_config, open_reader, open_writer, session_factory
from archive.store.home import ArchiveHome
from archive.store.writer import ArchiveWriter
from archive.store.writer.values import ArticleContent, FileLink

VIEWS = {
    "latest_articles": [
        "url",
        "site",
        "docid",
        "status",
        "gone_at",
        "title",
        "source",
        "author",
        "published",
        "published_raw",
        "body",
        "sections",
        "attachment_count",
        "image_count",
        "version",
        "versions",
        "snapshot_sha256",
        "fetched_at",
        "first_seen_at",
        "last_seen_at",
        "problems_json",
    ],
    "article_sections": [
        "article_url",
        "site",
        "section",
        "section_name",
        "list_url",
        "first_seen_at",
        "last_seen_at",
    ],
    "article_files": [
        "article_url",
        "version",
        "role",
        "name",
        "url",
        "sha256",
        "size",
        "media_type",
        "status",
        "problem",
    ],
    "capture_log": [
        "id",
        "url",
        "fetched_at",
        "status",
        "record_type",
        "media_type",
        "payload_sha256",
        "content_sha256",
        "content_size",
        "oversize",
        "warc_file",
        "offset",
        "length",
        "run_id",
    ],
    "crawl_run_summary": [
        "id",
        "site",
        "mode",
        "status",
        "exit_code",
        "started_at",
        "finished_at",
        "new",
        "updated",
        "unchanged",
        "gone",
        "failed",
        "dead",
    ],
}
COUNTS = ("new", "updated", "unchanged", "gone", "failed", "dead")


def read_only(home: Path) -> sqlite3.Connection:
    connection = sqlite3.connect(f"file:{home / 'archive.sqlite3'}?mode=ro", uri=True)
    connection.row_factory = sqlite3.Row
    return connection


@pytest.fixture(scope="module")
def database(crawled: Any) -> Iterator[sqlite3.Connection]:
    connection = read_only(crawled.home)
    yield connection
    connection.close()


def export(home: Path) -> dict[str, dict[str, Any]]:
    engine = open_reader(ArchiveHome.at(home))
    try:
        with session_factory(engine)() as session:
            return {record["url"]: record for record in iter_articles(session)}
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def exported(crawled: Any) -> dict[str, dict[str, Any]]:
    return export(crawled.home)


def same_time(stored: str | None, exported: str | None) -> bool:
    """The view shows times as stored; the export as datetime.isoformat() prints them."""
    if stored is None or exported is None:
        return stored is exported
    return datetime.fromisoformat(stored) == datetime.fromisoformat(exported)


@pytest.mark.parametrize("view", sorted(VIEWS))
def test_every_view_has_the_documented_columns(database, view):
    cursor = database.execute(f"select * from {view} limit 0")
    assert [column[0] for column in cursor.description] == VIEWS[view]


def test_latest_articles_has_one_row_per_article(database):
    (articles,) = database.execute("select count(*) from articles").fetchone()
    rows, urls = database.execute(
        "select count(*), count(distinct url) from latest_articles"
    ).fetchone()
    assert articles > 0
    assert rows == urls == articles


def assert_latest_articles_match(
    database: sqlite3.Connection, exported: dict[str, dict[str, Any]]
) -> None:
    rows = {row["url"]: row for row in database.execute("select * from latest_articles")}
    assert set(rows) == set(exported)
    for url, record in exported.items():
        row = rows[url]
        assert row["title"] == record["title"], url
        assert row["source"] == record["source"], url
        assert row["author"] == record["author"], url
        assert row["published"] == record["published"], url
        assert row["body"] == record["body"], url
        assert (row["sections"] or None) == (",".join(record["sections"]) or None), url
        assert row["version"] == record["version"], url
        assert row["status"] == record["status"], url
        assert row["snapshot_sha256"] == record["snapshot"]["sha256"], url
        assert same_time(row["fetched_at"], record["snapshot"]["fetched_at"]), url
        assert same_time(row["first_seen_at"], record["first_seen"]), url
        assert same_time(row["last_seen_at"], record["last_seen"]), url
        assert row["attachment_count"] == len(record["attachments"]), url
        assert row["image_count"] == len(record["images"]), url


def test_latest_articles_matches_the_export(database, exported):
    assert_latest_articles_match(database, exported)


def test_latest_articles_counts_versions_and_lists_sections_sorted(database):
    rows = database.execute(
        "select l.url, l.versions, l.version, l.sections,"
        " (select count(*) from article_versions v join articles a on a.id = v.article_id"
        "  where a.url = l.url) as counted"
        " from latest_articles l"
    ).fetchall()
    assert all(row["versions"] == row["counted"] == row["version"] for row in rows)
    several = [
        row["sections"].split(",") for row in rows if row["sections"] and "," in row["sections"]
    ]
    assert several, "the replica lists some articles in more than one section"
    assert all(sections == sorted(sections) for sections in several)


def test_article_files_matches_the_exported_attachments_and_images(database, exported):
    latest = {
        row["url"]: row["version"]
        for row in database.execute("select url, version from latest_articles")
    }
    files: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for row in database.execute("select * from article_files"):
        if row["version"] != latest[row["article_url"]]:
            continue
        by_role = files.setdefault(row["article_url"], {"attachment": [], "image": []})
        by_role[row["role"]].append(dict(row))
    assert any(by_role["attachment"] for by_role in files.values())

    def key(item: dict[str, Any]) -> str:
        return item["url"]

    for url, record in exported.items():
        by_role = files.get(url, {"attachment": [], "image": []})
        attachments = [
            {k: f[k] for k in ("url", "name", "sha256", "size", "media_type")}
            for f in by_role["attachment"]
        ]
        images = [{"url": f["url"], "sha256": f["sha256"]} for f in by_role["image"]]
        assert sorted(attachments, key=key) == sorted(record["attachments"], key=key), url
        assert sorted(images, key=key) == sorted(record["images"], key=key), url


def test_article_sections_mirrors_the_listings_of_archived_articles(database):
    listed = database.execute(
        "select article_url, section, section_name, list_url from listings order by id"
    ).fetchall()
    archived = {url for (url,) in database.execute("select url from articles")}
    shown = database.execute(
        "select article_url, section, section_name, list_url from article_sections"
    ).fetchall()
    # The replica lists a page that answers 404 and one robots.txt forbids: never archived.
    assert any(row[0] not in archived for row in listed)
    expected = [tuple(row) for row in listed if row[0] in archived]
    assert expected
    assert sorted(map(tuple, shown)) == sorted(expected)


def test_article_sections_counts_as_stats_does(database, crawled):
    per_section = dict(
        database.execute("select section, count(*) from article_sections group by section")
    )
    result = CliRunner().invoke(main, ["stats", "--home", str(crawled.home), "--format", "jsonl"])
    assert result.exit_code == 0, result.output
    counted: dict[str, int] = {}
    for line in result.output.splitlines():
        row = json.loads(line)
        counted[row["section"]] = counted.get(row["section"], 0) + row["articles"]
    assert per_section == counted


def test_capture_log_matches_the_captures_verb(database, crawled):
    (captures,) = database.execute("select count(*) from captures").fetchone()
    rows = database.execute("select * from capture_log").fetchall()
    assert len(rows) == captures > 0
    assert {row["record_type"] for row in rows} == {"response", "revisit"}
    by_url: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_url.setdefault(row["url"], []).append(dict(row))
    fields = (
        "status",
        "record_type",
        "payload_sha256",
        "content_sha256",
        "content_size",
        "oversize",
    )
    fields += ("warc_file", "offset", "length")
    engine = open_reader(ArchiveHome.at(crawled.home))
    try:
        with session_factory(engine)() as session:
            for url, logged in by_url.items():
                listed = capture_list(session, url)
                assert len(listed) == len(logged), url
                logged.sort(key=lambda row: (row["fetched_at"], row["id"]))
                for row, item in zip(logged, listed, strict=True):
                    assert same_time(row["fetched_at"], item["fetched_at"]), url
                    assert {k: row[k] for k in fields} == {k: item[k] for k in fields}
                    assert (crawled.home / "warc" / row["warc_file"]).is_file()
    finally:
        engine.dispose()


def test_crawl_run_summary_has_the_runs_with_their_counts(database, crawled):
    rows = database.execute("select * from crawl_run_summary order by id").fetchall()
    assert [row["mode"] for row in rows] == ["incremental", "full"]
    for row, crawl in zip(rows, (crawled.first, crawled.second), strict=True):
        assert row["status"] == crawl.summary["status"]
        assert row["exit_code"] == crawl.summary["exit_code"] == crawl.exit_code
        assert {name: row[name] for name in COUNTS} == {
            name: crawl.summary[name] for name in COUNTS
        }
    assert rows[0]["new"] > 0 and rows[1]["unchanged"] == rows[0]["new"]


def next_version(database: sqlite3.Connection, url: str) -> ArticleContent:
    """The article's latest version with a new title: what an edit on the site makes."""
    row = database.execute("select * from latest_articles where url = ?", (url,)).fetchone()
    files = database.execute(
        "select role, url, name from article_files where article_url = ? and version = ?",
        (url, row["version"]),
    ).fetchall()
    return ArticleContent(
        url=url,
        site=row["site"],
        docid=row["docid"],
        title=f"{row['title']}（更新）",
        source=row["source"],
        source_raw=row["source"],
        author=row["author"],
        author_raw=row["author"],
        published=row["published"],
        published_raw=row["published_raw"],
        info_raw=None,
        body=row["body"],
        body_html=None,
        files=[FileLink(url=f["url"], role=f["role"], name=f["name"]) for f in files],
    )


def test_views_read_beside_a_writer(crawled, tmp_path):
    home = tmp_path / "home"
    shutil.copytree(crawled.home, home)
    reader = read_only(home)
    try:
        gone_url, edited_url = (
            url
            for (url,) in reader.execute(
                "select url from latest_articles where status = 'live' and attachment_count > 0"
                " limit 2"
            )
        )
        edited = next_version(reader, edited_url)
        (capture_id, capture_sha256) = reader.execute(
            "select id, content_sha256 from captures where status = 200"
            " and record_type = 'response' order by id desc limit 1"
        ).fetchone()
        writer = ArchiveWriter(ArchiveHome.at(home), commit_every=10**9, commit_seconds=3600)
        try:
            run_id = writer.start_run("chalco", "http://127.0.0.1:1/", "incremental")
            # Not committed yet: the writer holds the home's lock and a write transaction.
            writer.mark_gone(gone_url, datetime.now(UTC))
            assert writer.save_article(edited, capture_id, datetime.now(UTC))[0] == "updated"
            (row,) = reader.execute(
                "select * from crawl_run_summary where id = ?", (run_id,)
            ).fetchall()
            assert row["status"] == "running"
            assert all(row[name] is None for name in COUNTS)
            statuses = dict(
                reader.execute(
                    "select url, status from latest_articles where url in (?, ?)",
                    (gone_url, edited_url),
                ).fetchall()
            )
            assert statuses == {gone_url: "live", edited_url: "live"}
            for view in VIEWS:
                reader.execute(f"select count(*) from {view}").fetchone()
        finally:
            writer.close()

        gone = reader.execute(
            "select status, gone_at from latest_articles where url = ?", (gone_url,)
        ).fetchone()
        assert gone["status"] == "gone" and gone["gone_at"] is not None
        latest = reader.execute(
            "select * from latest_articles where url = ?", (edited_url,)
        ).fetchone()
        assert (latest["title"], latest["version"], latest["versions"]) == (edited.title, 2, 2)
        assert latest["snapshot_sha256"] == capture_sha256
        versions = reader.execute(
            "select version, count(*) from article_files where article_url = ? group by version",
            (edited_url,),
        ).fetchall()
        assert [tuple(v) for v in versions] == [(1, len(edited.files)), (2, len(edited.files))]
        assert_latest_articles_match(reader, export(home))
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            reader.execute("delete from articles")
    finally:
        reader.close()


def test_the_migration_downgrades_and_upgrades_again(tmp_path):
    home = ArchiveHome.at(tmp_path)
    engine = open_writer(home)
    config = _alembic_config(home.database_url)

    def views() -> set[str]:
        with engine.connect() as connection:
            rows = connection.exec_driver_sql("select name from sqlite_master where type = 'view'")
            return {name for (name,) in rows}

    try:
        assert views() == set(VIEWS)
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "0003")
        assert views() == set()
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "heads")
        assert views() == set(VIEWS)
    finally:
        engine.dispose()
