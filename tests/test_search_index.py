"""The search index's life: its form (pairs of token characters), a new archive's tables,
the migration that indexes an older archive, reindex, and search without a usable index."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import Connection, create_engine

from archive.read.search import search
from archive.store import search_index
from archive.store.db import _alembic_config, open_writer
from archive.store.home import ArchiveHome
from archive.store.search_index import LONG_TEXT, index_text, index_version, reindex
from tests.search_helpers import SEARCH_MODES, use_search_mode


def test_index_text_is_pairs_of_token_characters() -> None:
    assert index_text("中铝“十四五”A1") == "中铝 铝十 十四 四五 五A A1 1\ue000"
    assert index_text("铝") == "铝\ue000"
    assert index_text(None) == "" and index_text("") == "" and index_text("，。") == ""


def test_a_new_archive_has_the_index(tmp_path: Path) -> None:
    engine = open_writer(ArchiveHome.at(tmp_path))
    with engine.connect() as connection:
        tables = dict(
            connection.exec_driver_sql(
                "SELECT name, sql FROM sqlite_master WHERE name IN ('search_index', 'search_title')"
            ).all()
        )
    engine.dispose()
    assert len(tables) == 2
    assert all("fts5" in sql and "content=''" in sql for sql in tables.values())


def insert_version(connection: Connection, n: int, title: str, body: str) -> None:
    connection.exec_driver_sql(
        "INSERT OR IGNORE INTO crawl_runs (id, site, base_url, mode, started_at, status)"
        " VALUES (1, 'chalco', 'http://x/', 'full', '2026-02-04T01:00:00+00:00', 'ok')"
    )
    connection.exec_driver_sql(
        "INSERT OR IGNORE INTO warc_files (id, name, created_at)"
        " VALUES (1, 'a.warc.gz', '2026-02-04T01:00:00+00:00')"
    )
    connection.exec_driver_sql(
        "INSERT OR IGNORE INTO captures (id, run_id, url, method, status, fetched_at,"
        " warc_file_id, record_type, record_id, offset, length, payload_sha256, payload_size,"
        " content_sha256, content_size) VALUES (1, 1, 'http://x/', 'GET', 200,"
        " '2026-02-04T01:00:00+00:00', 1, 'response', 'urn:x', 0, 1, 'x', 1, 'x', 1)"
    )
    connection.exec_driver_sql(
        "INSERT INTO articles (id, url, site, status, first_seen_at, last_seen_at)"
        f" VALUES ({n}, 'http://x/{n}.html', 'chalco', 'live',"
        " '2026-02-04T01:00:00+00:00', '2026-02-04T01:00:00+00:00')"
    )
    connection.exec_driver_sql(
        "INSERT INTO article_versions (id, article_id, number, content_sha256, capture_id,"
        " title, body, problems_json, first_seen_at, last_seen_at)"
        f" VALUES ({n}, {n}, 1, 'x', 1, ?, ?, '[]',"
        " '2026-02-04T01:00:00+00:00', '2026-02-04T01:00:00+00:00')",
        (title, body),
    )


def test_the_migration_indexes_an_existing_archive_and_downgrades(tmp_path: Path) -> None:
    home = ArchiveHome.at(tmp_path)
    home.create()
    engine = create_engine(home.database_url)
    config = _alembic_config(home.database_url)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0001")
        for n in range(1, 4):
            insert_version(connection, n, f"标题{n}", f"正文中铝{n}")
    engine.dispose()

    writer_engine = open_writer(home)
    with writer_engine.begin() as connection:
        indexed = connection.exec_driver_sql("SELECT count(*) FROM search_index_docsize").scalar()
        assert indexed == 3
        hits = search(connection, "铝2")
        assert [hit.url for hit in hits] == ["http://x/2.html"]
        # The migration's frozen rules index as archive.store.search_index does.
        instances = []
        for table in ("search_index", "search_title"):
            connection.exec_driver_sql(
                f"CREATE VIRTUAL TABLE temp.{table}_terms"
                f" USING fts5vocab(main, {table}, 'instance')"
            )
            instances.append(
                f"SELECT term, doc, col, offset FROM temp.{table}_terms ORDER BY 1, 2, 3, 4"
            )
        by_migration = [connection.exec_driver_sql(sql).all() for sql in instances]
        assert all(by_migration)
        reindex(connection)
        assert [connection.exec_driver_sql(sql).all() for sql in instances] == by_migration
        for table in ("search_index", "search_title"):
            connection.exec_driver_sql(f"DROP TABLE temp.{table}_terms")
    with writer_engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0001")
        gone = connection.exec_driver_sql(
            "SELECT count(*) FROM sqlite_master WHERE name LIKE 'search_index%'"
        ).scalar()
    writer_engine.dispose()
    assert gone == 0


def test_reindex_rebuilds_and_a_stale_index_still_answers_exactly(tmp_path: Path) -> None:
    home = ArchiveHome.at(tmp_path)
    engine = open_writer(home)
    with engine.begin() as connection:
        for n in range(1, 4):
            insert_version(connection, n, f"标题{n}", f"正文中铝{n}")
        index_version(connection, 1, "标题1", "正文中铝1")
    with engine.connect() as connection:
        # Versions 2 and 3 were stored without their index rows: search scans instead.
        assert {hit.url for hit in search(connection, "中铝", limit=None)} == {
            f"http://x/{n}.html" for n in (1, 2, 3)
        }
    with engine.begin() as connection:
        assert reindex(connection) == 3
        assert reindex(connection) == 3
        for table in ("search_index", "search_title"):
            count = connection.exec_driver_sql(f"SELECT count(*) FROM {table}_docsize").scalar()
            assert count == 3
    with engine.connect() as connection:
        hits = search(connection, "正文 3")
        assert [hit.url for hit in hits] == ["http://x/3.html"]
    engine.dispose()


def test_an_archive_without_the_index_is_still_searched(tmp_path: Path) -> None:
    home = ArchiveHome.at(tmp_path)
    engine = open_writer(home)
    with engine.begin() as connection:
        insert_version(connection, 1, "标题", "正文中铝")
        connection.exec_driver_sql("DROP TABLE search_index")
    with engine.connect() as connection:
        assert [hit.url for hit in search(connection, "中铝")] == ["http://x/1.html"]
    engine.dispose()


@pytest.mark.parametrize("mode", SEARCH_MODES)
def test_a_body_longer_than_the_index_holds_is_found_past_its_indexed_part(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mode: str
) -> None:
    monkeypatch.setattr(search_index, "INDEXED_CHARS", 1_000)
    use_search_mode(monkeypatch, mode)
    long_body = "开头。" + "填充文字" * 20_000 + "深处的关键词" + "其后" * 100
    engine = open_writer(ArchiveHome.at(tmp_path))
    with engine.begin() as connection:
        insert_version(connection, 1, "长文", long_body)
        insert_version(connection, 2, "短文", "深处的关键词也在这里。")
        insert_version(connection, 3, "另一篇", "只有填充。")
        assert reindex(connection) == 3
    with engine.connect() as connection:
        value = search_index._index_value(long_body)
        assert isinstance(value, bytes) and value.endswith(b" " + LONG_TEXT.encode())
        assert len(value.split()) == 1_000 - 1 + 1  # the first 1,000 characters' pairs
        assert {hit.url for hit in search(connection, "关键词", limit=None)} == {
            "http://x/1.html",
            "http://x/2.html",
        }
        assert search(connection, "不存在的词", limit=None) == []
        assert [hit.url for hit in search(connection, "开头 填充文字", limit=None)] == [
            "http://x/1.html"
        ]
    engine.dispose()
