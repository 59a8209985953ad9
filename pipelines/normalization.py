"""Normalization: an Extraction's text as seen on the page turned into clean, typed values."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from chalco_crawler.items import ArticlePageItem, Extraction, NormalizedArticle

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

DEFAULT_TIMEZONE = "Asia/Shanghai"

_ZERO_WIDTH = re.compile("[\u200b-\u200d\ufeff]")
# Python's \s covers ASCII whitespace, U+3000 (ideographic space) and U+00A0 (&nbsp;).
_WS = re.compile(r"\s+")
_LINE_BREAK = re.compile(r"\r\n|\r|\n|\u2028|\u2029")

# 2026-02-03, 2026/2/3, 2026.2.3, 2026年2月3日; then maybe 15:27, 15:27:51, 15时27分51秒.
_DATE_TIME = re.compile(
    r"(?P<year>\d{4})\s*[-/.年]\s*(?P<month>\d{1,2})\s*[-/.月]\s*(?P<day>\d{1,2})\s*日?"
    r"\s*T?\s*"
    r"(?:(?P<hour>\d{1,2})\s*[:：时]\s*(?P<minute>\d{1,2})"
    r"(?:\s*[:：分]\s*(?P<second>\d{1,2})(?:\.\d+)?\s*秒?)?\s*分?)?"
)
# 20260203, as some CMS meta dates are written; only when nothing else matched.
_COMPACT_DATE = re.compile(r"(?<!\d)(?P<year>\d{4})(?P<month>\d{2})(?P<day>\d{2})(?!\d)")


def clean_whitespace(text: str) -> str:
    """One paragraph per line: lines stripped, whitespace runs made one space, no empty lines."""
    lines = (_WS.sub(" ", _ZERO_WIDTH.sub("", line)).strip() for line in _LINE_BREAK.split(text))
    return "\n".join(line for line in lines if line)


# What clean_whitespace would change; extraction's lines (text.clean_line) have none of it.
_UNCLEAN = re.compile(r"[\u200b-\u200d\ufeff]|[^\S \n]|\s\s|^\s|\s\Z")
LARGE_BODY = 1024 * 1024


def _clean_body(text: str | None) -> str | None:
    """The body cleaned; a large body that is clean already is kept as it is, not copied
    (a 50 MB paragraph is held by the extraction and the article both)."""
    if not text:
        return None
    if len(text) > LARGE_BODY and _UNCLEAN.search(text) is None:
        return text
    return clean_whitespace(text)


def _zone(timezone: str) -> ZoneInfo:
    try:
        return ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_TIMEZONE)


def parse_published(raw: str | None, timezone: str = DEFAULT_TIMEZONE) -> str | None:
    """The first date (and clock time) in `raw` as ISO 8601; None when absent or invalid.

    A date alone stays a date: the page does not say when in the day, and inventing midnight
    in some zone would shift it across the date line when converted.
    """
    if not raw:
        return None
    text = _ZERO_WIDTH.sub("", raw)
    match = _DATE_TIME.search(text) or _COMPACT_DATE.search(text)
    if match is None:
        return None
    parts = match.groupdict()
    try:
        day = date(int(parts["year"]), int(parts["month"]), int(parts["day"]))
        if not parts.get("hour"):
            return day.isoformat()
        moment = datetime(
            day.year,
            day.month,
            day.day,
            int(parts["hour"]),
            int(parts["minute"]),
            int(parts["second"] or 0),
            tzinfo=_zone(timezone),
        )
    except ValueError:
        return None
    return moment.isoformat()


def _optional(text: str | None) -> str | None:
    if text is None:
        return None
    return clean_whitespace(text).replace("\n", " ") or None


def normalize(extraction: Extraction, timezone: str = DEFAULT_TIMEZONE) -> NormalizedArticle:
    """Clean and type the extracted fields; what cannot be read is None with a problem added."""
    problems = list(extraction.problems)
    published = parse_published(extraction.published_raw, timezone)
    if extraction.published_raw and published is None:
        problems.append(f"publication time not recognised: {extraction.published_raw!r}")
    elif extraction.published_raw is None and extraction.meta.get("PubDate"):
        # The displayed date is the publication date; the CMS's PubDate is the next best thing
        # for a page that shows none, and the problem says where it came from.
        published = parse_published(extraction.meta["PubDate"], timezone)
        if published is not None:
            problems.append("publication time taken from meta PubDate (none shown on the page)")
    body = _clean_body(extraction.body_text)
    return NormalizedArticle(
        title=_optional(extraction.title),
        source=_optional(extraction.source_raw),
        author=_optional(extraction.author_raw),
        published=published,
        published_raw=extraction.published_raw,
        source_raw=extraction.source_raw,
        author_raw=extraction.author_raw,
        body=body or None,
        body_html=extraction.body_html,
        attachments=list(extraction.attachments),
        images=list(extraction.images),
        problems=problems,
    )


class NormalizationPipeline:
    """Pipeline stage 2: typed, cleaned fields beside the raw ones, in the site's time zone."""

    def __init__(self, crawler: Crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> NormalizationPipeline:
        return cls(crawler)

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, ArticlePageItem) or item.extraction is None:
            return item
        profile = self.crawler.spider.profile_for(item.site)  # type: ignore[union-attr]
        item.article = normalize(item.extraction, profile.timezone)
        return item
