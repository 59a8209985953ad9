"""Search: exactly the articles holding every query word as a substring, for any length."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import Connection, Engine, create_engine

import archive.read.search as search_module
from archive.read.search import (
    SNIPPET_CLOSE,
    SNIPPET_OPEN,
    SearchHit,
    hit_record,
    index_text,
    index_version,
    published_day,
    reindex,
    search,
)
from archive.store.db import _alembic_config, open_reader, open_writer, session_factory
from archive.store.home import ArchiveHome
from archive.store.warcstore import HttpExchange
from archive.store.writer import ArchiveWriter
from archive.store.writer.values import ArticleContent
from tests.conftest import CrawledArchive

SEEN_AT = datetime(2026, 2, 4, 1, 0, tzinfo=UTC)

# Queries of every length, punctuation, several words, FTS5 syntax, words found nowhere.
FIXED_QUERIES = [
    "铝",
    "中",
    "的",
    "2",
    "中铝",
    "职工",
    "会议",
    "公司",
    "十四五",
    "“十四五”",
    "十四五”",
    "中铝股份",
    "高质量发展",
    "中铝 会议",
    "中铝股份 职工 会议",
    "铝 中铝 中铝股份",
    "，",
    "。",
    "、",
    "：",
    "——",
    "量子纠缠",
    "中铝量子",
    '"',
    '"中铝"',
    "中铝*",
    "*",
    "中铝 AND 会议",
    "AND",
    "OR",
    "NOT",
    "NEAR",
    "NEAR(中铝 会议)",
    "(",
    "中铝)",
    "(中铝",
    "-",
    "中-铝",
    "-中铝",
    "title:中铝",
    "body : 中铝",
    ":",
    "{title}",
    "^中铝",
    "中铝+会议",
    "2026",
    "2月",
    "ABC",
    "abc",
    "Chalco",
    "chalco",
]

HOSTILE_QUERIES = [
    "\x00",
    "中\x00铝",
    "\x01\x02\x03",
    "\x7f",
    "\x1b[31m中铝",
    "\ud800",
    "中铝\udfff",
    "\U0010ffff",
    "\u200b",
    "中\u200b铝",
    "\u202e中铝",
    "\ufeff",
    "e\u0301",
    "\u0301",
    "😀",
    "中铝😀",
    "ＡＢＣ",
    "ﬁ",
    "İ",
    "ß",
    '""',
    '"""',
    '" OR "',
    '中铝" OR "会议',
    "'",
    "'; DROP TABLE articles; --",
    "%",
    "_",
    "\\",
    "?",
    "?1",
    ":w0",
    "@x",
    "$x",
    "NEAR(",
    "NEAR/2",
    '"中铝" NEAR/3 "会议"',
    ")(",
    "*中*",
    "^",
    "+",
    "{",
    "}",
    "[",
    "]",
    "中铝 - 会议",
    "\n中铝\n",
    "\t会议",
    "中铝\r\n会议",
    "\u3000中铝\u3000",
    "a" * 100_000,
    "中" * 5_000,
    "中铝" * 300,
    " ".join(["中铝"] * 2_000),
    " ".join(f"词{i}" for i in range(2_000)),
    " ".join(chr(0x4E00 + i) for i in range(100)),
    '"' * 1_000,
    "(" * 1_000,
    "*" * 100,
    "AND " * 500,
    "\x1c",
    " ",
]


def expected_urls(versions: list[tuple[str, str | None, str | None]], query: str) -> set[str]:
    """The reference: plain Python over (url, title, body)."""
    words = query.split()
    return {
        url
        for url, title, body in versions
        if all(w in (title or "") or w in (body or "") for w in words)
    }


def latest_versions(connection: Connection) -> list[tuple[str, str | None, str | None]]:
    rows = connection.exec_driver_sql(
        "SELECT a.url, v.title, v.body FROM articles AS a JOIN article_versions AS v"
        " ON v.article_id = a.id AND v.number ="
        " (SELECT max(number) FROM article_versions WHERE article_id = a.id)"
    )
    return [(row[0], row[1], row[2]) for row in rows]


def assert_title_matches_first(hits: list[SearchHit], query: str) -> None:
    words = query.split()
    in_title = [all(w in (hit.title or "") for w in words) for hit in hits]
    assert in_title == sorted(in_title, reverse=True), "a title match after a body match"


# The crawled replica ------------------------------------------------------------------------


@dataclass
class Indexed:
    engine: Engine
    versions: list[tuple[str, str | None, str | None]]
    queries: list[str]


def sampled_queries(versions: list[tuple[str, str | None, str | None]]) -> list[str]:
    """Slices of the archive's own texts: 1, 2, 3, 4, 6 and 12 characters, and pairs."""
    rng = random.Random(7)
    texts = [t for _, title, body in versions for t in (title, body) if t]
    queries = []
    for length in (1, 2, 2, 3, 3, 4, 6, 12):
        for _ in range(4):
            text = rng.choice(texts)
            start = rng.randrange(max(1, len(text) - length))
            piece = text[start : start + length].strip()
            if piece:
                queries.append(piece)
    for _ in range(6):
        a, b = rng.choice(texts), rng.choice(texts)
        i, j = rng.randrange(max(1, len(a) - 2)), rng.randrange(max(1, len(b) - 3))
        queries.append(f"{a[i : i + 2]} {b[j : j + 3]}")
    return [q for q in queries if q.split()]


@pytest.fixture(scope="module")
def indexed(crawled: CrawledArchive) -> Iterator[Indexed]:
    home = ArchiveHome.at(crawled.home)
    writer_engine = open_writer(home)  # migrated to head: the index exists
    with writer_engine.begin() as connection:
        count = reindex(connection)
        versions = latest_versions(connection)
        total = connection.exec_driver_sql("SELECT count(*) FROM article_versions").scalar()
    writer_engine.dispose()
    assert count == total and len(versions) >= 30
    engine = open_reader(home)
    yield Indexed(engine, versions, sampled_queries(versions))
    engine.dispose()


def test_crawled_archive_has_the_texts_the_queries_need(indexed: Indexed) -> None:
    for word in ("铝", "中铝", "职工", "十四五", "“十四五”"):
        assert expected_urls(indexed.versions, word), word
    assert not expected_urls(indexed.versions, "量子纠缠")


@pytest.fixture(params=["ranked", "newest first", "scan"])
def mode(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """The three ways a search runs: few candidates ranked by BM25, many candidates newest
    first, and without the index."""
    if request.param == "newest first":
        monkeypatch.setattr(search_module, "RANKED_CANDIDATES", 0)
    elif request.param == "scan":
        monkeypatch.setattr(search_module, "_index_usable", lambda connection: False)
    return str(request.param)


def assert_newest_first_within_groups(hits: list[SearchHit], query: str) -> None:
    words = query.split()
    for in_title in (True, False):
        group = [h for h in hits if all(w in (h.title or "") for w in words) == in_title]
        days = [published_day(h.published) for h in group]
        assert days == sorted(days, reverse=True)


@pytest.mark.parametrize("query", FIXED_QUERIES)
def test_search_finds_exactly_the_articles_holding_the_query(
    indexed: Indexed, mode: str, query: str
) -> None:
    with indexed.engine.connect() as connection:
        hits = search(connection, query, limit=None)
    urls = [hit.url for hit in hits]
    assert len(urls) == len(set(urls))
    assert set(urls) == expected_urls(indexed.versions, query)
    assert_title_matches_first(hits, query)
    plan = search_module._plan(query)
    if mode == "newest first" and plan is not None and plan.phrases:
        assert_newest_first_within_groups(hits, query)


def test_search_is_exact_for_slices_of_the_archive_texts(indexed: Indexed, mode: str) -> None:
    assert len(indexed.queries) >= 30
    with indexed.engine.connect() as connection:
        for query in indexed.queries:
            hits = search(connection, query, limit=None)
            assert {hit.url for hit in hits} == expected_urls(indexed.versions, query), query
            assert len(hits) == len({hit.url for hit in hits}), query
            assert_title_matches_first(hits, query)


def test_a_limit_keeps_the_best_hits(indexed: Indexed, mode: str) -> None:
    with indexed.engine.connect() as connection:
        every = search(connection, "铝", limit=None)
        first = search(connection, "铝", limit=5)
        default = search(connection, "的")
    assert len(every) > 5
    assert [hit.url for hit in first] == [hit.url for hit in every[:5]]
    assert len(default) == min(50, len(expected_urls(indexed.versions, "的")))
    assert_title_matches_first(default, "的")


def test_search_takes_a_session_a_connection_or_an_engine(indexed: Indexed) -> None:
    with session_factory(indexed.engine)() as session:
        from_session = search(session, "中铝", limit=3)
    with indexed.engine.connect() as connection:
        from_connection = search(connection, "中铝", limit=3)
    from_engine = search(indexed.engine, "中铝", limit=3)
    assert len(from_session) == 3
    assert from_session == from_connection == from_engine


def test_snippets_are_cut_from_the_whole_body(indexed: Indexed) -> None:
    bodies = {url: body for url, _title, body in indexed.versions}
    with indexed.engine.connect() as connection:
        for query in [*indexed.queries, "铝", "中铝 会议", "。"]:
            for hit in search(connection, query, limit=None):
                # The words the search kept: one inside another adds nothing (中 in 中铝).
                words = search_module._words(query)
                assert hit.snippet == search_module.snippet(bodies[hit.url], words)
                assert "\n" not in hit.snippet


@pytest.mark.parametrize("query", HOSTILE_QUERIES, ids=lambda q: repr(q)[:40])
def test_hostile_queries_never_raise(indexed: Indexed, mode: str, query: str) -> None:
    with indexed.engine.connect() as connection:
        if not query.split():
            with pytest.raises(ValueError, match="empty query"):
                search(connection, query)
            return
        hits = search(connection, query, limit=None)
    try:
        query.encode("utf-8")
    except UnicodeEncodeError:
        assert hits == []
        return
    assert {hit.url for hit in hits} == expected_urls(indexed.versions, query)


@pytest.mark.parametrize("query", ["", " ", "\t\n", "\u3000"])
def test_an_empty_query_is_an_error(indexed: Indexed, query: str) -> None:
    with indexed.engine.connect() as connection, pytest.raises(ValueError, match="empty query"):
        search(connection, query)


# A small archive written through the writer -------------------------------------------------


@dataclass
class Small:
    home: ArchiveHome
    engine: Engine


def article(n: int, title: str, body: str, **fields: object) -> ArticleContent:
    values: dict[str, object] = {
        "url": f"http://www.chalco.com.cn/xwdt/gsyw/202602/t2026020{n % 10}_{1000 + n}.html",
        "site": "chalco",
        "docid": 1000 + n,
        "title": title,
        "source": "党委宣传部",
        "source_raw": None,
        "author": None,
        "author_raw": None,
        "published": "2026-02-03",
        "published_raw": None,
        "info_raw": None,
        "body": body,
        "body_html": None,
    }
    values.update(fields)
    return ArticleContent(**values)  # type: ignore[arg-type]


SMALL_ARTICLES = [
    # n, title, body, fields
    (1, "中铝股份召开职工代表大会", "会议在昆明召开。\n职工代表审议了工作报告。", {}),
    (2, "安全生产工作会议", "中铝" * 1 + "安全。" + "会议强调安全。" * 10, {"source": "办公室"}),
    (3, "青海分公司开展技能竞赛", "竞赛中，职工展示了技能。中铝青海分公司。", {}),
    (4, "科技创新", "赤泥综合利用取得突破。" * 5, {"published": "2025-12-30"}),
    (5, "中铝国际签约", "签约仪式在北京举行。", {"published": "2026-02-03T15:30:00+08:00"}),
    (6, "会员单位动态", "中州铝业召开会议。", {"site": "zzly", "published": "2026-01-15"}),
    (7, "无正文", None, {"published": None, "source": None}),
    (8, None, "只有正文，没有标题：中铝。", {}),
    (
        9,
        "长文",
        "开头。" + "填充文字。" * 60 + "关键词在这里出现" + "其后文字。" * 60 + "结尾。",
        {},
    ),
]


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Small]:
    home = ArchiveHome.at(tmp_path_factory.mktemp("search-home"))
    writer = ArchiveWriter(home)
    writer.start_run("chalco", "http://www.chalco.com.cn/", "full")
    capture = writer.record_exchange(
        HttpExchange(
            url="http://www.chalco.com.cn/",
            method="GET",
            request_headers=[],
            status=200,
            protocol="HTTP/1.1",
            response_headers=[("Content-Type", "text/html")],
            payload=b"<html></html>",
            fetched_at=SEEN_AT,
        )
    )
    for n, title, body, fields in SMALL_ARTICLES:
        content = article(n, title, body, **fields)  # type: ignore[arg-type]
        _, version_id = writer.save_article(content, capture.id, SEEN_AT)
        index_version(writer.connection, version_id, content.title, content.body)
        index_version(writer.connection, version_id, content.title, content.body)  # no-op
    # Article 1 changes: its second version drops 昆明 and adds 旧址.
    changed = article(1, "中铝股份召开职工代表大会", "会议在旧址召开。\n职工代表审议了工作报告。")
    _, version_id = writer.save_article(changed, capture.id, SEEN_AT)
    index_version(writer.connection, version_id, changed.title, changed.body)
    writer.note_listings(
        site="chalco",
        section="xwdt/gsyw",
        section_name="公司要闻",
        list_url="http://www.chalco.com.cn/xwdt/gsyw/",
        links=[(article(n, "", "").url, None) for n in (1, 2, 3)],
        seen_at=SEEN_AT,
    )
    writer.note_listings(
        site="chalco",
        section="xwdt/ggdt",
        section_name="高管动态",
        list_url="http://www.chalco.com.cn/xwdt/ggdt/",
        links=[(article(n, "", "").url, None) for n in (1, 4)],
        seen_at=SEEN_AT,
    )
    writer.finish_run("ok", 0, {})
    writer.close()
    engine = open_reader(home)
    yield Small(home, engine)
    engine.dispose()


def numbers(hits: list[SearchHit]) -> list[int]:
    """Article numbers n of SMALL_ARTICLES, from the docid in the URL."""
    return [int(hit.url.rsplit("_", 1)[1].removesuffix(".html")) - 1000 for hit in hits]


def test_small_archive_search_is_exact(small: Small) -> None:
    with small.engine.connect() as connection:
        versions = latest_versions(connection)
        for query in ("中铝", "会议", "职工 会议", "，", "关键词", "在", "昆明", "旧址", "无"):
            hits = search(connection, query, limit=None)
            assert {hit.url for hit in hits} == expected_urls(versions, query), query


def test_latest_version_only_unless_all_versions(small: Small, mode: str) -> None:
    with small.engine.connect() as connection:
        assert search(connection, "昆明") == []
        assert [(numbers([h])[0], h.version) for h in search(connection, "旧址")] == [(1, 2)]
        old = search(connection, "昆明", all_versions=True)
        assert [(numbers([h])[0], h.version) for h in old] == [(1, 1)]
        both = search(connection, "职工代表", all_versions=True)
        assert sorted(h.version for h in both) == [1, 2]
        assert {h.url for h in both} == {article(1, "", "").url}


def test_sections_of_a_hit(small: Small) -> None:
    with small.engine.connect() as connection:
        (hit,) = search(connection, "旧址")
    assert hit.sections == ["xwdt/ggdt", "xwdt/gsyw"]
    assert hit.title == "中铝股份召开职工代表大会"
    assert hit.site == "chalco" and hit.source == "党委宣传部" and hit.published == "2026-02-03"


def test_filters(small: Small, mode: str) -> None:
    with small.engine.connect() as connection:

        def found(query: str, **filters: object) -> set[int]:
            return set(numbers(search(connection, query, limit=None, **filters)))  # type: ignore[arg-type]

        assert found("。") == {1, 2, 3, 4, 5, 6, 8, 9}
        assert found("。", section="xwdt/gsyw") == {1, 2, 3}
        assert found("。", section="/xwdt/ggdt/") == {1, 4}
        assert found("。", section="nowhere") == set()
        assert found("。", source="办公室") == {2}
        assert found("。", site="zzly") == {6}
        assert found("。", since="2026-02-03") == {1, 2, 3, 5, 8, 9}
        assert found("。", since="2026-02-01", until="2026-02-03") == {1, 2, 3, 5, 8, 9}
        assert found("。", until="2026-01-31") == {4, 6}
        assert found("。", since="2026-01", until="2026-01") == {6}
        assert found("。", since="2025", until="2025") == {4}
        assert found("。", until="2026-02-03T12:00") == {1, 2, 3, 4, 6, 8, 9}
        assert found("。", since="2026-02-04") == set()
        assert found("中铝", section="xwdt/gsyw", source="党委宣传部") == {1, 3}


def test_a_malformed_date_is_an_error(small: Small) -> None:
    with (
        small.engine.connect() as connection,
        pytest.raises(ValueError, match="a year, month or day"),
    ):
        search(connection, "中铝", since="yesterday")


def test_title_matches_come_first(small: Small) -> None:
    with small.engine.connect() as connection:
        hits = search(connection, "会议", limit=None)
        # 2 has 会议 in its title (and eleven times in its body); 1 and 6 in the body only.
        assert numbers(hits)[0] == 2
        assert set(numbers(hits)) == {1, 2, 6}
        hits = search(connection, "中铝")
        assert set(numbers(hits)[:2]) == {1, 5}
        assert all(hit.score > 0 for hit in hits)


def test_snippet_marks_the_query(small: Small) -> None:
    with small.engine.connect() as connection:
        (hit,) = search(connection, "关键词")
        assert f"{SNIPPET_OPEN}关键词{SNIPPET_CLOSE}" in hit.snippet
        assert hit.snippet.startswith("…") and hit.snippet.endswith("…")
        assert len(hit.snippet) < 100
        (hit,) = search(connection, "审议 旧址")
        assert hit.snippet == "会议在[旧址]召开。 职工代表[审议]了工作报告。"
        (hit,) = search(connection, "技能竞赛")  # in the title only: the body's start
        assert hit.snippet == "竞赛中，职工展示了技能。中铝青海分公司。"
        (hit,) = search(connection, "无正文")
        assert hit.snippet == ""
        (hit,) = search(connection, "结尾")  # near the end: the snippet shows more before
        assert hit.snippet == "…字。" + "其后文字。" * 15 + "[结尾]。"


def test_hit_record_uses_the_export_field_names(small: Small) -> None:
    with small.engine.connect() as connection:
        (hit,) = search(connection, "旧址")
    record = hit_record(hit)
    assert list(record) == [
        "url",
        "site",
        "sections",
        "title",
        "source",
        "published",
        "version",
        "snippet",
        "score",
    ]
    assert record["version"] == 2 and record["sections"] == ["xwdt/ggdt", "xwdt/gsyw"]


def test_index_text_is_pairs_of_token_characters() -> None:
    assert index_text("中铝“十四五”A1") == "中铝 铝十 十四 四五 五A A1 1\ue000"
    assert index_text("铝") == "铝\ue000"
    assert index_text(None) == "" and index_text("") == "" and index_text("，。") == ""


# The index's life ---------------------------------------------------------------------------


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
        # The migration's frozen rules index as archive.read.search does.
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
