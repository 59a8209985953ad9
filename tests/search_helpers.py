"""Helpers shared by the search tests: the reference answer in plain Python, and the three
ways a search runs on SQLite."""

from __future__ import annotations

import pytest
from sqlalchemy import Connection

import archive.read.search.sqlite as sqlite_search
from archive.read.search.hits import SearchHit

SEARCH_MODES = ["ranked", "newest first", "scan"]
"""Few candidates ranked by BM25, many candidates newest first, and without the index."""


def use_search_mode(monkeypatch: pytest.MonkeyPatch, mode: str) -> None:
    if mode == "newest first":
        monkeypatch.setattr(sqlite_search, "RANKED_CANDIDATES", 0)
    elif mode == "scan":
        monkeypatch.setattr(sqlite_search, "index_usable", lambda connection: False)


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
