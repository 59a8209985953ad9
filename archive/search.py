"""Full-text search of the archived articles with exact substring semantics, for Chinese.

A query is split on whitespace into words; an article matches when every word occurs, as a
substring, in its title or its body (case-sensitive, as `str.__contains__`). One- and
two-character words match too, which FTS5's trigram tokenizer cannot do.

How: the FTS5 table `search_index` (migration 0002, rowid = article_versions.id, contentless)
indexes title and body with a space between every character, so that each CJK character,
digit or letter is one token of the `unicode61` tokenizer. A word becomes the phrase of its
token characters, `中铝` -> `"中 铝"`; a phrase of consecutive one-character tokens matches
every text holding the word (and a few more: those where punctuation, white space or case
alone differ), so FTS5 finds and ranks the candidates and `instr()` on article_versions keeps
exactly the matching ones. The phrase is built from the characters the tokenizer keeps, never
from the user's text, so FTS5 syntax in a query (`"`, `*`, `AND`, `NEAR(`, `-`, `:`) is
literal text. A word without any token character (`——`, `“`) cannot use the index: such a
query, or an archive whose index is missing or behind, is answered by scanning the versions.

Order: articles whose title holds every word first, then the others; within each group by
BM25 (title weighted 10, body 1), or by the number of occurrences when scanning.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

INDEX_TABLE = "search_index"
# The tokenizer the index was built with (migration 0002); a query must use the same one.
TOKENIZER = "unicode61 remove_diacritics 0"
RANK_FUNCTION = "bm25(10.0, 1.0)"
"""BM25 weights per indexed column: title, body."""

SNIPPET_OPEN = "["
SNIPPET_CLOSE = "]"
"""Marks around each occurrence of a query word in `SearchHit.snippet`."""
SNIPPET_BEFORE = 20
"""Characters of context shown before the first occurrence."""
SNIPPET_LENGTH = 80
"""Characters of body text in a snippet, marks and ellipses not counted."""
ELLIPSIS = "…"

# A longer word is looked up by its first MAX_PHRASE_TOKENS token characters (still a
# superset of its matches) and checked exactly: long phrases cost FTS5 without filtering more.
MAX_PHRASE_TOKENS = 32
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
    """Higher is better: -BM25 with the index, else occurrences. Hits are ordered title
    matches first, so compare scores within a group only."""


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


# Indexing ---------------------------------------------------------------------------------


def index_text(text: str | None) -> str:
    """The form stored in the index: every character followed by a space, so that the
    tokenizer makes each letter, digit or CJK character one token."""
    return " ".join(text) if text else ""


def _is_sqlite(connection: Connection) -> bool:
    return connection.dialect.name == "sqlite"


def index_version(
    connection: Connection, version_id: int, title: str | None, body: str | None
) -> None:
    """Index one article version; a version already indexed is left as it is (versions never
    change). Runs in the caller's transaction, so the row and its index commit together."""
    if not _is_sqlite(connection):
        return
    known = connection.exec_driver_sql(
        f"SELECT 1 FROM {INDEX_TABLE} WHERE rowid = ?", (version_id,)
    ).first()
    if known is not None:
        # The table is contentless: inserting a rowid twice would index it twice.
        return
    connection.exec_driver_sql(
        f"INSERT INTO {INDEX_TABLE} (rowid, title, body) VALUES (?, ?, ?)",
        (version_id, index_text(title), index_text(body)),
    )


def reindex(connection: Connection) -> int:
    """Rebuild the whole index from article_versions; the number of versions indexed."""
    if not _is_sqlite(connection):
        return 0
    connection.exec_driver_sql(f"INSERT INTO {INDEX_TABLE} ({INDEX_TABLE}) VALUES ('delete-all')")
    count = 0
    last_id = 0
    while True:
        rows = connection.exec_driver_sql(
            "SELECT id, title, body FROM article_versions WHERE id > ? ORDER BY id LIMIT ?",
            (last_id, INDEX_BATCH),
        ).all()
        if not rows:
            return count
        connection.exec_driver_sql(
            f"INSERT INTO {INDEX_TABLE} (rowid, title, body) VALUES (?, ?, ?)",
            [(row[0], index_text(row[1]), index_text(row[2])) for row in rows],
        )
        count += len(rows)
        last_id = rows[-1][0]


# Which characters the tokenizer keeps ------------------------------------------------------


class _TokenProbe:
    """Asks SQLite's own tokenizer which characters are tokens (Python's Unicode tables and
    unicode61's differ: combining marks, newer scripts), remembering every answer."""

    def __init__(self) -> None:
        self._known: dict[str, bool] = {}
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None

    def _open(self) -> sqlite3.Connection:
        db = sqlite3.connect(":memory:", check_same_thread=False)
        db.execute(f"CREATE VIRTUAL TABLE probe USING fts5(x, tokenize='{TOKENIZER}')")
        db.execute("CREATE VIRTUAL TABLE probe_terms USING fts5vocab(probe, 'instance')")
        return db

    def token_chars(self, word: str) -> str:
        """The characters of `word` that index_text() makes into tokens, in order."""
        unknown = sorted({c for c in word if c not in self._known})
        if unknown:
            with self._lock:
                if self._db is None:
                    self._db = self._open()
                db = self._db
                db.execute("DELETE FROM probe")
                db.executemany(
                    "INSERT INTO probe (rowid, x) VALUES (?, ?)",
                    [(i, "" if c == "\x00" else c) for i, c in enumerate(unknown, 1)],
                )
                kept = {row[0] for row in db.execute("SELECT DISTINCT doc FROM probe_terms")}
                db.execute("DELETE FROM probe")
                for i, c in enumerate(unknown, 1):
                    self._known[c] = i in kept
        return "".join(c for c in word if self._known[c])


_probe = _TokenProbe()


# Queries ----------------------------------------------------------------------------------


@dataclass
class _Plan:
    words: list[str]
    """Distinct words, none a substring of another, longest first."""
    sql_words: list[str]
    """The words checked in SQL; the rest are checked in Python."""
    phrases: list[str]
    """One FTS5 phrase per word that has token characters; empty when none has."""

    @property
    def extra_words(self) -> list[str]:
        return self.words[len(self.sql_words) :]


def _words(query: str) -> list[str]:
    if not isinstance(query, str) or not query.strip():
        raise ValueError("empty query")
    distinct = sorted(set(query.split()), key=lambda w: (-len(w), w))
    # A word inside another one adds nothing: 中 in 中铝.
    kept: list[str] = []
    for word in distinct:
        if not any(word in longer for longer in kept):
            kept.append(word)
    return kept


def _encodable(word: str) -> bool:
    try:
        word.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: no stored text can hold it
        return False
    return True


def _plan(query: str) -> _Plan | None:
    """None when nothing can match."""
    words = _words(query)
    if not all(_encodable(w) for w in words):
        return None
    phrases = []
    for word in words:
        tokens = _probe.token_chars(word)[:MAX_PHRASE_TOKENS]
        if tokens:
            phrases.append('"' + " ".join(tokens) + '"')
    return _Plan(words=words, sql_words=words[:MAX_SQL_WORDS], phrases=phrases[:MAX_SQL_WORDS])


def _connection(session_or_connection: Session | Connection) -> Connection:
    if isinstance(session_or_connection, Session):
        return session_or_connection.connection()
    return session_or_connection


def _index_usable(connection: Connection) -> bool:
    """The index exists and holds the newest version. Versions get increasing ids and are
    indexed in the transaction that stores them, so an index holding the newest is whole."""
    if not _is_sqlite(connection):
        return False
    exists = connection.exec_driver_sql(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (INDEX_TABLE,)
    ).first()
    if exists is None:
        log.warning("the archive has no search index: searching without it (slow)")
        return False
    newest = connection.exec_driver_sql("SELECT max(id) FROM article_versions").scalar()
    if newest is None:
        return True
    indexed = connection.exec_driver_sql(
        f"SELECT 1 FROM {INDEX_TABLE} WHERE rowid = ?", (newest,)
    ).first()
    if indexed is None:
        log.warning("the search index is behind the archive: searching without it (slow)")
        return False
    return True


def _date_bound(name: str, value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    if not value or not value[:4].isdigit():
        raise ValueError(f"{name} must be an ISO date such as 2026-02-03, not {value!r}")
    return value


@dataclass
class _Filters:
    clauses: list[str]
    params: dict[str, Any]


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
    return _Filters(clauses, params)


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


_COLUMNS = "v.id, v.number, a.url, a.site, v.title, v.source, v.published"


def _fts_rows(
    connection: Connection,
    plan: _Plan,
    filters: _Filters,
    *,
    title_only: bool,
    limit: int | None,
) -> Iterator[Sequence[Any]]:
    """Candidates from the index in rank order, checked exactly in SQL for the SQL words."""
    if title_only:
        match = " AND ".join(f"title : {phrase}" for phrase in plan.phrases)
        exact = _in_title_sql(plan)
    else:
        match = " AND ".join(plan.phrases)
        exact = _matches_sql(plan)
    body = ", v.body" if plan.extra_words else ""
    sql = (
        f"SELECT {_COLUMNS}, -{INDEX_TABLE}.rank{body}"
        f" FROM {INDEX_TABLE}"
        # CROSS JOIN keeps the index the outer loop, so its rank order is the result order
        # and a LIMIT stops the exact checks early.
        f" CROSS JOIN article_versions AS v ON v.id = {INDEX_TABLE}.rowid"
        " CROSS JOIN articles AS a ON a.id = v.article_id"
        f" WHERE {INDEX_TABLE} MATCH :match AND {INDEX_TABLE}.rank MATCH '{RANK_FUNCTION}'"
        + "".join(f" AND {clause}" for clause in filters.clauses)
        + f" AND {exact}"
        + f" ORDER BY {INDEX_TABLE}.rank"
        + (" LIMIT :limit" if limit is not None else "")
    )
    params = {**filters.params, **_word_params(plan), "match": match}
    if limit is not None:
        params["limit"] = limit
    yield from connection.exec_driver_sql(sql, params)


def _scan_rows(connection: Connection, plan: _Plan, filters: _Filters) -> list[Sequence[Any]]:
    """Every version matching the SQL words, without the index, scored by occurrences."""
    occurrences = " + ".join(
        f"(length(coalesce(v.title, '') || ' ' || coalesce(v.body, ''))"
        f" - length(replace(coalesce(v.title, '') || ' ' || coalesce(v.body, ''), :w{i}, '')))"
        f" / length(:w{i})"
        for i in range(len(plan.sql_words))
    )
    body = ", v.body" if plan.extra_words else ""
    sql = (
        f"SELECT {_COLUMNS}, {occurrences}{body}"
        " FROM article_versions AS v CROSS JOIN articles AS a ON a.id = v.article_id"
        f" WHERE {_matches_sql(plan)}"
        + "".join(f" AND {clause}" for clause in filters.clauses)
    )
    params = {**filters.params, **_word_params(plan)}
    return list(connection.exec_driver_sql(sql, params))


def _has_all(text: str | None, words: Sequence[str]) -> bool:
    return text is not None and all(word in text for word in words)


def _matches_extra(row: Sequence[Any], plan: _Plan) -> bool:
    """The Python check of the words SQL did not check (row: columns, score, body)."""
    title, body = row[4] or "", row[8] or ""
    return all(word in title or word in body for word in plan.extra_words)


def _ranked(
    connection: Connection, plan: _Plan, filters: _Filters, limit: int | None
) -> list[Sequence[Any]]:
    """Matching rows, title matches first, at most `limit`."""
    exact_in_sql = not plan.extra_words
    found: list[Sequence[Any]] = []

    def full() -> bool:
        return limit is not None and len(found) >= limit

    if not plan.phrases or not _index_usable(connection):
        rows = [row for row in _scan_rows(connection, plan, filters) if _matches_extra(row, plan)]
        rows.sort(key=lambda row: (not _has_all(row[4], plan.words), -row[7], row[0]))
        return rows if limit is None else rows[:limit]

    for row in _fts_rows(
        connection, plan, filters, title_only=True, limit=limit if exact_in_sql else None
    ):
        if _has_all(row[4], plan.words):
            found.append(row)
            if full():
                return found
    for row in _fts_rows(connection, plan, filters, title_only=False, limit=None):
        if _has_all(row[4], plan.words):
            continue  # a title match, already found above
        if exact_in_sql or _matches_extra(row, plan):
            found.append(row)
            if full():
                return found
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


def _bodies(connection: Connection, version_ids: Sequence[int]) -> dict[int, str | None]:
    bodies: dict[int, str | None] = {}
    for start in range(0, len(version_ids), FETCH_BATCH):
        batch = list(version_ids[start : start + FETCH_BATCH])
        marks = ", ".join("?" * len(batch))
        rows = connection.exec_driver_sql(
            f"SELECT id, body FROM article_versions WHERE id IN ({marks})", tuple(batch)
        )
        bodies.update({row[0]: row[1] for row in rows})
    return bodies


def snippet(body: str | None, words: Sequence[str]) -> str:
    """About SNIPPET_LENGTH characters of `body` on one line around the first occurrence of
    any word, each occurrence of a word in it wrapped in SNIPPET_OPEN … SNIPPET_CLOSE."""
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
    ordered = sorted(words, key=len, reverse=True)
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
    return (ELLIPSIS if start > 0 else "") + text + (ELLIPSIS if end < len(body) else "")


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
    are ISO dates (or prefixes: `2026-02`), inclusive, compared at their own precision with
    `published`; `source` and `site` must be equal. At most `limit` hits (None: all).

    Raises ValueError for an empty query or a malformed date; any other text is searched
    for literally.
    """
    if limit is not None and limit < 0:
        raise ValueError("limit must not be negative")
    since = _date_bound("since", since)
    until = _date_bound("until", until)
    plan = _plan(query)
    if plan is None or limit == 0:
        return []
    filters = _filters(
        all_versions=all_versions,
        section=section,
        since=since,
        until=until,
        source=source,
        site=site,
    )
    if isinstance(session_or_connection, Engine):
        with session_or_connection.connect() as connection:
            return _search(connection, plan, filters, limit)
    return _search(_connection(session_or_connection), plan, filters, limit)


def _search(
    connection: Connection, plan: _Plan, filters: _Filters, limit: int | None
) -> list[SearchHit]:
    rows = _ranked(connection, plan, filters, limit)
    sections = _sections(connection, [row[2] for row in rows])
    bodies = _bodies(connection, [row[0] for row in rows])
    return [
        SearchHit(
            url=row[2],
            site=row[3],
            title=row[4],
            source=row[5],
            published=row[6],
            sections=sections.get(row[2], []),
            version=row[1],
            snippet=snippet(bodies.get(row[0]), plan.words),
            score=float(row[7]),
        )
        for row in rows
    ]
