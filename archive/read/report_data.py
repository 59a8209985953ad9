"""The report's figures (`ReportData`), gathered by SQL aggregates over the latest version
of each article in range, so that memory does not grow with the archive."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import and_, distinct, func, select
from sqlalchemy.orm import Session

from archive.store.models import Article, ArticleVersion, Capture, File, Listing, VersionFile

TOP_SOURCES = 15
RECENT_ARTICLES = 20


@dataclass
class SectionStats:
    site: str
    section: str
    name: str | None
    articles: int = 0
    attachments: int = 0
    by_month: dict[str, int] = field(default_factory=dict)

    def label(self, with_site: bool) -> str:
        text = self.name or self.section
        return f"{self.site} · {text}" if with_site else text


@dataclass
class ReportData:
    since: date | None
    until: date | None
    site: str | None
    articles: int
    dated: int
    first_published: str | None
    last_published: str | None
    sources: int
    sections: list[SectionStats]
    top_sources: list[tuple[str, int]]
    without_source: int
    attachments: int
    attachment_bytes: int
    attachment_types: list[tuple[str, int]]
    recent: list[dict[str, Any]]


def _scope(since: date | None, until: date | None, site: str | None) -> Any:
    """The latest version of every article in range, as a subquery."""
    latest = _latest_numbers()
    query = (
        select(
            Article.id.label("article_id"),
            Article.url.label("url"),
            Article.site.label("site"),
            ArticleVersion.id.label("version_id"),
            ArticleVersion.title.label("title"),
            ArticleVersion.source.label("source"),
            ArticleVersion.published.label("published"),
        )
        .join(latest, latest.c.article_id == Article.id)
        .join(
            ArticleVersion,
            (ArticleVersion.article_id == Article.id) & (ArticleVersion.number == latest.c.number),
        )
    )
    day = func.substr(ArticleVersion.published, 1, 10)
    if since is not None:
        query = query.where(day >= since.isoformat())
    if until is not None:
        query = query.where(day <= until.isoformat())
    if site:
        query = query.where(Article.site == site)
    return query.subquery("scope")


def _latest_numbers() -> Any:
    return (
        select(ArticleVersion.article_id, func.max(ArticleVersion.number).label("number"))
        .group_by(ArticleVersion.article_id)
        .subquery()
    )


def gather(
    session: Session, since: date | None, until: date | None, site: str | None = None
) -> ReportData:
    """Every figure the report shows, from aggregate queries."""
    scope = _scope(since, until, site)
    articles, dated, first, last, sources = session.execute(
        select(
            func.count(),
            func.count(scope.c.published),
            func.min(scope.c.published),
            func.max(scope.c.published),
            func.count(distinct(scope.c.source)),
        ).select_from(scope)
    ).one()

    sections: dict[tuple[str, str], SectionStats] = {}
    month = func.substr(scope.c.published, 1, 7)
    rows = session.execute(
        select(
            Listing.site,
            Listing.section,
            func.max(Listing.section_name),
            month,
            func.count(distinct(scope.c.article_id)),
        )
        .join(scope, scope.c.url == Listing.article_url)
        .group_by(Listing.site, Listing.section, month)
    )
    for site_name, section, name, month_value, count in rows:
        stats = sections.setdefault(
            (site_name, section), SectionStats(site=site_name, section=section, name=name)
        )
        stats.name = stats.name or name
        stats.articles += count
        if month_value:
            stats.by_month[month_value] = count

    attached = session.execute(
        select(Listing.site, Listing.section, func.count())
        .join(scope, scope.c.url == Listing.article_url)
        .join(
            VersionFile,
            and_(VersionFile.version_id == scope.c.version_id, VersionFile.role == "attachment"),
        )
        .group_by(Listing.site, Listing.section)
    )
    for site_name, section, count in attached:
        if (site_name, section) in sections:
            sections[(site_name, section)].attachments = count

    # The bytes each version names: a later capture's when the file changed at its URL.
    media_type = func.coalesce(Capture.media_type, File.media_type)
    attachment_rows = session.execute(
        select(media_type, func.count(), func.sum(func.coalesce(Capture.content_size, File.size)))
        .select_from(scope)
        .join(
            VersionFile,
            and_(VersionFile.version_id == scope.c.version_id, VersionFile.role == "attachment"),
        )
        .join(File, File.id == VersionFile.file_id)
        .outerjoin(Capture, Capture.id == VersionFile.capture_id)
        .group_by(media_type)
    ).all()
    attachment_types = sorted(
        ((_media_label(media_type), count) for media_type, count, _size in attachment_rows),
        key=lambda pair: (-pair[1], pair[0]),
    )

    top_sources = [
        (source, count)
        for source, count in session.execute(
            select(scope.c.source, func.count())
            .where(scope.c.source.is_not(None))
            .group_by(scope.c.source)
            .order_by(func.count().desc(), scope.c.source)
            .limit(TOP_SOURCES)
        )
    ]
    without_source = session.scalar(
        select(func.count()).select_from(scope).where(scope.c.source.is_(None))
    )

    return ReportData(
        since=since,
        until=until,
        site=site,
        articles=articles,
        dated=dated,
        first_published=first,
        last_published=last,
        sources=sources,
        sections=sorted(sections.values(), key=lambda s: (-s.articles, s.site, s.section)),
        top_sources=top_sources,
        without_source=without_source or 0,
        attachments=sum(count for _type, count, _size in attachment_rows),
        attachment_bytes=sum(size or 0 for _type, _count, size in attachment_rows),
        attachment_types=_merge(attachment_types),
        recent=_recent(session, scope),
    )


def _recent(session: Session, scope: Any) -> list[dict[str, Any]]:
    rows = session.execute(
        select(scope.c.url, scope.c.title, scope.c.source, scope.c.published, scope.c.version_id)
        .where(scope.c.published.is_not(None))
        .order_by(scope.c.published.desc(), scope.c.article_id.desc())
        .limit(RECENT_ARTICLES)
    ).all()
    urls = [row.url for row in rows]
    names: dict[str, list[str]] = defaultdict(list)
    for url, section, name in session.execute(
        select(Listing.article_url, Listing.section, Listing.section_name)
        .where(Listing.article_url.in_(urls))
        .order_by(Listing.article_url, Listing.section)
    ):
        names[url].append(name or section)
    attachments = dict(
        session.execute(
            select(VersionFile.version_id, func.count())
            .where(
                VersionFile.version_id.in_([row.version_id for row in rows]),
                VersionFile.role == "attachment",
            )
            .group_by(VersionFile.version_id)
        ).all()
    )
    return [
        {
            "url": row.url,
            "title": row.title,
            "source": row.source,
            "published": row.published,
            "sections": names.get(row.url, []),
            "attachments": attachments.get(row.version_id, 0),
        }
        for row in rows
    ]


MEDIA_LABELS = {
    "application/pdf": "PDF",
    "application/msword": "Word",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "Word",
    "application/vnd.ms-excel": "Excel",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "Excel",
    "application/vnd.ms-powerpoint": "PowerPoint",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": "PowerPoint",
    "application/zip": "ZIP",
}


def _media_label(media_type: str | None) -> str:
    if not media_type:
        return "not fetched"
    bare = media_type.split(";")[0].strip().lower()
    return MEDIA_LABELS.get(bare, bare)


def _merge(pairs: list[tuple[str, int]]) -> list[tuple[str, int]]:
    merged: dict[str, int] = {}
    for label, count in pairs:
        merged[label] = merged.get(label, 0) + count
    return sorted(merged.items(), key=lambda pair: (-pair[1], pair[0]))
