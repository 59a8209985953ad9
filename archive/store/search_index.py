"""Writing the search index: each version's text as overlapping character pairs, in SQLite's
FTS5 tables or PostgreSQL's `search_pairs` tsvector, in the transaction that stores it.

The index (migration 0002) is two contentless FTS5 tables, `search_index` over title and
body and `search_title` over the title alone, holding each text as the overlapping pairs of
its letters, digits and CJK characters: 中铝股份 is stored as `中铝 铝股 股份 份<END>` (END
closes the text so that its last character starts a pair too). archive.read.search turns a
query word into the phrase of its pairs and checks every candidate exactly.

Pairs rather than single characters: a common pair (中铝) is one short posting list instead
of a position-by-position join of two very long ones (中, 铝); five to ten times faster, for
an index about 1.7 times larger. Titles have their own small index because finding the few
title matches among tens of thousands of body matches in the big one means reading the
positions of them all.

The index rowid is `published_day << 32 | version_id` (published_day: YYYYMMDD, 0 without
a date), so FTS5 hands out candidates newest first at no cost and date filters are rowid
ranges.

On PostgreSQL (migration 0007) the same pairs are a tsvector with a GIN index.

The search verbs import this module for its tokenising and read the archive with the
standard sqlite3 module, so SQLAlchemy is imported only inside the PostgreSQL functions
(issue 16: its import alone costs about 0.3 s).
"""

from __future__ import annotations

import re
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING

from archive.store.version_texts import whole_text_sql

if TYPE_CHECKING:
    from sqlalchemy import Connection

INDEX_TABLE = "search_index"
TITLE_TABLE = "search_title"
"""The titles alone, so that finding the title matches among many body matches is quick."""
# The tokenizer of the index (migration 0002); queries must tokenize the same way.
TOKENIZER = "unicode61 remove_diacritics 0"
END = "\ue000"
"""Closes every indexed text (a private-use character: a token character to unicode61)."""

PAIR_BLOCK = 65_536
"""Characters turned into pairs at a time in a long text (index_text)."""

VERSION_BITS = 32
VERSION_MASK = (1 << VERSION_BITS) - 1
_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
INDEX_BATCH = 500

# tsvector positions stop at 16,383: index at most this many pairs, scan longer texts.
MAX_PAIRS = 15_000
# Put in the vector of a text cut at MAX_PAIRS, so that every query also matches it and
# strpos decides; no pair can look like it (pairs are one or two characters).
LONG_TEXT = "chalcolongtext"
SET_PAIRS = (
    "UPDATE article_versions SET search_pairs = to_tsvector('simple', :pairs) WHERE id = :id"
)


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


def token_chars(text: str) -> str:
    """The characters of `text` the index's tokenizer keeps, in order."""
    return _probe.token_chars(text)


def index_text(text: str | None) -> str:
    """The form stored in the index: the overlapping pairs of the text's token characters,
    the last one paired with END (`中铝，股份` -> `中铝 铝股 股份 份\ue000`)."""
    if not text:
        return ""
    chars = _probe.token_chars(text)
    if not chars:
        return ""
    chars += END
    if len(chars) <= PAIR_BLOCK:
        return " ".join([first + second for first, second in zip(chars, chars[1:], strict=False)])
    return " ".join(_pair_blocks(chars))


def _pair_blocks(chars: str) -> Iterator[str]:
    # A long text (a page with a 10 MB paragraph): a block of pairs at a time, not a string
    # object per pair, which cost some 60 bytes each.
    for start in range(0, len(chars) - 1, PAIR_BLOCK):
        part = chars[start : start + PAIR_BLOCK + 1]
        yield " ".join([a + b for a, b in zip(part, part[1:], strict=False)])


INDEXED_CHARS = 1_048_576
"""Token characters of a body indexed as pairs at most; a longer body's index holds the
pairs of its first INDEXED_CHARS and LONG_TEXT, which every body query matches too, so that
the exact check in SQL decides (as on PostgreSQL). The pairs of a 50 MB paragraph would cost
some 110 MB as text and twice that while FTS5 takes them in."""


def _index_value(text: str | None) -> str | bytes:
    """index_text, as SQLite is handed it: a long text's pairs as UTF-8 bytes, built a block
    at a time (the pairs of a 10 MB paragraph as Python text, with the UTF-8 copy the driver
    makes of it, cost four times as much); the SQL casts them to text. A text of more than
    INDEXED_CHARS token characters: the pairs of those, then LONG_TEXT."""
    if not text or len(text) <= PAIR_BLOCK:
        return index_text(text)
    chars, cut = _leading_token_chars(text, INDEXED_CHARS)
    if len(chars) <= PAIR_BLOCK and not cut:
        return index_text(text)
    if cut:
        return b" ".join(block.encode("utf-8") for block in _pair_blocks(chars)) + (
            b" " + LONG_TEXT.encode("ascii")
        )
    return b" ".join(block.encode("utf-8") for block in _pair_blocks(chars + END))


def _leading_token_chars(text: str, most: int) -> tuple[str, bool]:
    """The first `most` token characters of `text`, read a slice at a time (no copy of a
    50 MB text), and whether the text has more."""
    found: list[str] = []
    count = 0
    for start in range(0, len(text), most):
        piece = _probe.token_chars(text[start : start + most])
        found.append(piece)
        count += len(piece)
        if count > most:
            return "".join(found)[:most], True
    return "".join(found), False


def published_day(published: str | None) -> int:
    """YYYYMMDD of an ISO `published`, 0 without one: the high bits of the index rowid."""
    match = _ISO_DATE.match(published or "")
    return int("".join(match.groups())) if match else 0


def index_rowid(version_id: int, published: str | None) -> int:
    if not 0 < version_id <= VERSION_MASK:
        raise ValueError(f"version id {version_id} does not fit the search index")
    return published_day(published) << VERSION_BITS | version_id


# SQLite: the FTS5 tables ------------------------------------------------------------------


def _is_sqlite(connection: Connection) -> bool:
    return connection.dialect.name == "sqlite"


def _insert(
    connection: Connection, rows: list[tuple[int, str | None, str | None, str | None]]
) -> None:
    """Index (version id, published, title, body) rows."""
    indexed = [
        (index_rowid(version_id, published), index_text(title), _index_value(body))
        for version_id, published, title, body in rows
    ]
    connection.exec_driver_sql(
        f"INSERT INTO {INDEX_TABLE} (rowid, title, body) VALUES (?, ?, CAST(? AS TEXT))",
        indexed,
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
            f"SELECT id, published, title, {whole_text_sql('body')} FROM article_versions"
            " WHERE id > ? ORDER BY id LIMIT ?",
            (last_id, INDEX_BATCH),
        ).all()
        if not rows:
            return count
        _insert(connection, [(row[0], row[1], row[2], row[3]) for row in rows])
        count += len(rows)
        last_id = rows[-1][0]


# PostgreSQL: the search_pairs tsvector ----------------------------------------------------


def pairs_of(title: str | None, body: str | None) -> str:
    """The text stored in `search_pairs`: the title's pairs, then the body's, at most
    MAX_PAIRS (longer texts are found by scanning)."""
    if body is not None and len(body) > MAX_PAIRS:  # only what the vector can hold is paired
        leading, cut = _leading_token_chars(body, MAX_PAIRS + 1)
        body = leading  # cut: more than MAX_PAIRS pairs still, so LONG_TEXT is put in
    pairs = (index_text(title) + " " + index_text(body)).split()
    if len(pairs) > MAX_PAIRS:
        return " ".join([*pairs[:MAX_PAIRS], LONG_TEXT])
    return " ".join(pairs)


def index_version_postgresql(
    connection: Connection, version_id: int, title: str | None, body: str | None
) -> None:
    from sqlalchemy import text

    connection.execute(text(SET_PAIRS), {"pairs": pairs_of(title, body), "id": version_id})


def index_versions_postgresql(
    connection: Connection, rows: Sequence[tuple[int, str | None, str | None]]
) -> None:
    """`search_pairs` of several versions, (id, title, body) each, in one statement."""
    from sqlalchemy import text

    connection.execute(
        text(SET_PAIRS),
        [{"pairs": pairs_of(title, body), "id": version_id} for version_id, title, body in rows],
    )


@contextmanager
def without_gin_indexes(connection: Connection) -> Iterator[None]:
    """Drop the versions table's GIN indexes (the pairs, and pg_trgm's over title and body)
    for a bulk write, and build them again after it: building a GIN index once is many times
    faster than entering every written row into it (an UPDATE rewrites the whole row)."""
    from sqlalchemy import text

    indexes = connection.scalars(
        text(
            "SELECT indexdef FROM pg_indexes WHERE tablename = 'article_versions'"
            " AND indexdef LIKE '%USING gin%'"
        )
    ).all()
    for definition in indexes:
        name = definition.split(" INDEX ", 1)[1].split(" ON ", 1)[0]
        connection.execute(text(f"DROP INDEX {name}"))
    yield
    for definition in indexes:
        connection.execute(text(definition))


def reindex_postgresql(connection: Connection, batch: int = 500) -> int:
    """Fill `search_pairs` for every version (after a migration or a copy); the count."""
    with without_gin_indexes(connection):
        return fill_pairs(connection, batch)


def fill_pairs(connection: Connection, batch: int = 500) -> int:
    """Compute `search_pairs` for every version, in batches; the count."""
    from sqlalchemy import text

    count = 0
    last = 0
    while True:
        rows = connection.execute(
            text(
                "SELECT id, title, body FROM article_versions WHERE id > :last ORDER BY id"
                " LIMIT :batch"
            ),
            {"last": last, "batch": batch},
        ).all()
        if not rows:
            return count
        connection.execute(
            text(SET_PAIRS),
            [{"id": row.id, "pairs": pairs_of(row.title, row.body)} for row in rows],
        )
        count += len(rows)
        last = rows[-1].id
