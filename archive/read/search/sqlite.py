"""Search on SQLite: candidates from the FTS5 pair index (archive.store.search_index), kept
exactly by `instr()`; or, without a usable index, a scan of the versions.

A word becomes the phrase of its pairs (`"中铝 铝股"`), or for one character the prefix query
`"铝" *`. Such a phrase matches every text holding the word, and a few more (where
punctuation, white space or letter case alone differ), so FTS5 finds candidates and
`instr()` on article_versions keeps exactly the matching ones. A query with a word lacking
any letter, digit or CJK character (`——`), or an archive whose index is missing or behind,
is answered by scanning the versions instead (exact, slower).

Order: articles whose title holds every word first, then the others. Within each group by
BM25 (title weighted 10, body 1) when the query has at most RANKED_CANDIDATES candidates;
beyond that, ranking every candidate costs more than a search may (and BM25 differences
among tens of thousands of hits are noise), so hits come newest first. Scanning orders by
the number of occurrences.

Runs on a plain sqlite3 connection (the read verbs open one without SQLAlchemy); the SQL
takes `:name` parameters.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Generator, Sequence
from dataclasses import dataclass
from typing import Any

from archive.read.search.hits import SNIPPET_LENGTH, SearchHit, snippet
from archive.read.search.plan import DATE_BOUND, QueryPlan, SearchOptions
from archive.store.search_index import (
    INDEX_TABLE,
    LONG_TEXT,
    TITLE_TABLE,
    VERSION_BITS,
    VERSION_MASK,
    index_rowid,
)
from archive.store.version_texts import whole_text_sql

log = logging.getLogger(__name__)

V_BODY = whole_text_sql("body", "v")
"""A version's whole body, in its row or beside it (version_texts.py)."""

RANK_FUNCTION = "bm25(10.0, 1.0)"
"""BM25 weights per indexed column: title, body."""
RANKED_CANDIDATES = 2_000
"""Up to this many candidates a query is ranked by BM25 (about 10 ms for 2,000)."""
FETCH_BATCH = 500


def _day_range(since: str | None, until: str | None) -> tuple[int | None, int | None]:
    """Rowid bounds holding every version published within the bounds."""
    low = high = None
    if since is not None:
        match = DATE_BOUND.fullmatch(since)
        assert match is not None
        year, month, day, _clock = match.groups()
        low = int(year + (month or "00") + (day or "00")) << VERSION_BITS
    if until is not None:
        match = DATE_BOUND.fullmatch(until)
        assert match is not None
        year, month, day, _clock = match.groups()
        high = (int(year + (month or "99") + (day or "99")) + 1) << VERSION_BITS
    return low, high


@dataclass
class _Filters:
    clauses: list[str]
    params: dict[str, Any]
    rowid_from: int | None
    rowid_below: int | None


def _filters(options: SearchOptions) -> _Filters:
    clauses: list[str] = []
    params: dict[str, Any] = {}
    since, until = options.since, options.until
    if not options.all_versions:
        clauses.append(
            "v.number = (SELECT max(v2.number) FROM article_versions AS v2"
            " WHERE v2.article_id = v.article_id)"
        )
    if options.site is not None:
        clauses.append("a.site = :site")
        params["site"] = options.site
    if options.source is not None:
        clauses.append("v.source = :source")
        params["source"] = options.source
    # A bound compares at its own precision: since 2026-02 is from February on, until
    # 2026-02-03 takes in the whole day, whether `published` is a date or a datetime.
    if since is not None or until is not None:
        clauses.append("v.published GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]*'")
    if since is not None:
        clauses.append("substr(v.published, 1, :since_length) >= :since")
        params.update(since=since, since_length=len(since))
    if until is not None:
        clauses.append("substr(v.published, 1, :until_length) <= :until")
        params.update(until=until, until_length=len(until))
    if options.section is not None:
        clauses.append(
            "EXISTS (SELECT 1 FROM listings AS l"
            " WHERE l.article_url = a.url AND l.section = :section)"
        )
        params["section"] = options.section.strip("/")
    low, high = _day_range(since, until)
    return _Filters(clauses, params, low, high)


def _scalar(connection: sqlite3.Connection, sql: str, params: Any = ()) -> Any:
    row = connection.execute(sql, params).fetchone()
    return None if row is None else row[0]


def index_usable(connection: sqlite3.Connection) -> bool:
    """The index exists and holds the newest version. Versions get increasing ids and are
    indexed in the transaction that stores them, so an index holding the newest is whole."""
    tables = _scalar(
        connection,
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN (?, ?)",
        (INDEX_TABLE, TITLE_TABLE),
    )
    if tables != 2:
        log.warning("the archive has no search index: searching without it (slow)")
        return False
    newest = connection.execute(
        "SELECT id, published FROM article_versions ORDER BY id DESC LIMIT 1"
    ).fetchone()
    if newest is None:
        return True
    rowid = index_rowid(newest[0], newest[1])
    indexed = _scalar(
        connection,
        f"SELECT (SELECT count(*) FROM {INDEX_TABLE} WHERE rowid = :rowid)"
        f" + (SELECT count(*) FROM {TITLE_TABLE} WHERE rowid = :rowid)",
        {"rowid": rowid},
    )
    if indexed != 2:
        log.warning("the search index is behind the archive: searching without it (slow)")
        return False
    return True


def _word_params(plan: QueryPlan) -> dict[str, str]:
    return {f"w{i}": word for i, word in enumerate(plan.sql_words)}


def _in_title_sql(plan: QueryPlan) -> str:
    return " AND ".join(
        f"instr(coalesce(v.title, ''), :w{i}) > 0" for i in range(len(plan.sql_words))
    )


def _matches_sql(plan: QueryPlan) -> str:
    return " AND ".join(
        f"(instr(coalesce(v.title, ''), :w{i}) > 0 OR instr(coalesce({V_BODY}, ''), :w{i}) > 0)"
        for i in range(len(plan.sql_words))
    )


def _body_match(plan: QueryPlan) -> str:
    """The body index's query: the phrases, or a body too long to be indexed whole
    (search_index.INDEXED_CHARS), which the exact check then reads."""
    return f"({' AND '.join(plan.phrases)}) OR {LONG_TEXT}"


def _rowid_sql(filters: _Filters, table: str) -> tuple[str, dict[str, int]]:
    sql, params = "", {}
    if filters.rowid_from is not None:
        sql += f" AND {table}.rowid >= :rowid_from"
        params["rowid_from"] = filters.rowid_from
    if filters.rowid_below is not None:
        sql += f" AND {table}.rowid < :rowid_below"
        params["rowid_below"] = filters.rowid_below
    return sql, params


def _many_candidates(connection: sqlite3.Connection, plan: QueryPlan, filters: _Filters) -> bool:
    """More than RANKED_CANDIDATES candidates? Stops counting there."""
    rowids, params = _rowid_sql(filters, INDEX_TABLE)
    count = _scalar(
        connection,
        f"SELECT count(*) FROM (SELECT rowid FROM {INDEX_TABLE}"
        f" WHERE {INDEX_TABLE} MATCH :match{rowids} LIMIT :enough)",
        {"match": _body_match(plan), "enough": RANKED_CANDIDATES + 1, **params},
    )
    return bool(count and count > RANKED_CANDIDATES)


_COLUMNS = "v.id, v.number, a.url, a.site, v.title, v.source, v.published"


def _occurrences_sql(plan: QueryPlan) -> str:
    """How many times the SQL words occur in a version's title and body."""
    text = f"coalesce(v.title, '') || ' ' || coalesce({V_BODY}, '')"
    return " + ".join(
        f"(length({text}) - length(replace({text}, :w{i}, '')))"
        f" / max(length(:w{i}), 1)"  # length() of text stops at a NUL
        for i in range(len(plan.sql_words))
    )


def _fts_rows(
    connection: sqlite3.Connection,
    plan: QueryPlan,
    filters: _Filters,
    *,
    title_only: bool,
    newest_first: bool,
    limit: int | None,
) -> Generator[Sequence[Any], None, None]:
    """Candidates from the index in order, checked exactly in SQL for the SQL words; from
    the title index, checked against titles only, with `title_only`.

    Rows are read as they are consumed; the statement is closed when the caller stops."""
    table = TITLE_TABLE if title_only else INDEX_TABLE
    exact = _in_title_sql(plan) if title_only else _matches_sql(plan)
    body = f", {V_BODY}" if plan.extra_words else ""
    rowids, rowid_params = _rowid_sql(filters, table)
    if newest_first:
        # BM25 would cost a pass over every candidate to weigh the words: count instead.
        score, order, rank = _occurrences_sql(plan), "rowid DESC", ""
    else:
        score, order = f"-{table}.rank", "rank"
        rank = "" if title_only else f" AND {table}.rank MATCH '{RANK_FUNCTION}'"
    sql = (
        f"SELECT {_COLUMNS}, {score}{body}"
        f" FROM {table}"
        # CROSS JOIN keeps the index the outer loop, so its order is the result order and a
        # LIMIT stops the exact checks early.
        f" CROSS JOIN article_versions AS v ON v.id = ({table}.rowid & {VERSION_MASK})"
        " CROSS JOIN articles AS a ON a.id = v.article_id"
        f" WHERE {table} MATCH :match{rank}{rowids}"
        + "".join(f" AND {clause}" for clause in filters.clauses)
        + f" AND {exact}"
        + f" ORDER BY {table}.{order}"
        + (" LIMIT :limit" if limit is not None else "")
    )
    params = {**filters.params, **rowid_params, **_word_params(plan)}
    params["match"] = " AND ".join(plan.phrases) if title_only else _body_match(plan)
    if limit is not None:
        params["limit"] = limit
    cursor = connection.execute(sql, params)
    try:
        yield from cursor
    finally:
        cursor.close()


def _scan_rows(
    connection: sqlite3.Connection, plan: QueryPlan, filters: _Filters
) -> list[Sequence[Any]]:
    """Every version matching the SQL words, without the index, scored by occurrences."""
    body = f", {V_BODY}" if plan.extra_words else ""
    sql = (
        f"SELECT {_COLUMNS}, {_occurrences_sql(plan)}{body}"
        " FROM article_versions AS v CROSS JOIN articles AS a ON a.id = v.article_id"
        f" WHERE {_matches_sql(plan)}" + "".join(f" AND {clause}" for clause in filters.clauses)
    )
    params = {**filters.params, **_word_params(plan)}
    return list(connection.execute(sql, params))


def _has_all(text: str | None, words: Sequence[str]) -> bool:
    return text is not None and all(word in text for word in words)


def _matches_extra(row: Sequence[Any], plan: QueryPlan) -> bool:
    """The Python check of the words SQL did not check (row: columns, score, body)."""
    if not plan.extra_words:
        return True
    title, body = row[4] or "", row[8] or ""
    return all(word in title or word in body for word in plan.extra_words)


def _ranked(
    connection: sqlite3.Connection, plan: QueryPlan, filters: _Filters, limit: int | None
) -> list[Sequence[Any]]:
    """Matching rows, title matches first, at most `limit`."""
    if not plan.phrases or not index_usable(connection):
        rows = [row for row in _scan_rows(connection, plan, filters) if _matches_extra(row, plan)]
        rows.sort(key=lambda row: (not _has_all(row[4], plan.words), -row[7], row[0]))
        return rows if limit is None else rows[:limit]

    newest_first = _many_candidates(connection, plan, filters)
    exact_in_sql = not plan.extra_words
    sql_limit = limit if exact_in_sql else None
    found: list[Sequence[Any]] = []

    def full() -> bool:
        return limit is not None and len(found) >= limit

    title_rows = _fts_rows(
        connection, plan, filters, title_only=True, newest_first=newest_first, limit=sql_limit
    )
    try:
        for row in title_rows:
            if _has_all(row[4], plan.words):
                found.append(row)
                if full():
                    return found
    finally:
        title_rows.close()
    # Every title match is found by now; the second pass meets them again (at most all of
    # them before `limit` others) and skips them.
    other_rows = _fts_rows(
        connection, plan, filters, title_only=False, newest_first=newest_first, limit=sql_limit
    )
    try:
        for row in other_rows:
            if _has_all(row[4], plan.words):
                continue
            if exact_in_sql or _matches_extra(row, plan):
                found.append(row)
                if full():
                    return found
    finally:
        other_rows.close()
    return found


def _sections(connection: sqlite3.Connection, urls: Sequence[str]) -> dict[str, list[str]]:
    sections: dict[str, list[str]] = {}
    distinct = sorted(set(urls))
    for start in range(0, len(distinct), FETCH_BATCH):
        batch = distinct[start : start + FETCH_BATCH]
        marks = ", ".join("?" * len(batch))
        rows = connection.execute(
            "SELECT article_url, section FROM listings"
            f" WHERE article_url IN ({marks}) ORDER BY article_url, section",
            tuple(batch),
        )
        for url, section in rows:
            sections.setdefault(url, []).append(section)
    return sections


def _snippet_texts(
    connection: sqlite3.Connection, version_ids: Sequence[int], words: Sequence[str]
) -> dict[int, tuple[str | None, int]]:
    """Per version: the part of its body a snippet needs and where it starts: from
    SNIPPET_LENGTH characters before the first occurrence of a word to SNIPPET_LENGTH + 1
    after, so snippet() makes of it what it would make of the whole body. SQLite cuts the
    part, so long bodies are not copied whole."""
    none = 2**31
    first = (
        "min("
        + ", ".join([f"coalesce(nullif(instr(body, :w{i}), 0), {none})" for i in range(len(words))])
        + f", {none})"
    )
    params: dict[str, Any] = {f"w{i}": w for i, w in enumerate(words)}
    params["length"] = 2 * SNIPPET_LENGTH + 1
    texts: dict[int, tuple[str | None, int]] = {}
    for start in range(0, len(version_ids), FETCH_BATCH):
        ids = {
            f"id{i}": version_id
            for i, version_id in enumerate(version_ids[start : start + FETCH_BATCH])
        }
        rows = connection.execute(
            "SELECT id, part_from, substr(body, part_from + 1, :length) FROM ("
            f" SELECT id, body, CASE WHEN hit_at >= {none} THEN 0"
            f" ELSE max(0, hit_at - 1 - {SNIPPET_LENGTH}) END AS part_from FROM ("
            f"  SELECT id, body, {first} AS hit_at FROM ("
            f"   SELECT id, {whole_text_sql('body')} AS body FROM article_versions"
            f"   WHERE id IN ({', '.join(':' + name for name in ids)}))))",
            {**params, **ids},
        )
        for version_id, offset, part in rows:
            texts[version_id] = (part, offset)
    return texts


def search_sqlite(
    connection: sqlite3.Connection, plan: QueryPlan, options: SearchOptions
) -> list[SearchHit]:
    """The hits of a planned query in an SQLite archive (see archive.read.search.search)."""
    rows = _ranked(connection, plan, _filters(options), options.limit)
    sections = _sections(connection, [row[2] for row in rows])
    texts = _snippet_texts(connection, [row[0] for row in rows], plan.sql_words)
    return [
        SearchHit(
            url=row[2],
            site=row[3],
            title=row[4],
            source=row[5],
            published=row[6],
            sections=sections.get(row[2], []),
            version=row[1],
            snippet=snippet(texts[row[0]][0], plan.words, texts[row[0]][1]),
            score=float(row[7]),
        )
        for row in rows
    ]


def count_sqlite(connection: sqlite3.Connection, plan: QueryPlan, options: SearchOptions) -> int:
    """How many hits search_sqlite would return, at most `options.limit`: the same exact
    matching, without the snippets and sections a hit carries."""
    return len(_ranked(connection, plan, _filters(options), options.limit))
