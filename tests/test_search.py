"""Search: exactly the articles holding every query word as a substring, for any length,
checked against plain Python over the texts of a crawled replica."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy import Engine

from archive.read.search import search
from archive.read.search.hits import SearchHit, snippet
from archive.read.search.plan import plan_query, query_words
from archive.store.db import open_reader, open_writer, session_factory
from archive.store.home import ArchiveHome
from archive.store.search_index import published_day, reindex
from tests.conftest import CrawledArchive
from tests.search_helpers import (
    SEARCH_MODES,
    assert_title_matches_first,
    expected_urls,
    latest_versions,
    use_search_mode,
)

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


@pytest.fixture(params=SEARCH_MODES)
def mode(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    use_search_mode(monkeypatch, request.param)
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
    plan = plan_query(query)
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
                words = query_words(query)
                assert hit.snippet == snippet(bodies[hit.url], words)
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
