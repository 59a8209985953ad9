"""A one-page HTML report of the archive for people who would rather look than read.

The page is self-contained: inline CSS and SVG charts drawn here, no script, no font, no
image fetched from anywhere, so it can be mailed or opened offline. Archived text is
escaped, and only http(s) URLs become links (archive.safe_text). Every figure comes from
SQL aggregates over the latest version of each article, so memory does not grow with the
archive.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from html import escape
from pathlib import Path
from typing import Any

import click
from sqlalchemy import and_, distinct, func, select
from sqlalchemy.orm import Session

from archive.errors import ArchiveError
from archive.safe_text import safe_href
from archive.store.db import open_reader, session_factory
from archive.store.home import HOME_ENV, ArchiveHome
from archive.store.models import Article, ArticleVersion, Capture, File, Listing, VersionFile

# Months shown one bar each; a longer range also gets a chart per year.
MONTHS_SHOWN = 24
TOP_SOURCES = 15
RECENT_ARTICLES = 20
# Sections drawn in their own colour; the rest share the grey "other" series.
SECTIONS_COLOURED = 9

# Should archived text ever slip through unescaped, the browser still runs no script and
# fetches nothing: only the page's own inline styles are allowed.
CONTENT_SECURITY_POLICY = "default-src 'none'; style-src 'unsafe-inline'"

# Tableau 10: distinct, print-safe, and readable by most colour-blind readers.
PALETTE = (
    "#4e79a7",
    "#f28e2b",
    "#e15759",
    "#76b7b2",
    "#59a14f",
    "#edc948",
    "#b07aa1",
    "#ff9da7",
    "#9c755f",
)
OTHER_COLOUR = "#bab0ac"
BAR_COLOUR = "#4e79a7"
ATTACHMENT_COLOUR = "#f28e2b"

CSS = """
:root { color-scheme: light; }
body {
  font-family: "Noto Sans CJK SC", "WenQuanYi Micro Hei", "PingFang SC", "Microsoft YaHei",
    sans-serif;
  margin: 0; background: #f6f7f9; color: #222; line-height: 1.5;
}
main { max-width: 1100px; margin: 0 auto; padding: 24px 28px 48px; }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 18px; margin: 0 0 12px; }
.sub { color: #666; margin: 0 0 20px; }
section { background: #fff; border: 1px solid #e3e5e8; border-radius: 8px; padding: 18px 20px;
  margin: 0 0 20px; }
.figures { display: grid; grid-template-columns: repeat(auto-fit, minmax(170px, 1fr));
  gap: 12px; margin: 0 0 20px; }
.figure { background: #fff; border: 1px solid #e3e5e8; border-radius: 8px; padding: 14px 16px; }
.figure .value { font-size: 28px; font-weight: 700; color: #1f3b57; }
.figure .value.small { font-size: 17px; line-height: 1.25; padding-top: 3px; }
.figure .label { color: #666; font-size: 13px; }
svg { display: block; width: 100%; height: auto; }
svg text { font-size: 12px; fill: #444; }
svg .total { font-size: 11px; fill: #222; }
svg .grid { stroke: #e6e8eb; stroke-width: 1; }
svg .axis { stroke: #999; stroke-width: 1; }
.legend { display: flex; flex-wrap: wrap; gap: 6px 18px; margin: 10px 0 0; font-size: 13px; }
.swatch { display: inline-block; width: 12px; height: 12px; border-radius: 2px;
  margin-right: 6px; vertical-align: -1px; }
.note { color: #777; font-size: 13px; margin: 8px 0 0; }
table { border-collapse: collapse; width: 100%; font-size: 14px; }
th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid #eceef1;
  vertical-align: top; }
th { color: #555; font-weight: 600; background: #fafbfc; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.date, td.path { white-space: nowrap; color: #555; }
a { color: #1f5f99; text-decoration: none; }
a:hover { text-decoration: underline; }
.empty { color: #777; font-style: italic; }
@media print { body { background: #fff; } section, .figure { break-inside: avoid; } }
"""


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


# --- charts ---------------------------------------------------------------------------------


def _e(text: object) -> str:
    return escape(str(text), quote=True)


def _nice_step(maximum: int, ticks: int = 5) -> int:
    """A step of 1, 2 or 5 times a power of ten giving about `ticks` gridlines."""
    if maximum <= ticks:
        return 1
    raw = maximum / ticks
    magnitude = 10 ** math.floor(math.log10(raw))
    for multiple in (1, 2, 5, 10):
        if multiple * magnitude >= raw:
            return int(multiple * magnitude)
    return int(10 * magnitude)


@dataclass
class Series:
    name: str
    colour: str
    values: list[int]


def stacked_bars(categories: Sequence[str], series: Sequence[Series], unit: str) -> str:
    """A vertical stacked bar chart: one bar per category, one coloured part per series,
    each part titled (a tooltip) with its series, category and count."""
    width, height = 960, 320
    left, right, top, bottom = 48, 12, 20, 44
    plot_width, plot_height = width - left - right, height - top - bottom
    totals = [sum(s.values[i] for s in series) for i in range(len(categories))]
    step = _nice_step(max(totals, default=0))
    ceiling = max(step, math.ceil(max(totals, default=0) / step) * step)
    slot = plot_width / max(len(categories), 1)
    bar = min(slot * 0.72, 64.0)

    def y(value: float) -> float:
        return top + plot_height - value / ceiling * plot_height

    parts = [f'<svg viewBox="0 0 {width} {height}" role="img" xmlns="http://www.w3.org/2000/svg">']
    for tick in range(0, ceiling + 1, step):
        parts.append(
            f'<line class="grid" x1="{left}" x2="{width - right}" '
            f'y1="{y(tick):.1f}" y2="{y(tick):.1f}"/>'
            f'<text x="{left - 6}" y="{y(tick) + 4:.1f}" text-anchor="end">{tick}</text>'
        )
    label_every = max(1, math.ceil(len(categories) / 12))
    for i, category in enumerate(categories):
        x = left + i * slot + (slot - bar) / 2
        base = 0
        for s in series:
            value = s.values[i]
            if not value:
                continue
            parts.append(
                f'<rect x="{x:.1f}" y="{y(base + value):.1f}" width="{bar:.1f}" '
                f'height="{y(base) - y(base + value):.1f}" fill="{s.colour}">'
                f"<title>{_e(s.name)} · {_e(category)}: {value} {_e(unit)}</title></rect>"
            )
            base += value
        centre = x + bar / 2
        if totals[i] and len(categories) <= 36:
            parts.append(
                f'<text class="total" x="{centre:.1f}" y="{y(totals[i]) - 4:.1f}" '
                f'text-anchor="middle">{totals[i]}</text>'
            )
        if i % label_every == 0:
            parts.append(
                f'<text x="{centre:.1f}" y="{top + plot_height + 18}" '
                f'text-anchor="middle">{_e(category)}</text>'
            )
    parts.append(
        f'<line class="axis" x1="{left}" x2="{width - right}" '
        f'y1="{top + plot_height}" y2="{top + plot_height}"/></svg>'
    )
    return "".join(parts)


def horizontal_bars(rows: Sequence[tuple[str, int]], colour: str, unit: str) -> str:
    """One labelled horizontal bar per row, its count written at its end."""
    width, row_height, label_width, value_room = 960, 26, 230, 60
    height = row_height * len(rows) + 8
    maximum = max((value for _label, value in rows), default=0) or 1
    scale = (width - label_width - value_room) / maximum
    parts = [f'<svg viewBox="0 0 {width} {height}" role="img" xmlns="http://www.w3.org/2000/svg">']
    for i, (label, value) in enumerate(rows):
        y = 4 + i * row_height
        shown = label if len(label) <= 16 else label[:15] + "…"
        length = max(value * scale, 1.0)
        parts.append(
            f'<text x="{label_width - 10}" y="{y + 17}" text-anchor="end">{_e(shown)}'
            f"<title>{_e(label)}</title></text>"
            f'<rect x="{label_width}" y="{y + 4}" width="{length:.1f}" height="{row_height - 8}" '
            f'fill="{colour}" rx="2"><title>{_e(label)}: {value} {_e(unit)}</title></rect>'
            f'<text class="total" x="{label_width + length + 6:.1f}" y="{y + 17}">{value}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _months(first: str, last: str) -> list[str]:
    year, month = int(first[:4]), int(first[5:7])
    end = (int(last[:4]), int(last[5:7]))
    months = []
    while (year, month) <= end:
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def _series(
    sections: list[SectionStats], bins: list[str], width: int, with_site: bool
) -> list[Series]:
    """Values per bin (a month, or a year when `width` is 4) for the coloured sections and
    one grey series for the rest."""

    def values(stats: SectionStats) -> list[int]:
        counts = dict.fromkeys(bins, 0)
        for month, count in stats.by_month.items():
            if month[:width] in counts:
                counts[month[:width]] += count
        return list(counts.values())

    coloured = sections[:SECTIONS_COLOURED]
    series = [
        Series(stats.label(with_site), PALETTE[i], values(stats))
        for i, stats in enumerate(coloured)
    ]
    rest = sections[SECTIONS_COLOURED:]
    if rest:
        summed = [sum(column) for column in zip(*(values(s) for s in rest), strict=True)]
        series.append(Series(f"other ({len(rest)} sections)", OTHER_COLOUR, summed))
    return series


def _legend(series: list[Series], totals: list[int]) -> str:
    items = "".join(
        f'<span><span class="swatch" style="background:{s.colour}"></span>{_e(s.name)} '
        f'<span class="sub">{total}</span></span>'
        for s, total in zip(series, totals, strict=True)
    )
    return f'<div class="legend">{items}</div>'


# --- the page -------------------------------------------------------------------------------


def _range_text(data: ReportData) -> str:
    if data.since or data.until:
        since = data.since.isoformat() if data.since else "the first article"
        until = data.until.isoformat() if data.until else "the latest"
        return f"published {since} to {until}"
    return "every archived article"


def _size(size: int) -> str:
    if size >= 1e9:
        return f"{size / 1e9:,.1f} GB"
    if size >= 1e6:
        return f"{size / 1e6:,.1f} MB"
    return f"{size / 1e3:,.0f} kB"


def _figures(data: ReportData) -> str:
    first = _e((data.first_published or "")[:10])
    last = _e((data.last_published or "")[:10])
    figures = [
        (f"{data.articles:,}", "articles", ""),
        (f"{len(data.sections):,}", "sections", ""),
        (f"{first}<br>{last}" if first else "—", "first and last published", " small"),
        (f"{data.attachments:,}", f"attachments, {_size(data.attachment_bytes)}", ""),
        (f"{data.sources:,}", "sources (来源)", ""),
    ]
    cards = "".join(
        f'<div class="figure"><div class="value{size}">{value}</div>'
        f'<div class="label">{_e(label)}</div></div>'
        for value, label, size in figures
    )
    return f'<div class="figures">{cards}</div>'


def _per_month(data: ReportData, with_site: bool) -> str:
    months_seen = sorted({m for s in data.sections for m in s.by_month})
    if not months_seen:
        return (
            '<section><h2>Articles per month, by section</h2><p class="empty">No dated '
            "article in this range.</p></section>"
        )
    months = _months(months_seen[0], months_seen[-1])
    shown = months[-MONTHS_SHOWN:]
    series = _series(data.sections, shown, 7, with_site)
    html = [
        "<section><h2>Articles per month, by section</h2>",
        stacked_bars(shown, series, "articles"),
        _legend(series, [sum(s.values) for s in series]),
        '<p class="note">By month of publication. An article listed in two sections counts '
        "in each.",
    ]
    if len(months) > len(shown):
        html.append(f" The last {len(shown)} months of the range; every year below.")
    undated = data.articles - data.dated
    if undated:
        html.append(f" {undated} articles without a publication date are not shown.")
    html.append("</p></section>")
    if len(months) > len(shown):
        years = [str(y) for y in range(int(months[0][:4]), int(months[-1][:4]) + 1)]
        yearly = _series(data.sections, years, 4, with_site)
        html += [
            "<section><h2>Articles per year, by section</h2>",
            stacked_bars(years, yearly, "articles"),
            _legend(yearly, [sum(s.values) for s in yearly]),
            "</section>",
        ]
    return "".join(html)


def _section_table(data: ReportData, with_site: bool) -> str:
    rows = "".join(
        f'<tr><td>{_e(s.label(with_site))}</td><td class="path">{_e(s.section)}</td>'
        f'<td class="n">{s.articles}</td><td class="n">{s.attachments}</td></tr>'
        for s in data.sections
    )
    return (
        "<section><h2>Sections</h2>"
        '<table id="sections"><thead><tr><th>section</th><th>path</th>'
        '<th class="n">articles</th><th class="n">attachments</th></tr></thead>'
        f"<tbody>{rows}</tbody></table></section>"
    )


def _sources(data: ReportData) -> str:
    if not data.top_sources:
        return ""
    note = (
        f'<p class="note">{data.without_source} articles name no source.</p>'
        if data.without_source
        else ""
    )
    return (
        f"<section><h2>Top sources (来源)</h2>"
        f"{horizontal_bars(data.top_sources, BAR_COLOUR, 'articles')}{note}</section>"
    )


def _attachments(data: ReportData, with_site: bool) -> str:
    if not data.attachments:
        return ""
    rows = sorted(
        ((s.label(with_site), s.attachments) for s in data.sections if s.attachments),
        key=lambda row: -row[1],
    )
    kinds = " · ".join(f"{_e(label)} {count}" for label, count in data.attachment_types)
    return (
        "<section><h2>Attachments per section</h2>"
        f"{horizontal_bars(rows, ATTACHMENT_COLOUR, 'attachments')}"
        f'<p class="note">By type: {kinds}. An attachment of an article listed in two sections '
        "counts in each.</p></section>"
    )


def _article_link(url: str, title: str | None) -> str:
    """The title linked to the article, or as plain text when its URL is not http(s): an
    archived `javascript:` or `data:` URL must not become something to click."""
    text = _e(title or url)
    href = safe_href(url)
    return f'<a href="{_e(href)}">{text}</a>' if href else text


def _recent_table(data: ReportData) -> str:
    if not data.recent:
        return ""
    rows = "".join(
        f'<tr><td class="date">{_e((a["published"] or "")[:10])}</td>'
        f"<td>{_article_link(a['url'], a['title'])}</td>"
        f"<td>{_e(a['source'] or '')}</td><td>{_e('、'.join(a['sections']))}</td>"
        f'<td class="n">{a["attachments"] or ""}</td></tr>'
        for a in data.recent
    )
    return (
        "<section><h2>Most recent articles</h2>"
        '<table id="recent"><thead><tr><th>published</th><th>title</th><th>source</th>'
        f'<th>sections</th><th class="n">attachments</th></tr></thead><tbody>{rows}</tbody>'
        "</table></section>"
    )


def render(data: ReportData, generated_at: datetime | None = None) -> str:
    """The report page for gathered figures."""
    generated_at = generated_at or datetime.now(UTC)
    with_site = len({s.site for s in data.sections}) > 1
    site = f" · site {data.site}" if data.site else ""
    title = "Chalco archive report"
    if not data.articles:
        body = '<section><p class="empty">No article in this range.</p></section>'
    else:
        body = "".join(
            [
                _figures(data),
                _per_month(data, with_site),
                _sources(data),
                _attachments(data, with_site),
                _section_table(data, with_site),
                _recent_table(data),
            ]
        )
    return (
        '<!DOCTYPE html>\n<html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<meta http-equiv="Content-Security-Policy" content="{CONTENT_SECURITY_POLICY}">'
        f"<title>{_e(title)}</title><style>{CSS}</style></head><body><main>"
        f"<h1>{_e(title)}</h1>"
        f'<p class="sub">{_e(_range_text(data))}{_e(site)} · generated '
        f"{_e(generated_at.isoformat(timespec='seconds'))}</p>"
        f"{body}</main></body></html>\n"
    )


def build_report(
    session: Session, since: date | None, until: date | None, site: str | None = None
) -> str:
    """One self-contained HTML page: headline figures, articles per month per section, top
    sources, attachments, and the most recent articles, for articles published in range."""
    return render(gather(session, since, until, site))


def _parse_day(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as error:
        raise click.BadParameter(
            f"{value!r} is not an ISO date (2025-01-31)", param_hint=option
        ) from error


@click.command()
@click.option(
    "--home",
    envvar=HOME_ENV,
    type=click.Path(file_okay=False, path_type=Path),
    help=f"Archive home directory [env {HOME_ENV}; default ~/.local/share/chalco-archive].",
)
@click.option("--output", "-o", required=True, help="HTML file to write, or - for stdout.")
@click.option("--since", help="Only articles published on or after this ISO date.")
@click.option("--until", help="Only articles published on or before this ISO date.")
@click.option("--site", help="Only articles of this site, e.g. chalco (see `sites`).")
def report(
    home: Path | None, output: str, since: str | None, until: str | None, site: str | None
) -> None:
    """Write a self-contained HTML report: charts of articles per month and section, top
    sources, attachments, and the most recent articles. Opens offline in any browser.

    \b
    Example:
      chalco-archive report --output chalco.html --since 2025-01-01
    """
    since_day = _parse_day(since, "--since")
    until_day = _parse_day(until, "--until")
    if since_day and until_day and since_day > until_day:
        raise click.BadParameter("--since is after --until")
    try:
        engine = open_reader(ArchiveHome.at(home))
        try:
            with session_factory(engine)() as session:
                data = gather(session, since_day, until_day, site)
        finally:
            engine.dispose()
    except ArchiveError as error:
        raise click.ClickException(str(error)) from error
    page = render(data)
    if output == "-":
        click.echo(page, nl=False)
        return
    Path(output).write_text(page, encoding="utf-8")
    click.echo(f"wrote a report of {data.articles} articles to {output}", err=True)
