"""The report page: one self-contained HTML document (inline CSS and SVG, no script, no font,
no image fetched from anywhere) rendered from gathered figures. Archived text is escaped,
and only http(s) URLs become links (archive.safe_text)."""

from __future__ import annotations

from datetime import UTC, datetime

from archive.read.report_charts import (
    ATTACHMENT_COLOUR,
    BAR_COLOUR,
    OTHER_COLOUR,
    PALETTE,
    Series,
    horizontal_bars,
    stacked_bars,
)
from archive.read.report_data import ReportData, SectionStats
from archive.safe_text import html_text, safe_href

# Months shown one bar each; a longer range also gets a chart per year.
MONTHS_SHOWN = 24
# Sections drawn in their own colour; the rest share the grey "other" series.
SECTIONS_COLOURED = 9

# Should archived text ever slip through unescaped, the browser still runs no script and
# fetches nothing: only the page's own inline styles are allowed.
CONTENT_SECURITY_POLICY = "default-src 'none'; style-src 'unsafe-inline'"

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


# Escaped markup, and bidi and control characters shown as escapes (archive.safe_text).
_e = html_text


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
