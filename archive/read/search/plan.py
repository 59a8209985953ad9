"""A search query taken apart: its words, the index phrases that find their candidates, and
the checked filters (dates, section, source, site), the same for SQLite and PostgreSQL."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from archive.store.search_index import token_chars

# A longer word is looked up by its first MAX_PHRASE_CHARS token characters (still a
# superset of its matches) and checked exactly: long phrases cost FTS5 without filtering more.
MAX_PHRASE_CHARS = 16
# Words beyond this many are checked in Python rather than in SQL, which limits the depth
# of an expression (1,000) and its number of parameters.
MAX_SQL_WORDS = 32

DATE_BOUND = re.compile(r"(\d{4})(?:-(\d{2})(?:-(\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2})?))?)?)?")
"""A --since/--until value: a year, a month, a day, or a day and a time of day."""


@dataclass
class QueryPlan:
    words: list[str]
    """Distinct words, none inside another, longest first."""
    sql_words: list[str]
    """The words checked in SQL; the rest are checked in Python."""
    phrases: list[str]
    """FTS5 phrases of the words that have token characters; empty when none has."""

    @property
    def extra_words(self) -> list[str]:
        return self.words[len(self.sql_words) :]


@dataclass(frozen=True)
class SearchOptions:
    """What narrows a search besides its words (see archive.read.search.search)."""

    section: str | None = None
    since: str | None = None
    until: str | None = None
    source: str | None = None
    site: str | None = None
    limit: int | None = 50
    all_versions: bool = False


def query_words(query: str) -> list[str]:
    """The words a query must all match: distinct, none inside another, longest first."""
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


def phrase(word: str) -> str | None:
    """The FTS5 query of one word; quoted pairs of token characters, never the user's text."""
    chars = token_chars(word)[:MAX_PHRASE_CHARS]
    if not chars:
        return None
    if len(chars) == 1:
        return f'"{chars}" *'
    return '"' + " ".join(chars[i : i + 2] for i in range(len(chars) - 1)) + '"'


def plan_query(query: str) -> QueryPlan | None:
    """The plan of a query; None when nothing can match."""
    words = query_words(query)
    for word in words:
        try:
            word.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate: no stored text holds one
            return None
    sql_words = words[:MAX_SQL_WORDS]
    phrases = [p for p in map(phrase, sql_words) if p is not None]
    return QueryPlan(words=words, sql_words=sql_words, phrases=phrases)


def date_bound(name: str, value: str | None) -> str | None:
    """A --since/--until value checked: a year, a month or a day (2026, 2026-02, 2026-02-03)."""
    if value is None:
        return None
    value = value.strip()
    match = DATE_BOUND.fullmatch(value)
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
