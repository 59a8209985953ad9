"""The archive's read side: export records, one article, a capture's bytes, counts."""

from __future__ import annotations

import difflib
import json
import re
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import false, func, or_, select
from sqlalchemy.orm import Session, joinedload

from archive.errors import (
    ArticleNotFound,
    ContentOversize,
    ContentUndecodable,
    SnapshotCorrupt,
    SnapshotNotFound,
)
from archive.store.decoding import DEFAULT_MAX_DECODED, decode_content
from archive.store.home import ArchiveHome
from archive.store.models import (
    Article,
    ArticleVersion,
    Capture,
    CrawlRun,
    Listing,
    VersionCapture,
    VersionFile,
    WarcFile,
)
from archive.store.warcstore import StoredResponse, read_record, sha256_hex

EXPORT_BATCH = 500

# The JSON Lines export contract, in order; CSV uses the same columns.
EXPORT_FIELDS = (
    "url",
    "site",
    "sections",
    "title",
    "source",
    "author",
    "published",
    "body",
    "attachments",
    "images",
    "snapshot",
    "version",
    "status",
    "first_seen",
    "last_seen",
)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _latest_version_ids(session: Session) -> Any:
    return (
        select(ArticleVersion.article_id, func.max(ArticleVersion.number).label("number"))
        .group_by(ArticleVersion.article_id)
        .subquery()
    )


def _sections_by_url(session: Session, urls: Sequence[str]) -> dict[str, list[str]]:
    sections: dict[str, list[str]] = defaultdict(list)
    rows = session.execute(
        select(Listing.article_url, Listing.section)
        .where(Listing.article_url.in_(urls))
        .order_by(Listing.article_url, Listing.section)
    )
    for url, section in rows:
        sections[url].append(section)
    return sections


def _files_by_version(session: Session, version_ids: Sequence[int]) -> dict[int, list[Any]]:
    """(role, name, the file as the version names it: url, sha256, size, media_type)."""
    files: dict[int, list[Any]] = defaultdict(list)
    rows = session.scalars(
        select(VersionFile)
        .options(joinedload(VersionFile.file), joinedload(VersionFile.capture))
        .where(VersionFile.version_id.in_(version_ids))
        .order_by(VersionFile.version_id, VersionFile.position)
    )
    for named in rows:
        files[named.version_id].append((named.role, named.name, named))
    return files


def _snapshots_by_version(session: Session, version_ids: Sequence[int]) -> dict[int, Capture]:
    """The newest capture behind each version."""
    newest = (
        select(VersionCapture.version_id, func.max(VersionCapture.capture_id).label("capture_id"))
        .where(VersionCapture.version_id.in_(version_ids))
        .group_by(VersionCapture.version_id)
        .subquery()
    )
    rows = session.execute(
        select(newest.c.version_id, Capture).join(Capture, Capture.id == newest.c.capture_id)
    )
    return {version_id: capture for version_id, capture in rows}


def article_record(
    article: Article,
    version: ArticleVersion,
    sections: list[str],
    files: list[Any],
    snapshot: Capture | None,
) -> dict[str, Any]:
    """One article as the export contract names its fields."""
    return {
        "url": article.url,
        "site": article.site,
        "sections": sections,
        "title": version.title,
        "source": version.source,
        "author": version.author,
        "published": version.published,
        "body": version.body,
        "attachments": [
            {
                "url": f.url,
                "name": name,
                "sha256": f.sha256,
                "size": f.size,
                "media_type": f.media_type,
            }
            for role, name, f in files
            if role == "attachment"
        ],
        "images": [
            {"url": f.url, "sha256": f.sha256} for role, _name, f in files if role == "image"
        ],
        "snapshot": {
            "sha256": snapshot.content_sha256 if snapshot else None,
            "fetched_at": _iso(snapshot.fetched_at) if snapshot else None,
        },
        "version": version.number,
        "status": article.status,
        "first_seen": _iso(article.first_seen_at),
        "last_seen": _iso(article.last_seen_at),
    }


def iter_articles(
    session: Session,
    *,
    section: str | None = None,
    site: str | None = None,
    since: str | None = None,
    until: str | None = None,
    source: str | None = None,
) -> Iterator[dict[str, Any]]:
    """Every article's latest version as an export record, streamed in batches."""
    latest = _latest_version_ids(session)
    query = (
        select(Article, ArticleVersion)
        .join(latest, latest.c.article_id == Article.id)
        .join(
            ArticleVersion,
            (ArticleVersion.article_id == Article.id) & (ArticleVersion.number == latest.c.number),
        )
        .order_by(Article.id)
    )
    if section:
        query = query.where(
            Article.url.in_(
                select(Listing.article_url).where(Listing.section == section.strip("/"))
            )
        )
    if site:
        query = query.where(Article.site == site)
    if source:
        query = query.where(ArticleVersion.source == source)
    # The same date filters as search: a year, a month or a day, inclusive, on `published`.
    if since:
        query = query.where(ArticleVersion.published >= since)
    if until:
        query = query.where(func.substr(ArticleVersion.published, 1, len(until)) <= until)
    last_id = 0
    while True:
        batch = session.execute(query.where(Article.id > last_id).limit(EXPORT_BATCH)).all()
        if not batch:
            return
        urls = [article.url for article, _ in batch]
        version_ids = [version.id for _, version in batch]
        sections = _sections_by_url(session, urls)
        files = _files_by_version(session, version_ids)
        snapshots = _snapshots_by_version(session, version_ids)
        for article, version in batch:
            yield article_record(
                article,
                version,
                sections.get(article.url, []),
                files.get(version.id, []),
                snapshots.get(version.id),
            )
        last_id = batch[-1][0].id
        session.expunge_all()  # keep memory flat on large archives


@dataclass
class ArticleView:
    record: dict[str, Any]
    versions: list[ArticleVersion]
    problems: list[str]
    source_raw: str | None
    published_raw: str | None


def get_article(session: Session, url: str, version: int | None = None) -> ArticleView:
    """An article with its latest version, or with version number `version`."""
    article = session.scalar(select(Article).where(Article.url == url))
    if article is None:
        raise ArticleNotFound(f"no archived article at {url}")
    versions = list(article.versions)
    if version is None:
        shown = versions[-1]
    else:
        matching = [v for v in versions if v.number == version]
        if not matching:
            raise ArticleNotFound(f"{url} has versions 1 to {len(versions)}, not {version}")
        shown = matching[0]
    record = article_record(
        article,
        shown,
        _sections_by_url(session, [url]).get(url, []),
        _files_by_version(session, [shown.id]).get(shown.id, []),
        _snapshots_by_version(session, [shown.id]).get(shown.id),
    )
    return ArticleView(
        record=record,
        versions=versions,
        problems=json.loads(shown.problems_json),
        source_raw=shown.source_raw,
        published_raw=shown.published_raw,
    )


def version_history(session: Session, url: str) -> list[dict[str, Any]]:
    """Every version of an article with the captures behind it, oldest first."""
    view = get_article(session, url)
    rows = []
    for version in view.versions:
        captures = session.execute(
            select(Capture.id, Capture.fetched_at, Capture.status, Capture.record_type)
            .join(VersionCapture, VersionCapture.capture_id == Capture.id)
            .where(VersionCapture.version_id == version.id)
            .order_by(Capture.fetched_at)
        ).all()
        rows.append(
            {
                "url": url,
                "version": version.number,
                "cause": version.cause,
                "extractor_version": version.extractor_version,
                "content_sha256": version.content_sha256,
                "title": version.title,
                "first_seen": _iso(version.first_seen_at),
                "last_seen": _iso(version.last_seen_at),
                "captures": [
                    {
                        "id": c.id,
                        "fetched_at": _iso(c.fetched_at),
                        "status": c.status,
                        "record_type": c.record_type,
                    }
                    for c in captures
                ],
            }
        )
    return rows


def version_text(version: ArticleVersion) -> list[str]:
    """A version as lines of text, for diffs: the fields a reader sees, the body, then the
    files it names with their digests (an attachment replaced at its URL shows here)."""
    head = [
        f"标题：{version.title or ''}",
        f"来源：{version.source or ''}",
        f"时间：{version.published or ''}",
        f"作者：{version.author or ''}",
        "",
    ]
    label = {"attachment": "附件", "image": "图片"}
    files = [
        f"{label.get(named.role, named.role)}：{named.name or ''} {named.url}"
        f" sha256={named.sha256 or '(not fetched)'}"
        for named in version.files
    ]
    return head + (version.body or "").split("\n") + ([""] + files if files else [])


def _cause(version: ArticleVersion) -> str:
    """Why a version exists, and which extraction read it when known: `reextract, extractor
    0.1.0+1a2b3c4d.5e6f7a8b`."""
    if version.extractor_version is None:
        return version.cause
    return f"{version.cause}, extractor {version.extractor_version}"


def diff_versions(session: Session, url: str, old: int | None, new: int | None) -> list[str]:
    """A unified diff of two versions' text (default: the last two)."""
    versions = get_article(session, url).versions
    numbers = [v.number for v in versions]
    new = new if new is not None else numbers[-1]
    old = old if old is not None else max(1, new - 1)
    by_number = {v.number: v for v in versions}
    for number in (old, new):
        if number not in by_number:
            raise ArticleNotFound(f"{url} has versions 1 to {numbers[-1]}, not {number}")
    return list(
        difflib.unified_diff(
            version_text(by_number[old]),
            version_text(by_number[new]),
            fromfile=f"{url} version {old} ({_cause(by_number[old])})",
            tofile=f"{url} version {new} ({_cause(by_number[new])})",
            lineterm="",
        )
    )


def list_runs(session: Session, limit: int = 20) -> list[dict[str, Any]]:
    """The newest crawl runs, newest first, with their counts."""
    rows = []
    for run in session.scalars(select(CrawlRun).order_by(CrawlRun.id.desc()).limit(limit)):
        summary = json.loads(run.summary_json) if run.summary_json else {}
        rows.append(
            {
                "id": run.id,
                "mode": run.mode,
                "status": run.status,
                "exit_code": run.exit_code,
                "started_at": _iso(run.started_at),
                "finished_at": _iso(run.finished_at),
                "new": summary.get("new"),
                "updated": summary.get("updated"),
                "unchanged": summary.get("unchanged"),
                "gone": summary.get("gone"),
                "failed": summary.get("failed"),
                # Links answering 404/410 (older runs counted them among the failures).
                "dead": summary.get("dead"),
                "dead_links": [d["url"] for d in summary.get("dead_links", [])] or None,
                "oversize": len(summary.get("oversize", [])) if "oversize" in summary else None,
                "base_url": run.base_url,
                "worker": run.worker,
            }
        )
    return rows


@dataclass
class Snapshot:
    """A capture's response as received: `content` is the payload after content decoding."""

    capture: Capture
    response: StoredResponse
    content: bytes
    origin: StoredResponse | None = None
    """For a 304: the earlier response whose body it confirmed (its status and headers
    describe `content`)."""


def _read(home: ArchiveHome, capture: Capture, warc_name: str) -> StoredResponse:
    return read_record(home.warc_dir / warc_name, capture.offset, capture.length)


def get_snapshot(
    session: Session,
    home: ArchiveHome,
    url: str,
    at: datetime | None = None,
    max_decoded: int | None = None,
) -> Snapshot:
    """The newest successful capture of `url` at or before `at` (default: the newest).

    Its content is decoded up to `max_decoded` bytes (default DEFAULT_MAX_DECODED, the
    crawl's): more raises ContentOversize, and so does a capture the crawl flagged oversize,
    unless a limit is given. A payload whose coding cannot be undone is given as stored,
    as the crawl digested it."""
    query = (
        select(Capture, WarcFile.name)
        .join(WarcFile, WarcFile.id == Capture.warc_file_id)
        # A 304 to a conditional request confirms the content it refers to at its time.
        .where(Capture.url == url, Capture.status.in_((200, 304)))
        .order_by(Capture.fetched_at.desc(), Capture.id.desc())
        .limit(1)
    )
    if at is not None:
        query = query.where(Capture.fetched_at <= at)
    row = session.execute(query).first()
    _check_not_gone(session, url, at, row[0] if row else None)
    if row is None:
        when = f" at or before {at.isoformat()}" if at else ""
        raise SnapshotNotFound(f"no capture of {url}{when}")
    capture, warc_name = row
    response = _read(home, capture, warc_name)
    holder, holder_response = capture, response
    if capture.record_type == "revisit":
        if capture.refers_to_id is None:
            raise SnapshotCorrupt(f"revisit capture {capture.id} of {url} names no original")
        original = session.get(Capture, capture.refers_to_id)
        assert original is not None
        holder = original
        holder_response = _read(home, original, original.warc_file.name)
    if sha256_hex(holder_response.payload) != holder.payload_sha256:
        raise SnapshotCorrupt(f"payload of capture {holder.id} does not match its SHA-256")
    encoding = next(
        (v for k, v in holder_response.headers if k.lower() == "content-encoding"), None
    )
    limit = DEFAULT_MAX_DECODED if max_decoded is None else max_decoded
    where = (
        f"the bytes as received are in {holder.warc_file.name} at offset {holder.offset}"
        " (warcio extract)"
    )
    if holder.oversize and max_decoded is None:
        raise ContentOversize(
            f"{url} as captured on {holder.fetched_at.isoformat()} is flagged oversize: it"
            f" decodes ({encoding}) past the crawl's size limit and is not inflated; {where}",
            limit,
        )
    try:
        content = decode_content(holder_response.payload, encoding, limit)
    except ContentOversize as error:
        raise ContentOversize(
            f"{url} as captured on {holder.fetched_at.isoformat()} {error}; {where}", limit
        ) from error
    except ContentUndecodable:
        content = holder_response.payload
    origin = holder_response if capture.status == 304 else None
    return Snapshot(capture=capture, response=response, content=content, origin=origin)


def _check_not_gone(session: Session, url: str, at: datetime | None, page: Capture | None) -> None:
    """A page the site had removed by then (404 or 410 captured after the page's last
    capture) is not silently given as in effect: say what the site answered, and when the
    page was last captured."""
    query = (
        select(Capture)
        .where(Capture.url == url, Capture.status.in_((404, 410)))
        .order_by(Capture.fetched_at.desc(), Capture.id.desc())
        .limit(1)
    )
    if at is not None:
        query = query.where(Capture.fetched_at <= at)
    gone = session.scalar(query)
    if gone is None or (page is not None and page.fetched_at > gone.fetched_at):
        return
    answered = f"the site answered {gone.status} for {url} on {gone.fetched_at.isoformat()}"
    if page is None:
        raise SnapshotNotFound(f"no page captured: {answered}")
    raise SnapshotNotFound(
        f"{answered}; the page was last captured on {page.fetched_at.isoformat()}"
        f" (--at {page.fetched_at.isoformat()} gives it)"
    )


def section_month_counts(session: Session, site: str | None = None) -> list[dict[str, Any]]:
    """Articles per site, section and month of publication (latest versions)."""
    latest = _latest_version_ids(session)
    month = func.substr(ArticleVersion.published, 1, 7)
    query = (
        select(
            Article.site,
            Listing.section,
            month.label("month"),
            func.count(func.distinct(Article.id)),
        )
        .join(Article, Article.url == Listing.article_url)
        .join(latest, latest.c.article_id == Article.id)
        .join(
            ArticleVersion,
            (ArticleVersion.article_id == Article.id) & (ArticleVersion.number == latest.c.number),
        )
        .group_by(Article.site, Listing.section, month)
        .order_by(Article.site, Listing.section, month.desc())
    )
    if site:
        query = query.where(Article.site == site)
    return [
        {"site": site_name, "section": s, "month": m, "articles": n}
        for site_name, s, m, n in session.execute(query)
    ]


STORY_NOISE = re.compile(r"[\s\W_]+", re.UNICODE)


def story_text(title: str | None, body: str | None) -> str:
    """Title and body with whitespace and punctuation removed: what two republications of one
    story share even when their templates differ."""
    return STORY_NOISE.sub("", f"{title or ''}{body or ''}")


def same_story(session: Session, url: str) -> list[dict[str, Any]]:
    """Other articles (another site of the group, or another URL of the same site) that carry
    the same story: the same docid, or the same title and body once whitespace and
    punctuation are set aside."""
    view = get_article(session, url)
    latest = view.versions[-1]
    article = latest.article
    latest_ids = _latest_version_ids(session)
    candidates = session.execute(
        select(Article, ArticleVersion)
        .join(latest_ids, latest_ids.c.article_id == Article.id)
        .join(
            ArticleVersion,
            (ArticleVersion.article_id == Article.id)
            & (ArticleVersion.number == latest_ids.c.number),
        )
        .where(
            Article.id != article.id,
            or_(
                ArticleVersion.title == latest.title,
                Article.docid == article.docid if article.docid is not None else false(),
            ),
        )
    ).all()
    mine = story_text(latest.title, latest.body)
    return [
        {
            "url": other.url,
            "site": other.site,
            "docid": other.docid,
            "same_docid": other.docid is not None and other.docid == article.docid,
        }
        for other, version in candidates
        if story_text(version.title, version.body) == mine
        or (other.docid is not None and other.docid == article.docid)
    ]


def captures(session: Session, url: str) -> list[dict[str, Any]]:
    """Every capture of a URL, oldest first, with where its record is."""
    rows = session.execute(
        select(Capture, WarcFile.name)
        .join(WarcFile, WarcFile.id == Capture.warc_file_id)
        .where(Capture.url == url)
        .order_by(Capture.fetched_at, Capture.id)
    )
    return [
        {
            "url": capture.url,
            "fetched_at": _iso(capture.fetched_at),
            "status": capture.status,
            "record_type": capture.record_type,
            "record_id": capture.record_id,
            "payload_sha256": capture.payload_sha256,
            "content_sha256": capture.content_sha256,
            "content_size": capture.content_size,
            "oversize": capture.oversize,
            "warc_file": name,
            "offset": capture.offset,
            "length": capture.length,
            "refers_to_id": capture.refers_to_id,
        }
        for capture, name in rows
    ]
