"""Search on PostgreSQL, with the same exact-substring semantics as on SQLite: every word
must occur in the title or body, as typed.

Candidates come from the character-pair index of the SQLite design, kept as a tsvector with
a GIN index (migration 0007): a word is a phrase query over its pairs, a one-character word
a prefix query. `strpos` then checks every candidate exactly. Bodies longer than a tsvector
can position (16,383) are always checked by `strpos`. Title matches come first, then the
newest; each part stops at the limit, so common words do not sort every match.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, and_, func, literal, literal_column, not_, or_, select, text
from sqlalchemy.sql.expression import ColumnClause

from archive.store.models import Article, ArticleVersion, Listing

# tsvector positions stop at 16,383: index at most this many pairs, scan longer texts.
MAX_PAIRS = 15_000
# Put in the vector of a text cut at MAX_PAIRS, so that every query also matches it and
# strpos decides; no pair can look like it (pairs are one or two characters).
LONG_TEXT = "chalcolongtext"
SET_PAIRS = text(
    "UPDATE article_versions SET search_pairs = to_tsvector('simple', :pairs) WHERE id = :id"
)
PAIRS: ColumnClause[Any] = literal_column("article_versions.search_pairs")


def pairs_of(title: str | None, body: str | None) -> str:
    """The text stored in `search_pairs`: the title's pairs, then the body's, at most
    MAX_PAIRS (longer texts are found by scanning)."""
    from archive.read.search import index_text

    pairs = (index_text(title) + " " + index_text(body)).split()
    if len(pairs) > MAX_PAIRS:
        return " ".join([*pairs[:MAX_PAIRS], LONG_TEXT])
    return " ".join(pairs)


def index_version_postgresql(
    connection: Connection, version_id: int, title: str | None, body: str | None
) -> None:
    connection.execute(
        SET_PAIRS,
        {"pairs": pairs_of(title, body), "id": version_id},
    )


def index_versions_postgresql(
    connection: Connection, rows: Sequence[tuple[int, str | None, str | None]]
) -> None:
    """`search_pairs` of several versions, (id, title, body) each, in one statement."""
    connection.execute(
        SET_PAIRS,
        [{"pairs": pairs_of(title, body), "id": version_id} for version_id, title, body in rows],
    )


@contextmanager
def without_gin_indexes(connection: Connection) -> Iterator[None]:
    """Drop the versions table's GIN indexes (the pairs, and pg_trgm's over title and body)
    for a bulk write, and build them again after it: building a GIN index once is many times
    faster than entering every written row into it (an UPDATE rewrites the whole row)."""
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
            SET_PAIRS,
            [{"id": row.id, "pairs": pairs_of(row.title, row.body)} for row in rows],
        )
        count += len(rows)
        last = rows[-1].id


def _word_query(word: str) -> Any:
    """The index condition for one word, or None when it has no token characters."""
    from archive.read.search import END, index_text

    pairs = index_text(word).split()
    if not pairs:
        return None
    if len(pairs) == 1:  # one character: every pair that starts with it
        token = pairs[0].removesuffix(END)
        words = func.to_tsquery("simple", literal(token + ":*"))
    else:
        phrase = " ".join(pair for pair in pairs if not pair.endswith(END))
        words = func.phraseto_tsquery("simple", literal(phrase))
    # One @@ on the GIN index: the word's pairs, or a text too long to be indexed whole.
    return PAIRS.op("@@")(words.op("||")(func.to_tsquery("simple", literal(LONG_TEXT))))


def _contains(column: Any, word: str) -> Any:
    return func.strpos(func.coalesce(column, ""), literal(word)) > 0


def _query(words: Sequence[str], *, in_title: bool, all_versions: bool) -> Any:
    version = ArticleVersion
    query = select(
        version.id,
        version.number,
        Article.url,
        Article.site,
        version.title,
        version.source,
        version.published,
        version.body,
    ).join(Article, Article.id == version.article_id)
    if not all_versions:
        query = query.where(version.is_latest)
    title_has_all = and_(*[_contains(version.title, w) for w in words])
    if in_title:
        return query.where(title_has_all)
    for word in words:
        indexed = _word_query(word)
        exact = or_(_contains(version.title, word), _contains(version.body, word))
        query = query.where(exact if indexed is None else and_(indexed, exact))
    return query.where(not_(title_has_all))


def search_postgresql(
    connection: Connection,
    words: Sequence[str],
    *,
    section: str | None,
    since: str | None,
    until: str | None,
    source: str | None,
    site: str | None,
    limit: int | None,
    all_versions: bool,
) -> list[dict[str, Any]]:
    """Matching versions as dicts (id, number, url, site, title, source, published, body):
    title matches first, then body matches, each newest first."""
    # A plan per word: a prepared statement's generic plan (psycopg prepares a statement run
    # five times) would walk `published` for a rare word or gather every candidate of a
    # common one; either costs seconds.
    connection.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
    rows: list[dict[str, Any]] = []
    for in_title in (True, False):
        query = _query(words, in_title=in_title, all_versions=all_versions)
        version = ArticleVersion
        if section:
            query = query.where(
                Article.url.in_(select(Listing.article_url).where(Listing.section == section))
            )
        if since:
            query = query.where(version.published >= since)
        if until:
            query = query.where(func.substr(version.published, 1, len(until)) <= until)
        if source:
            query = query.where(version.source == source)
        if site:
            query = query.where(Article.site == site)
        query = query.order_by(version.published.desc().nulls_last(), version.id.desc())
        if limit is not None:
            if len(rows) >= limit:
                break
            query = query.limit(limit - len(rows))
        rows += [dict(row._mapping) for row in connection.execute(query)]
    return rows


def sections_of(connection: Connection, urls: Sequence[str]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = defaultdict(list)
    rows = connection.execute(
        select(Listing.article_url, Listing.section)
        .where(Listing.article_url.in_(list(urls)))
        .order_by(Listing.section)
    )
    for url, section in rows:
        found[url].append(section)
    return found
