"""Search in a small archive written through the writer: versions, sections, filters,
dates, the order of hits, their snippets and their records."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine

from archive.read.search import search
from archive.read.search.hits import SNIPPET_CLOSE, SNIPPET_OPEN, SearchHit, hit_record
from archive.store.db import open_reader
from archive.store.home import ArchiveHome
from archive.store.search_index import index_version
from archive.store.warcstore import HttpExchange
from archive.store.writer import ArchiveWriter
from archive.store.writer.values import ArticleContent
from tests.search_helpers import SEARCH_MODES, expected_urls, latest_versions, use_search_mode

SEEN_AT = datetime(2026, 2, 4, 1, 0, tzinfo=UTC)


@pytest.fixture(params=SEARCH_MODES)
def mode(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    use_search_mode(monkeypatch, request.param)
    return str(request.param)


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
