"""Search on PostgreSQL, with the same exact-substring semantics as on SQLite: every word
must occur in the title or body, as typed.

Candidates come from the character-pair index of the SQLite design, kept as a tsvector with
a GIN index (migration 0007, archive.store.search_index): a word is a phrase query over its
pairs, a one-character word a prefix query. `strpos` then checks every candidate exactly.
Bodies longer than a tsvector can position (16,383) are always checked by `strpos`. Title
matches come first, then the newest; each part stops at the limit, so common words do not
sort every match.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, and_, func, literal, literal_column, not_, or_, select, text
from sqlalchemy.sql.expression import ColumnClause

from archive.read.search.hits import SearchHit, snippet
from archive.read.search.plan import QueryPlan, SearchOptions
from archive.store.models import Article, ArticleVersion, Listing
from archive.store.search_index import END, LONG_TEXT, index_text

PAIRS: ColumnClause[Any] = literal_column("article_versions.search_pairs")


def _word_query(word: str) -> Any:
    """The index condition for one word, or None when it has no token characters."""
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
        version.stored_body.label("body"),  # PostgreSQL keeps every text in its row
    ).join(Article, Article.id == version.article_id)
    if not all_versions:
        query = query.where(version.is_latest)
    title_has_all = and_(*[_contains(version.title, w) for w in words])
    if in_title:
        return query.where(title_has_all)
    for word in words:
        indexed = _word_query(word)
        exact = or_(_contains(version.title, word), _contains(version.stored_body, word))
        query = query.where(exact if indexed is None else and_(indexed, exact))
    return query.where(not_(title_has_all))


def _matching_rows(
    connection: Connection, words: Sequence[str], options: SearchOptions
) -> list[dict[str, Any]]:
    """Matching versions as dicts (id, number, url, site, title, source, published, body):
    title matches first, then body matches, each newest first."""
    # A plan per word: a prepared statement's generic plan (psycopg prepares a statement run
    # five times) would walk `published` for a rare word or gather every candidate of a
    # common one; either costs seconds.
    connection.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
    rows: list[dict[str, Any]] = []
    limit = options.limit
    for in_title in (True, False):
        query = _query(words, in_title=in_title, all_versions=options.all_versions)
        version = ArticleVersion
        if options.section:
            query = query.where(
                Article.url.in_(
                    select(Listing.article_url).where(Listing.section == options.section)
                )
            )
        if options.since:
            query = query.where(version.published >= options.since)
        if options.until:
            until = options.until
            query = query.where(func.substr(version.published, 1, len(until)) <= until)
        if options.source:
            query = query.where(version.source == options.source)
        if options.site:
            query = query.where(Article.site == options.site)
        query = query.order_by(version.published.desc().nulls_last(), version.id.desc())
        if limit is not None:
            if len(rows) >= limit:
                break
            query = query.limit(limit - len(rows))
        rows += [dict(row._mapping) for row in connection.execute(query)]
    return rows


def _sections_of(connection: Connection, urls: Sequence[str]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = defaultdict(list)
    rows = connection.execute(
        select(Listing.article_url, Listing.section)
        .where(Listing.article_url.in_(list(urls)))
        .order_by(Listing.section)
    )
    for url, section in rows:
        found[url].append(section)
    return found


def search_postgresql(
    connection: Connection, plan: QueryPlan, options: SearchOptions
) -> list[SearchHit]:
    """The hits of a planned query in a PostgreSQL archive (see archive.read.search.search)."""
    rows = _matching_rows(connection, plan.words, options)
    sections = _sections_of(connection, [row["url"] for row in rows])
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
