"""What the crawler needs to know of the archive before it starts: which listed URLs are
already archived (incremental crawls) and what to revisit with which validators."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urljoin

from sqlalchemy import Row, and_, func, not_, or_, select
from sqlalchemy.orm import Session

from archive.store.db import open_reader, session_factory
from archive.store.home import ArchiveHome
from archive.store.models import (
    Article,
    ArticleVersion,
    Capture,
    CrawlRun,
    File,
    FleetFrontierEntry,
    Listing,
    VersionFile,
)
from archive.store.writer.fleet import WALK, unfinished_frontier
from archive.store.writer.listings import MAX_REDIRECT_HOPS, REDIRECT_STATUSES

# Statuses after which a listed URL needs no fetch in an incremental crawl: it is missing
# (a revisit re-checks those), or it redirected to an archived article.
MISSING_STATUSES = (404, 410)


@dataclass(frozen=True)
class ArchivedUrl:
    """An archived URL and the validators of its newest good capture."""

    url: str
    kind: str
    """article | attachment | image"""
    etag: str | None
    last_modified: str | None


def known_listed_urls(session: Session, site: str) -> set[str]:
    """URLs a list page may link that an incremental crawl need not fetch again."""
    known = set(session.scalars(select(Article.url).where(Article.site == site)))
    known |= set(session.scalars(select(Capture.url).where(Capture.status.in_(MISSING_STATUSES))))
    redirects: dict[str, str] = {
        url: location
        for url, location in session.execute(
            select(Capture.url, Capture.location)
            .where(Capture.status.in_(REDIRECT_STATUSES), Capture.location.is_not(None))
            .order_by(Capture.id)  # the newest answer of a URL wins
        )
        if location
    }
    # A redirect settles its URL only once what it leads to is archived: a crawl stopped
    # between the redirect and its target leaves the target for the next crawl to fetch.
    return known | {url for url in redirects if _lands_in(url, redirects, known)}


@dataclass(frozen=True)
class UnarchivedListing:
    """A link a list page showed that no crawl has archived yet (it failed, or a crawl
    stopped before it)."""

    url: str
    section: str
    list_url: str


def unarchived_listings(session: Session, site: str, known: set[str]) -> list[UnarchivedListing]:
    """Listed links of the site not in `known` (known_listed_urls): an incremental crawl
    requests them again even when its walk stops before the list page that shows them, or
    an article that failed once on page 2 would wait for a --full crawl."""
    rows = session.execute(
        select(Listing.article_url, Listing.section, Listing.list_url)
        .where(Listing.site == site)
        .order_by(Listing.id)
    )
    wanted: dict[str, UnarchivedListing] = {}
    for url, section, list_url in rows:
        if url not in known and url not in wanted:
            wanted[url] = UnarchivedListing(url, section, list_url)
    return list(wanted.values())


def _lands_in(url: str, redirects: dict[str, str], known: set[str]) -> bool:
    for _hop in range(MAX_REDIRECT_HOPS):
        url = urljoin(url, redirects[url])
        if url in known:
            return True
        if url not in redirects:
            return False
    return False


# A run whose walk ran to its end (the site unreachable: it took nothing from anyone).
WALK_ENDED = ('"close_reason": "finished"', '"close_reason": "site_unreachable"')


def interrupted_walk(session: Session, site: str, fleet_run: int | None = None) -> bool:
    """Was a crawl of the site cut short with no crawl started since then finished?

    A crawl killed, stopped by a signal or by a full disk (or such a worker of a
    distributed crawl) may have taken list pages or articles that nobody fetched; so may a
    fleet run that left a list page of its walk unfinished (its frontier says so, whatever
    its workers said). An incremental crawl then walks every list page, once. `fleet_run`
    is the asking worker's own fleet run, which is not an earlier crawl.
    """
    of_site = or_(
        CrawlRun.site == site,
        CrawlRun.site.like(f"{site},%"),
        CrawlRun.site.like(f"%,{site}"),
        CrawlRun.site.like(f"%,{site},%"),
    )
    ended = or_(*[CrawlRun.summary_json.contains(marker) for marker in WALK_ENDED])
    cut_short = or_(
        CrawlRun.status == "interrupted",
        and_(CrawlRun.status.in_(("partial", "failed")), not_(ended)),
    )
    found = session.scalar(select(func.max(CrawlRun.finished_at)).where(of_site, cut_short))
    unfinished_walk = _unfinished_fleet_walk(session, of_site, fleet_run)
    if unfinished_walk is not None and (found is None or unfinished_walk > found):
        found = unfinished_walk
    if found is None:
        return False
    walked = session.scalar(
        select(func.max(CrawlRun.started_at)).where(
            of_site, CrawlRun.status.in_(("ok", "partial")), CrawlRun.mode != "revisit", ended
        )
    )
    return walked is None or walked < found


def _unfinished_fleet_walk(
    session: Session, of_site: Any, fleet_run: int | None
) -> datetime | None:
    """When the last fleet run of the site that left a request of its walk unfinished was
    last seen working (its frontier's newest row), or None."""
    fleet_runs = select(CrawlRun.fleet_run_id).where(of_site, CrawlRun.fleet_run_id.is_not(None))
    if fleet_run is not None:
        fleet_runs = fleet_runs.where(CrawlRun.fleet_run_id != fleet_run)
    walk = unfinished_frontier(fleet_runs, kind=WALK).order_by(None).subquery()
    unfinished = session.scalars(select(walk.c.fleet_run_id).distinct()).all()
    if not unfinished:
        return None
    return session.scalar(
        select(func.max(FleetFrontierEntry.at)).where(
            FleetFrontierEntry.fleet_run_id.in_(unfinished)
        )
    )


def last_robots_txt(session: Session, home: ArchiveHome, base_url: str) -> str | None:
    """The text of the newest robots.txt archived for this site, if any."""
    from archive.errors import ArchiveError
    from archive.read.captures import get_snapshot

    try:
        snapshot = get_snapshot(session, home, base_url.rstrip("/") + "/robots.txt")
    except ArchiveError:
        return None
    return snapshot.content.decode("utf-8", "replace")


def _validators(session: Session, urls: list[str]) -> dict[str, tuple[str | None, str | None]]:
    newest = (
        select(Capture.url, func.max(Capture.id).label("id"))
        .where(Capture.url.in_(urls), Capture.status == 200)
        .group_by(Capture.url)
        .subquery()
    )
    rows = session.execute(
        select(Capture.url, Capture.etag, Capture.last_modified).join(
            newest, newest.c.id == Capture.id
        )
    )
    return {url: (etag, last_modified) for url, etag, last_modified in rows}


def revisit_targets(
    session: Session, site: str, seen_since: datetime | None = None
) -> list[ArchivedUrl]:
    """Every live article of the site and the files its versions name, newest first.

    `seen_since` keeps the articles seen or published since then (a daily revisit's window).
    """
    query = select(Article.id, Article.url).where(Article.site == site, Article.status == "live")
    if seen_since is not None:
        published_since = select(ArticleVersion.article_id).where(
            ArticleVersion.published >= seen_since.date().isoformat()
        )
        query = query.where(
            or_(Article.last_seen_at >= seen_since, Article.id.in_(published_since))
        )
    articles = session.execute(query.order_by(Article.id.desc())).all()
    files = _files_of(session, [row.id for row in articles])
    # A file's captures are under the URL as sent (percent-encoded), which may differ from
    # the URL as the page named it.
    urls = [row.url for row in articles] + [row.fetched_url for row in files]
    validators: dict[str, tuple[str | None, str | None]] = {}
    for start in range(0, len(urls), 500):
        validators.update(_validators(session, urls[start : start + 500]))
    targets = [
        ArchivedUrl(row.url, "article", *validators.get(row.url, (None, None))) for row in articles
    ]
    targets += [
        ArchivedUrl(row.url, row.kind, *validators.get(row.fetched_url, (None, None)))
        for row in files
    ]
    return targets


def _files_of(session: Session, article_ids: list[int]) -> list[Row[str, str, str]]:
    """The fetched files named by any version of these articles: URL, kind, and the URL
    its first capture was fetched as."""
    files: list[Row[str, str, str]] = []
    for start in range(0, len(article_ids), 500):
        chunk = article_ids[start : start + 500]
        files += session.execute(
            select(File.url, File.kind, Capture.url.label("fetched_url"))
            .join(Capture, Capture.id == File.capture_id)
            .join(VersionFile, VersionFile.file_id == File.id)
            .join(ArticleVersion, ArticleVersion.id == VersionFile.version_id)
            .where(ArticleVersion.article_id.in_(chunk), File.sha256.is_not(None))
            .distinct()
        ).all()
    return files


def open_frontier_session(home: ArchiveHome) -> Session | None:
    """A read-only session on the home's archive, or None when there is no archive yet."""
    if not home.exists():
        return None
    return session_factory(open_reader(home))()
