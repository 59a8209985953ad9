"""Search on PostgreSQL: the same exact-substring semantics as on SQLite (every word must
occur in the title or body, as typed), with `strpos`; pg_trgm GIN indexes (migration 0005)
let PostgreSQL find candidates for words of three or more characters without reading every
body, and shorter words are checked by a scan."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, and_, case, func, literal, or_, select
from sqlalchemy.orm import aliased

from archive.models import Article, ArticleVersion, Listing


def _contains(column: Any, word: str) -> Any:
    return func.strpos(func.coalesce(column, ""), literal(word)) > 0


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
    """Matching versions as dicts (id, number, url, site, title, source, published, body,
    in_title), title matches first, then newest first."""
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
        case((and_(*[_contains(version.title, w) for w in words]), 1), else_=0).label("in_title"),
    ).join(Article, Article.id == version.article_id)
    if not all_versions:
        other = aliased(
            ArticleVersion
        )  # not the outer row's table, or the subquery is not correlated
        newest = (
            select(func.max(other.number))
            .where(other.article_id == version.article_id)
            .correlate(version)
            .scalar_subquery()
        )
        query = query.where(version.number == newest)
    for word in words:
        # LIKE lets the trigram index find candidates; strpos keeps the test exact.
        pattern = "%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(
            or_(
                and_(version.title.like(pattern, escape="\\"), _contains(version.title, word)),
                and_(version.body.like(pattern, escape="\\"), _contains(version.body, word)),
            )
        )
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
    query = query.order_by(
        literal(1) - query.selected_columns.in_title, version.published.desc(), version.id.desc()
    )
    if limit is not None:
        query = query.limit(limit)
    return [dict(row._mapping) for row in connection.execute(query)]


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
