"""Full-text search of the archived articles with exact substring semantics, for Chinese.

A query is split on white space into words; an article matches when every word occurs, as a
substring, in its title or its body (case-sensitive, as Python's `in`). Words of one and
two characters match too, which FTS5's trigram tokenizer cannot do.

The index (migration 0002) is two contentless FTS5 tables, `search_index` over title and
body and `search_title` over the title alone, holding each text as the overlapping pairs of
its letters, digits and CJK characters: 中铝股份 is stored as `中铝 铝股 股份 份<END>` (END
closes the text so that its last character starts a pair too). A word becomes the phrase
of its pairs (`"中铝 铝股"`), or for one character the prefix query `"铝" *`. Such a phrase
matches every text holding the word, and a few more (where punctuation, white space or
letter case alone differ), so FTS5 finds candidates and `instr()` on article_versions keeps
exactly the matching ones. The phrase is built from characters the tokenizer keeps, never
from the user's text, so FTS5 syntax in a query (`"`, `*`, `AND`, `NEAR(`, `-`, `:`) is
literal text. A query with a word lacking any letter, digit or CJK character (`——`), or an
archive whose index is missing or behind, is answered by scanning the versions instead
(exact, slower).

Pairs rather than single characters: a common pair (中铝) is one short posting list instead
of a position-by-position join of two very long ones (中, 铝); five to ten times faster, for
an index about 1.7 times larger. Titles have their own small index because finding the few
title matches among tens of thousands of body matches in the big one means reading the
positions of them all.

The index rowid is `published_day << 32 | version_id` (published_day: YYYYMMDD, 0 without
a date), so FTS5 hands out candidates newest first at no cost and date filters are rowid
ranges.

Order: articles whose title holds every word first, then the others. Within each group by
BM25 (title weighted 10, body 1) when the query has at most RANKED_CANDIDATES candidates;
beyond that, ranking every candidate costs more than a search may (and BM25 differences
among tens of thousands of hits are noise), so hits come newest first. Scanning orders by
the number of occurrences.
"""

from __future__ import annotations

import logging
import re
import sqlite3
import threading
from collections.abc import Generator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

INDEX_TABLE = "search_index"
TITLE_TABLE = "search_title"
"""The titles alone, so that finding the title matches among many body matches is quick."""
# The tokenizer of the index (migration 0002); queries must tokenize the same way.
TOKENIZER = "unicode61 remove_diacritics 0"
END = "\ue000"
"""Closes every indexed text (a private-use character: a token character to unicode61)."""
RANK_FUNCTION = "bm25(10.0, 1.0)"
"""BM25 weights per indexed column: title, body."""
RANKED_CANDIDATES = 2_000
"""Up to this many candidates a query is ranked by BM25 (about 10 ms for 2,000)."""

VERSION_BITS = 32
VERSION_MASK = (1 << VERSION_BITS) - 1
_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_DATE_BOUND = re.compile(r"(\d{4})(?:-(\d{2})(?:-(\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2})?))?)?)?")

SNIPPET_OPEN = "["
SNIPPET_CLOSE = "]"
"""Marks around each occurrence of a query word in `SearchHit.snippet`."""
SNIPPET_BEFORE = 20
"""Characters of context shown before the first occurrence."""
SNIPPET_LENGTH = 80
"""Characters of body text in a snippet, marks and ellipses not counted."""
ELLIPSIS = "…"

# A longer word is looked up by its first MAX_PHRASE_CHARS token characters (still a
# superset of its matches) and checked exactly: long phrases cost FTS5 without filtering more.
MAX_PHRASE_CHARS = 16
# Words beyond this many are checked in Python rather than in SQL, which limits the depth
# of an expression (1,000) and its number of parameters.
MAX_SQL_WORDS = 32
INDEX_BATCH = 500
FETCH_BATCH = 500


@dataclass
class SearchHit:
    """One article (or one version, with `all_versions`) matching a query."""

    url: str
    site: str
    title: str | None
    source: str | None
    published: str | None
    """ISO 8601 as stored: a date, or a datetime at +08:00."""
    sections: list[str]
    """Section paths the article was listed in, e.g. `xwdt/gsyw`, sorted."""
    version: int
    """The version number the match is in (the latest unless `all_versions`)."""
    snippet: str = field(repr=False)
    """About SNIPPET_LENGTH characters of the body on one line, around the first occurrence
    of a query word, every occurrence wrapped in SNIPPET_OPEN … SNIPPET_CLOSE; `…` where cut.
    The start of the body when only the title matches."""
    score: float
    """Higher is better: -BM25 when the hits are ranked by it, else the number of
    occurrences of the words. Title matches come first whatever their score."""


def hit_record(hit: SearchHit) -> dict[str, Any]:
    """A hit as a JSON-ready dict with the export record's field names."""
    return {
        "url": hit.url,
        "site": hit.site,
        "sections": list(hit.sections),
        "title": hit.title,
        "source": hit.source,
        "published": hit.published,
        "version": hit.version,
        "snippet": hit.snippet,
        "score": hit.score,
    }


# Which characters the tokenizer keeps ------------------------------------------------------


class _TokenProbe:
    """Asks SQLite's own tokenizer which characters are tokens (Python's Unicode tables and
    unicode61's differ: combining marks, newer scripts), remembering every answer."""

    def __init__(self) -> None:
        self._known: dict[str, bool] = {}
        # The characters the tokenizer drops, as one character class: a regex removes them
        # from a text in C, five times faster than a filter in Python over every character.
        self._dropped: set[str] = set()
        self._drop: re.Pattern[str] | None = None
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None

    def _ask(self, chars: list[str]) -> None:
        with self._lock:
            if self._db is None:
                self._db = sqlite3.connect(":memory:", check_same_thread=False)
                self._db.execute(
                    f"CREATE VIRTUAL TABLE probe USING fts5(x, tokenize='{TOKENIZER}')"
                )
                self._db.execute("CREATE VIRTUAL TABLE terms USING fts5vocab(probe, 'instance')")
            db = self._db
            db.execute("DELETE FROM probe")
            db.executemany(
                "INSERT INTO probe (rowid, x) VALUES (?, ?)",
                [(i, "" if c == "\x00" else c) for i, c in enumerate(chars, 1)],
            )
            kept = {row[0] for row in db.execute("SELECT DISTINCT doc FROM terms")}
            db.execute("DELETE FROM probe")
            for i, c in enumerate(chars, 1):
                self._known[c] = i in kept
                if i not in kept:
                    self._dropped.add(c)
            if self._dropped:
                self._drop = re.compile("[" + "".join(map(re.escape, sorted(self._dropped))) + "]")

    def token_chars(self, text: str) -> str:
        """The characters of `text` the tokenizer keeps, in order."""
        unknown = set(text).difference(self._known)
        if unknown:
            self._ask(list(unknown))
        return text if self._drop is None else self._drop.sub("", text)


_probe = _TokenProbe()


# Indexing ---------------------------------------------------------------------------------


def index_text(text: str | None) -> str:
    """The form stored in the index: the overlapping pairs of the text's token characters,
    the last one paired with END (`中铝，股份` -> `中铝 铝股 股份 份\\ue000`)."""
    if not text:
        return ""
    chars = _probe.token_chars(text)
    if not chars:
        return ""
    chars += END
    return " ".join([first + second for first, second in zip(chars, chars[1:], strict=False)])


def published_day(published: str | None) -> int:
    """YYYYMMDD of an ISO `published`, 0 without one: the high bits of the index rowid."""
    match = _ISO_DATE.match(published or "")
    return int("".join(match.groups())) if match else 0


def index_rowid(version_id: int, published: str | None) -> int:
    if not 0 < version_id <= VERSION_MASK:
        raise ValueError(f"version id {version_id} does not fit the search index")
    return published_day(published) << VERSION_BITS | version_id


def _is_sqlite(connection: Connection) -> bool:
    return connection.dialect.name == "sqlite"


def _insert(
    connection: Connection, rows: list[tuple[int, str | None, str | None, str | None]]
) -> None:
    """Index (version id, published, title, body) rows."""
    indexed = [
        (index_rowid(version_id, published), index_text(title), index_text(body))
        for version_id, published, title, body in rows
    ]
    connection.exec_driver_sql(
        f"INSERT INTO {INDEX_TABLE} (rowid, title, body) VALUES (?, ?, ?)", indexed
    )
    connection.exec_driver_sql(
        f"INSERT INTO {TITLE_TABLE} (rowid, title) VALUES (?, ?)",
        [(rowid, title) for rowid, title, _body in indexed],
    )


def index_version(
    connection: Connection, version_id: int, title: str | None, body: str | None
) -> None:
    """Index one article version, after its row is inserted (its `published` is read from
    it). A version already indexed is left as it is: versions never change. Runs in the
    caller's transaction, so the row and its index entry commit together."""
    if connection.dialect.name == "postgresql":
        from archive.read.search_postgresql import index_version_postgresql

        index_version_postgresql(connection, version_id, title, body)
        return
    if not _is_sqlite(connection):
        return
    published = connection.exec_driver_sql(
        "SELECT published FROM article_versions WHERE id = ?", (version_id,)
    ).scalar()
    rowid = index_rowid(version_id, published)
    known = connection.exec_driver_sql(
        f"SELECT 1 FROM {INDEX_TABLE} WHERE rowid = ?", (rowid,)
    ).first()
    if known is None:  # a contentless table would index a rowid twice
        _insert(connection, [(version_id, published, title, body)])


def index_new_versions(
    connection: Connection, rows: Sequence[tuple[int, str | None, str | None, str | None]]
) -> None:
    """Index versions just inserted in this transaction, (id, published, title, body) each,
    at once: what index_version does for one, without asking whether a new row is indexed."""
    if not rows:
        return
    if connection.dialect.name == "postgresql":
        from archive.read.search_postgresql import index_versions_postgresql

        index_versions_postgresql(connection, [(row[0], row[2], row[3]) for row in rows])
    elif _is_sqlite(connection):
        _insert(connection, list(rows))


def reindex(connection: Connection) -> int:
    """Rebuild the whole index from article_versions; the number of versions indexed."""
    if not _is_sqlite(connection):
        return 0
    for table in (INDEX_TABLE, TITLE_TABLE):
        connection.exec_driver_sql(f"INSERT INTO {table} ({table}) VALUES ('delete-all')")
    count = 0
    last_id = 0
    while True:
        rows = connection.exec_driver_sql(
            "SELECT id, published, title, body FROM article_versions"
            " WHERE id > ? ORDER BY id LIMIT ?",
            (last_id, INDEX_BATCH),
        ).all()
        if not rows:
            return count
        _insert(connection, [(row[0], row[1], row[2], row[3]) for row in rows])
        count += len(rows)
        last_id = rows[-1][0]


# Queries ----------------------------------------------------------------------------------


@dataclass
class _Plan:
    words: list[str]
    """Distinct words, none inside another, longest first."""
    sql_words: list[str]
    """The words checked in SQL; the rest are checked in Python."""
    phrases: list[str]
    """FTS5 phrases of the words that have token characters; empty when none has."""

    @property
    def extra_words(self) -> list[str]:
        return self.words[len(self.sql_words) :]


def _words(query: str) -> list[str]:
    if not isinstance(query, str) or not query.strip():
        raise ValueError("empty query")
    distinct = sorted(set(query.split()), key=lambda w: (-len(w), w))
    if len(distinct) > MAX_SQL_WORDS:
        return distinct  # not worth a quadratic pass
    # A word inside another one adds nothing: 中 in 中铝.
    kept: list[str] = []
    for word in distinct:
        if not any(word in longer for longer in kept):
            kept.append(word)
    return kept


def _phrase(word: str) -> str | None:
    """The FTS5 query of one word; quoted pairs of token characters, never the user's text."""
    chars = _probe.token_chars(word)[:MAX_PHRASE_CHARS]
    if not chars:
        return None
    if len(chars) == 1:
        return f'"{chars}" *'
    return '"' + " ".join(chars[i : i + 2] for i in range(len(chars) - 1)) + '"'


def _plan(query: str) -> _Plan | None:
    """None when nothing can match."""
    words = _words(query)
    for word in words:
        try:
            word.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate: no stored text holds one
            return None
    sql_words = words[:MAX_SQL_WORDS]
    phrases = [p for p in map(_phrase, sql_words) if p is not None]
    return _Plan(words=words, sql_words=sql_words, phrases=phrases)


def date_bound(name: str, value: str | None) -> str | None:
    """A --since/--until value checked: a year, a month or a day (2026, 2026-02, 2026-02-03)."""
    return _date_bound(name, value)


def _date_bound(name: str, value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    match = _DATE_BOUND.fullmatch(value)
    try:
        if match is None:
            raise ValueError
        year, month, day, clock = match.groups()
        # A real month, day and time: 2026-13 or 2026-02-30 would silently match nothing.
        datetime.fromisoformat(f"{year}-{month or '01'}-{day or '01'}T{clock or '00:00'}")
    except ValueError:
        raise ValueError(
            f"{name} must be a year, month or day such as 2026, 2026-02 or 2026-02-03, "
            f"not {value!r}"
        ) from None
    return value


def _day_range(since: str | None, until: str | None) -> tuple[int | None, int | None]:
    """Rowid bounds holding every version published within the bounds."""
    low = high = None
    if since is not None:
        match = _DATE_BOUND.fullmatch(since)
        assert match is not None
        year, month, day, _clock = match.groups()
        low = int(year + (month or "00") + (day or "00")) << VERSION_BITS
    if until is not None:
        match = _DATE_BOUND.fullmatch(until)
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


def _filters(
    *,
    all_versions: bool,
    section: str | None,
    since: str | None,
    until: str | None,
    source: str | None,
    site: str | None,
) -> _Filters:
    clauses: list[str] = []
    params: dict[str, Any] = {}
    if not all_versions:
        clauses.append(
            "v.number = (SELECT max(v2.number) FROM article_versions AS v2"
            " WHERE v2.article_id = v.article_id)"
        )
    if site is not None:
        clauses.append("a.site = :site")
        params["site"] = site
    if source is not None:
        clauses.append("v.source = :source")
        params["source"] = source
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
    if section is not None:
        clauses.append(
            "EXISTS (SELECT 1 FROM listings AS l"
            " WHERE l.article_url = a.url AND l.section = :section)"
        )
        params["section"] = section.strip("/")
    low, high = _day_range(since, until)
    return _Filters(clauses, params, low, high)


def _connection(session_or_connection: Session | Connection) -> Connection:
    if isinstance(session_or_connection, Session):
        return session_or_connection.connection()
    return session_or_connection


def _index_usable(connection: Connection) -> bool:
    """The index exists and holds the newest version. Versions get increasing ids and are
    indexed in the transaction that stores them, so an index holding the newest is whole."""
    if not _is_sqlite(connection):
        return False
    tables = connection.exec_driver_sql(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN (?, ?)",
        (INDEX_TABLE, TITLE_TABLE),
    ).scalar()
    if tables != 2:
        log.warning("the archive has no search index: searching without it (slow)")
        return False
    newest = connection.exec_driver_sql(
        "SELECT id, published FROM article_versions ORDER BY id DESC LIMIT 1"
    ).first()
    if newest is None:
        return True
    rowid = index_rowid(newest[0], newest[1])
    indexed = connection.exec_driver_sql(
        f"SELECT (SELECT count(*) FROM {INDEX_TABLE} WHERE rowid = :rowid)"
        f" + (SELECT count(*) FROM {TITLE_TABLE} WHERE rowid = :rowid)",
        {"rowid": rowid},
    ).scalar()
    if indexed != 2:
        log.warning("the search index is behind the archive: searching without it (slow)")
        return False
    return True


def _word_params(plan: _Plan) -> dict[str, str]:
    return {f"w{i}": word for i, word in enumerate(plan.sql_words)}


def _in_title_sql(plan: _Plan) -> str:
    return " AND ".join(
        f"instr(coalesce(v.title, ''), :w{i}) > 0" for i in range(len(plan.sql_words))
    )


def _matches_sql(plan: _Plan) -> str:
    return " AND ".join(
        f"(instr(coalesce(v.title, ''), :w{i}) > 0 OR instr(coalesce(v.body, ''), :w{i}) > 0)"
        for i in range(len(plan.sql_words))
    )


def _rowid_sql(filters: _Filters, table: str) -> tuple[str, dict[str, int]]:
    sql, params = "", {}
    if filters.rowid_from is not None:
        sql += f" AND {table}.rowid >= :rowid_from"
        params["rowid_from"] = filters.rowid_from
    if filters.rowid_below is not None:
        sql += f" AND {table}.rowid < :rowid_below"
        params["rowid_below"] = filters.rowid_below
    return sql, params


def _many_candidates(connection: Connection, plan: _Plan, filters: _Filters) -> bool:
    """More than RANKED_CANDIDATES candidates? Stops counting there."""
    rowids, params = _rowid_sql(filters, INDEX_TABLE)
    count = connection.exec_driver_sql(
        f"SELECT count(*) FROM (SELECT rowid FROM {INDEX_TABLE}"
        f" WHERE {INDEX_TABLE} MATCH :match{rowids} LIMIT :enough)",
        {"match": " AND ".join(plan.phrases), "enough": RANKED_CANDIDATES + 1, **params},
    ).scalar()
    return bool(count and count > RANKED_CANDIDATES)


_COLUMNS = "v.id, v.number, a.url, a.site, v.title, v.source, v.published"


def _occurrences_sql(plan: _Plan) -> str:
    """How many times the SQL words occur in a version's title and body."""
    text = "coalesce(v.title, '') || ' ' || coalesce(v.body, '')"
    return " + ".join(
        f"(length({text}) - length(replace({text}, :w{i}, '')))"
        f" / max(length(:w{i}), 1)"  # length() of text stops at a NUL
        for i in range(len(plan.sql_words))
    )


def _fts_rows(
    connection: Connection,
    plan: _Plan,
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
    body = ", v.body" if plan.extra_words else ""
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
    params["match"] = " AND ".join(plan.phrases)
    if limit is not None:
        params["limit"] = limit
    result = connection.exec_driver_sql(sql, params)
    try:
        yield from result
    finally:
        result.close()


def _scan_rows(connection: Connection, plan: _Plan, filters: _Filters) -> list[Sequence[Any]]:
    """Every version matching the SQL words, without the index, scored by occurrences."""
    body = ", v.body" if plan.extra_words else ""
    sql = (
        f"SELECT {_COLUMNS}, {_occurrences_sql(plan)}{body}"
        " FROM article_versions AS v CROSS JOIN articles AS a ON a.id = v.article_id"
        f" WHERE {_matches_sql(plan)}" + "".join(f" AND {clause}" for clause in filters.clauses)
    )
    params = {**filters.params, **_word_params(plan)}
    return list(connection.exec_driver_sql(sql, params))


def _has_all(text: str | None, words: Sequence[str]) -> bool:
    return text is not None and all(word in text for word in words)


def _matches_extra(row: Sequence[Any], plan: _Plan) -> bool:
    """The Python check of the words SQL did not check (row: columns, score, body)."""
    if not plan.extra_words:
        return True
    title, body = row[4] or "", row[8] or ""
    return all(word in title or word in body for word in plan.extra_words)


def _ranked(
    connection: Connection, plan: _Plan, filters: _Filters, limit: int | None
) -> list[Sequence[Any]]:
    """Matching rows, title matches first, at most `limit`."""
    if not plan.phrases or not _index_usable(connection):
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


def _sections(connection: Connection, urls: Sequence[str]) -> dict[str, list[str]]:
    sections: dict[str, list[str]] = {}
    distinct = sorted(set(urls))
    for start in range(0, len(distinct), FETCH_BATCH):
        batch = distinct[start : start + FETCH_BATCH]
        marks = ", ".join("?" * len(batch))
        rows = connection.exec_driver_sql(
            "SELECT article_url, section FROM listings"
            f" WHERE article_url IN ({marks}) ORDER BY article_url, section",
            tuple(batch),
        )
        for url, section in rows:
            sections.setdefault(url, []).append(section)
    return sections


def _snippet_texts(
    connection: Connection, version_ids: Sequence[int], words: Sequence[str]
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
        rows = connection.exec_driver_sql(
            "SELECT id, part_from, substr(body, part_from + 1, :length) FROM ("
            f" SELECT id, body, CASE WHEN hit_at >= {none} THEN 0"
            f" ELSE max(0, hit_at - 1 - {SNIPPET_LENGTH}) END AS part_from FROM ("
            f"  SELECT id, body, {first} AS hit_at FROM article_versions"
            f"  WHERE id IN ({', '.join(':' + name for name in ids)})))",
            {**params, **ids},
        )
        for version_id, offset, part in rows:
            texts[version_id] = (part, offset)
    return texts


def snippet(body: str | None, words: Sequence[str], offset: int = 0) -> str:
    """About SNIPPET_LENGTH characters of `body` on one line around the first occurrence of
    any word, each occurrence of a word in it wrapped in SNIPPET_OPEN … SNIPPET_CLOSE.

    `body` may be a part of the whole body starting at character `offset`."""
    if not body:
        return ""
    positions = [p for p in (body.find(w) for w in words) if p >= 0]
    first = min(positions) if positions else 0
    start = max(0, first - SNIPPET_BEFORE) if positions else 0
    end = min(len(body), start + SNIPPET_LENGTH)
    if positions and end - start < SNIPPET_LENGTH:
        start = max(0, end - SNIPPET_LENGTH)
    window = body[start:end]
    # Mark occurrences left to right, the longest word first where several start together.
    ordered = sorted((w for w in words if w in window), key=len, reverse=True)
    pieces: list[str] = []
    i = 0
    plain_from = 0
    while i < len(window):
        word = next((w for w in ordered if window.startswith(w, i)), None)
        if word is None:
            i += 1
            continue
        pieces.append(window[plain_from:i])
        pieces.append(f"{SNIPPET_OPEN}{word}{SNIPPET_CLOSE}")
        i += len(word)
        plain_from = i
    pieces.append(window[plain_from:])
    text = " ".join("".join(pieces).split())  # one line: newlines and runs of spaces
    cut_before = offset + start > 0
    return (ELLIPSIS if cut_before else "") + text + (ELLIPSIS if end < len(body) else "")


def search(
    session_or_connection: Session | Connection | Engine,
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

    Raises ValueError for an empty query or a malformed date; any other text is searched
    for literally.
    """
    if limit is not None and limit < 0:
        raise ValueError("limit must not be negative")
    filters = _filters(
        all_versions=all_versions,
        section=section,
        since=_date_bound("since", since),
        until=_date_bound("until", until),
        source=source,
        site=site,
    )
    plan = _plan(query)
    if plan is None or limit == 0:
        return []
    connection_or_engine = (
        session_or_connection
        if isinstance(session_or_connection, Engine)
        else _connection(session_or_connection)
    )
    if connection_or_engine.dialect.name == "postgresql":
        options = {
            "section": section,
            "since": since,
            "until": until,
            "source": source,
            "site": site,
            "limit": limit,
            "all_versions": all_versions,
        }
        if isinstance(connection_or_engine, Engine):
            with connection_or_engine.connect() as connection:
                return _search_on_postgresql(connection, plan, options)
        return _search_on_postgresql(connection_or_engine, plan, options)
    if isinstance(session_or_connection, Engine):
        with session_or_connection.connect() as connection:
            return _search(connection, plan, filters, limit)
    return _search(_connection(session_or_connection), plan, filters, limit)


def _search_on_postgresql(
    connection: Connection, plan: _Plan, options: dict[str, Any]
) -> list[SearchHit]:
    from archive.read.search_postgresql import search_postgresql, sections_of

    rows = search_postgresql(connection, plan.words, **options)
    sections = sections_of(connection, [row["url"] for row in rows])
    return [
        SearchHit(
            url=row["url"],
            site=row["site"],
            title=row["title"],
            source=row["source"],
            published=row["published"],
            sections=sections.get(row["url"], []),
            version=row["number"],
            snippet=snippet(row["body"], plan.words),
            score=float(sum((row["body"] or "").count(w) for w in plan.words)),
        )
        for row in rows
    ]


def _search(
    connection: Connection, plan: _Plan, filters: _Filters, limit: int | None
) -> list[SearchHit]:
    rows = _ranked(connection, plan, filters, limit)
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
