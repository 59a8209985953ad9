"""Full-text search of the archived articles with exact substring semantics, for Chinese.

A query is split on white space into words; an article matches when every word occurs, as a
substring, in its title or its body (case-sensitive, as Python's `in`). Words of one and
two characters match too, which FTS5's trigram tokenizer cannot do.

`search()` is the one way in: it checks the query and its options (archive.read.search.plan)
and hands them to the SQLite implementation (archive.read.search.sqlite, on the FTS5 pair
index) or the PostgreSQL one (archive.read.search.postgresql, on its tsvector twin), which
both return SearchHits (archive.read.search.hits). The index itself is written by
archive.store.search_index.
"""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING

from archive.read.search.hits import SearchHit
from archive.read.search.plan import QueryPlan, SearchOptions, date_bound, plan_query
from archive.read.sql import Reader

if TYPE_CHECKING:
    from sqlalchemy import Connection, Engine
    from sqlalchemy.orm import Session


COUNT_AT_MOST = 10_000
"""How far count_matches counts: past it, a caption says "more than"."""


def count_matches(
    database: Reader | sqlite3.Connection | Session | Connection | Engine,
    query: str,
    *,
    section: str | None = None,
    since: str | None = None,
    until: str | None = None,
    source: str | None = None,
    site: str | None = None,
    all_versions: bool = False,
    at_most: int = COUNT_AT_MOST,
) -> int:
    """How many articles (or versions, with `all_versions`) `search` would find with no
    limit, counted up to `at_most` + 1 (so a caller can say "more than"). The arguments are
    search's, but `limit`."""
    filters = {"section": section, "since": since, "until": until, "source": source}
    if isinstance(database, Reader):
        database = database.connection
    if not isinstance(database, sqlite3.Connection):
        return len(
            search(
                database, query, **filters, site=site, all_versions=all_versions, limit=at_most + 1
            )
        )
    plan = plan_query(query)
    if plan is None:
        return 0
    from archive.read.search.sqlite import count_sqlite

    options = SearchOptions(
        section=section,
        since=date_bound("since", since),
        until=date_bound("until", until),
        source=source,
        site=site,
        limit=at_most + 1,
        all_versions=all_versions,
    )
    return count_sqlite(database, plan, options)


def search(
    database: Reader | sqlite3.Connection | Session | Connection | Engine,
    query: str,
    *,
    section: str | None = None,
    since: str | None = None,
    until: str | None = None,
    source: str | None = None,
    site: str | None = None,
    limit: int | None = 50,
    all_versions: bool = False,
) -> list[SearchHit]:
    """Articles whose title or body holds every whitespace-separated word of `query`.

    Searches each article's latest version, or every version with `all_versions` (a hit
    per matching version). `section` is a section path (`xwdt/gsyw`); `since` and `until`
    are ISO dates or their prefixes (`2026`, `2026-02`, `2026-02-03`), inclusive, compared
    at their own precision with `published` (versions without a date never match them);
    `source` and `site` must be equal. At most `limit` hits (None: all).

    `database` is a reader of an archive (archive.read.sql), a plain sqlite3 connection to
    one, or SQLAlchemy's session, connection or engine of one (SQLite or PostgreSQL).

    Raises ValueError for an empty query or a malformed date; any other text is searched
    for literally.
    """
    if limit is not None and limit < 0:
        raise ValueError("limit must not be negative")
    options = SearchOptions(
        section=section,
        since=date_bound("since", since),
        until=date_bound("until", until),
        source=source,
        site=site,
        limit=limit,
        all_versions=all_versions,
    )
    plan = plan_query(query)
    if plan is None or limit == 0:
        return []
    if isinstance(database, Reader):
        database = database.connection
    if isinstance(database, sqlite3.Connection):
        from archive.read.search.sqlite import search_sqlite

        return search_sqlite(database, plan, options)
    # An SQLAlchemy object: SQLAlchemy is loaded already.
    from sqlalchemy import Engine

    if isinstance(database, Engine):
        with database.connect() as connection:
            return _search_through_sqlalchemy(connection, plan, options)
    from sqlalchemy.orm import Session

    connection = database.connection() if isinstance(database, Session) else database
    return _search_through_sqlalchemy(connection, plan, options)


def _search_through_sqlalchemy(
    connection: Connection, plan: QueryPlan, options: SearchOptions
) -> list[SearchHit]:
    dialect = connection.dialect.name
    if dialect == "postgresql":
        from archive.read.search.postgresql import search_postgresql

        return search_postgresql(connection, plan, options)
    if dialect != "sqlite":
        raise ValueError(f"search needs SQLite or PostgreSQL, not {dialect}")
    from archive.read.search.sqlite import search_sqlite

    # The driver's own connection, in SQLAlchemy's transaction (begun as a statement of its
    # own would begin it: a reader's snapshot), so the SQL is the one the read verbs run.
    if not connection.in_transaction():
        connection.begin()
    dbapi_connection = connection.connection.dbapi_connection
    assert isinstance(dbapi_connection, sqlite3.Connection)
    return search_sqlite(dbapi_connection, plan, options)
