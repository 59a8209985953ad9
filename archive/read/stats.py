"""Counts for `chalco-archive stats`: articles per site, section and month of publication."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from archive.read.articles import LATEST_NUMBERS
from archive.read.sql import Reader, reader_for

if TYPE_CHECKING:
    from sqlalchemy import Connection
    from sqlalchemy.orm import Session


def section_month_counts(
    database: Reader | Session | Connection, site: str | None = None
) -> list[dict[str, Any]]:
    """Articles per site, section and month of publication (latest versions)."""
    params: dict[str, Any] = {}
    where = ""
    if site:
        where, params["site"] = " WHERE a.site = :site", site
    rows = reader_for(database).rows(
        "SELECT a.site, l.section, substr(v.published, 1, 7) AS month,"
        " count(DISTINCT a.id) AS articles"
        " FROM listings AS l JOIN articles AS a ON a.url = l.article_url"
        f" JOIN {LATEST_NUMBERS} AS latest ON latest.article_id = a.id"
        " JOIN article_versions AS v ON v.article_id = a.id AND v.number = latest.number"
        f"{where}"
        " GROUP BY a.site, l.section, substr(v.published, 1, 7)"
        " ORDER BY a.site, l.section, substr(v.published, 1, 7) DESC",
        **params,
    )
    return [
        {"site": r["site"], "section": r["section"], "month": r["month"], "articles": r["articles"]}
        for r in rows
    ]
