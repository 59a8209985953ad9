"""Reading the archived article pages again with the current extraction (`reextract`).

Each article's latest version stands for a snapshot: the newest capture of the page that
showed it. That snapshot is read back from its WARC record (no network), extracted and
normalized as a crawl would, and where any field comes out otherwise the article gets a new
version with cause `reextract`; the older versions stay as they are. A version that this
same extraction read from the same bytes is not read again: extraction is a pure function of
them (pipelines.content.extractor_version names it), so the answer is known.

Each new version is written with its search entry, its ledger entries and the files it names
in one transaction, committed in batches: a killed run loses at most the last batch, and the
next run finds those articles still different and writes them then. A second run finds
nothing different and writes nothing.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Table, func, inspect, literal, select

from archive.errors import SnapshotCorrupt
from archive.store.home import ArchiveHome
from archive.store.models import File, VersionCapture, VersionFile
from archive.store.record_reader import read_payload
from archive.store.tables import ARTICLES, CAPTURES, VERSIONS, WARC_FILES
from archive.store.version_texts import (
    HUGE_COLUMNS,
    equals_beside,
    is_huge,
    kept_beside,
    read_beside,
)
from archive.store.warcstore import decode_content
from archive.store.writer import ArchiveWriter
from archive.store.writer.values import ArticleContent, FileLink, Reading
from chalco_crawler.profile import SiteProfile
from pipelines.content import archive_content, extractor_version, named_links
from pipelines.extraction import PageBytes, extract_article
from pipelines.normalization import normalize

VERSION_CAPTURES: Table = VersionCapture.__table__  # type: ignore[assignment]
VERSION_FILES: Table = VersionFile.__table__  # type: ignore[assignment]
FILES: Table = File.__table__  # type: ignore[assignment]

# The fields compared, reader-visible first: the order of the dry run's table.
FIELDS = (
    "title",
    "source",
    "author",
    "published",
    "body",
    "files",
    "source_raw",
    "author_raw",
    "published_raw",
    "info_raw",
    "body_html",
    "meta",
    "encoding",
    "template",
    "problems",
)
CHUNK = 200
"""Versions whose stored fields are read at once."""
EXAMPLE_CHARS = 80


@dataclass(frozen=True)
class Candidate:
    """An article's latest version and the snapshot it stands for."""

    version_id: int
    url: str
    site: str
    snapshot_id: int
    fetched_at: datetime
    media_type: str | None
    warc_name: str
    offset: int
    length: int
    payload_sha256: str
    known: bool
    """Read by this same extraction from these same bytes: nothing to do."""


@dataclass
class ReextractSummary:
    """What a run did (or, dry, would do)."""

    dry_run: bool
    considered: int = 0
    """Latest versions selected (by site and --since)."""
    read: int = 0
    """Snapshots read and extracted again."""
    known: int = 0
    """Skipped: this extraction made them from the same bytes."""
    changed: int = 0
    """Snapshots whose fields came out otherwise (written as new versions unless dry)."""
    written: int = 0
    fields: Counter[str] = field(default_factory=Counter)
    """Field name → articles in which it changed."""
    examples: dict[str, list[dict[str, str]]] = field(default_factory=dict)
    """Field name → a few {url, old, new}, shortened."""
    new_files: set[str] = field(default_factory=set)
    """Files the new readings name that the archive never fetched (no network here)."""
    failures: list[dict[str, str]] = field(default_factory=list)
    """{url, reason} of snapshots that could not be read."""
    extractors: dict[str, str] = field(default_factory=dict)
    """Site → the extractor version used."""
    seconds: float = 0.0
    cpu_seconds: float = 0.0
    """Wall and CPU time of the pass over the pages (this process's CPU)."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "considered": self.considered,
            "read": self.read,
            "known": self.known,
            "changed": self.changed,
            "written": self.written,
            "fields": {name: self.fields[name] for name in FIELDS if self.fields[name]},
            "examples": self.examples,
            "new_files": sorted(self.new_files),
            "failures": self.failures,
            "extractors": self.extractors,
            "seconds": round(self.seconds, 3),
            "cpu_seconds": round(self.cpu_seconds, 3),
        }


def _has_extractor_column(connection: Connection) -> bool:
    """An archive not yet migrated to 0014 (a dry run does not migrate) has no versions'
    extractor to compare with."""
    columns = inspect(connection).get_columns("article_versions")
    return any(column["name"] == "extractor_version" for column in columns)


def candidates(
    connection: Connection,
    versions: dict[str, str],
    since: datetime | None = None,
) -> list[Candidate]:
    """The latest version of every article of the sites in `versions` (site → extractor
    version), with its snapshot, in the order their records lie in the WARC files."""
    snapshot = CAPTURES.alias("snapshot")
    holder = CAPTURES.alias("holder")
    read = CAPTURES.alias("read")
    newest = (
        select(func.max(VERSION_CAPTURES.c.capture_id))
        .where(VERSION_CAPTURES.c.version_id == VERSIONS.c.id)
        .scalar_subquery()
    )
    made_by = (
        VERSIONS.c.extractor_version
        if _has_extractor_column(connection)
        else literal(None).label("extractor_version")
    )
    query = (
        select(
            VERSIONS.c.id,
            ARTICLES.c.url,
            ARTICLES.c.site,
            made_by,
            read.c.content_sha256.label("read_sha256"),
            read.c.media_type.label("read_type"),
            snapshot.c.id.label("snapshot_id"),
            snapshot.c.fetched_at,
            snapshot.c.media_type,
            snapshot.c.content_sha256,
            holder.c.offset,
            holder.c.length,
            holder.c.payload_sha256,
            WARC_FILES.c.name,
        )
        .select_from(
            VERSIONS.join(ARTICLES, ARTICLES.c.id == VERSIONS.c.article_id)
            .join(read, read.c.id == VERSIONS.c.capture_id)
            # The newest capture the version was seen in; a 304 or a revisit record holds
            # no payload of its own, the capture it refers to does.
            .join(snapshot, snapshot.c.id == func.coalesce(newest, VERSIONS.c.capture_id))
            .join(holder, holder.c.id == func.coalesce(snapshot.c.refers_to_id, snapshot.c.id))
            .join(WARC_FILES, WARC_FILES.c.id == holder.c.warc_file_id)
        )
        .where(VERSIONS.c.is_latest, ARTICLES.c.site.in_(sorted(versions)))
        .order_by(holder.c.warc_file_id, holder.c.offset, VERSIONS.c.id)
    )
    if since is not None:
        query = query.where(snapshot.c.fetched_at >= since)
    return [
        Candidate(
            version_id=row.id,
            url=row.url,
            site=row.site,
            snapshot_id=row.snapshot_id,
            fetched_at=row.fetched_at,
            media_type=row.media_type,
            warc_name=row.name,
            offset=row.offset,
            length=row.length,
            payload_sha256=row.payload_sha256,
            known=row.extractor_version == versions[row.site]
            and (row.content_sha256, row.media_type) == (row.read_sha256, row.read_type),
        )
        for row in connection.execute(query)
    ]


def page_content(home: ArchiveHome, candidate: Candidate) -> bytes:
    """The snapshot's payload after content decoding, as the crawl handed it to extraction;
    checked against the SHA-256 of its capture."""
    headers, payload = read_payload(
        home.warc_dir / candidate.warc_name,
        candidate.offset,
        candidate.length,
        candidate.payload_sha256,
    )
    encoding = next((v for k, v in headers if k.lower() == "content-encoding"), None)
    try:
        return decode_content(payload, encoding)
    except (OSError, ValueError, EOFError):  # as the crawl: undecodable, the payload is it
        return payload


def read_page(
    content: bytes | PageBytes, candidate: Candidate, profile: SiteProfile, version: str
) -> ArticleContent:
    """The record the current extraction makes of the snapshot (the crawl's stages 1, 2)."""
    extraction = extract_article(
        content, candidate.url, content_type=candidate.media_type, rules=profile.extraction
    )
    article = normalize(extraction, profile.timezone)
    return archive_content(
        url=candidate.url,
        site=candidate.site,
        docid=None,  # the article's, which a version does not hold
        extraction=extraction,
        article=article,
        files=named_links(article),
        extractor_version=version,
    )


def _distinct_files(files: Sequence[FileLink]) -> list[list[str | None]]:
    """The files as a version stores them: each (URL, role) once, in order."""
    seen: set[tuple[str, str]] = set()
    named: list[list[str | None]] = []
    for link in files:
        if (link.url, link.role) not in seen:
            seen.add((link.url, link.role))
            named.append([link.role, link.url, link.name])
    return named


def fields_of(content: ArticleContent) -> dict[str, Any]:
    """A record's fields, as compared with a stored version's."""
    return {
        "title": content.title,
        "source": content.source,
        "author": content.author,
        "published": content.published,
        "body": content.body,
        "files": _distinct_files(content.files),
        "source_raw": content.source_raw,
        "author_raw": content.author_raw,
        "published_raw": content.published_raw,
        "info_raw": content.info_raw,
        "body_html": content.body_html,
        "meta": content.meta,
        "encoding": content.encoding,
        "template": content.template,
        "problems": content.problems,
    }


def _stored_fields(row: Any, files: list[list[str | None]]) -> dict[str, Any]:
    return {
        "title": row.title,
        "source": row.source,
        "author": row.author,
        "published": row.published,
        "body": row.body,
        "files": files,
        "source_raw": row.source_raw,
        "author_raw": row.author_raw,
        "published_raw": row.published_raw,
        "info_raw": row.info_raw,
        "body_html": row.body_html,
        "meta": json.loads(row.meta_json) if row.meta_json else {},
        "encoding": row.encoding,
        "template": row.template,
        "problems": json.loads(row.problems_json) if row.problems_json else [],
    }


def stored_fields(connection: Connection, version_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """The compared fields of these versions, by id."""
    names = [name for name in FIELDS if name not in ("files", "meta", "problems")]
    columns = [VERSIONS.c[name] for name in names]
    rows = connection.execute(
        select(VERSIONS.c.id, *columns, VERSIONS.c.meta_json, VERSIONS.c.problems_json).where(
            VERSIONS.c.id.in_(version_ids)
        )
    ).all()
    files: dict[int, list[list[str | None]]] = {version_id: [] for version_id in version_ids}
    for named in connection.execute(
        select(VERSION_FILES.c.version_id, VERSION_FILES.c.role, FILES.c.url, VERSION_FILES.c.name)
        .join(FILES, FILES.c.id == VERSION_FILES.c.file_id)
        .where(VERSION_FILES.c.version_id.in_(version_ids))
        .order_by(VERSION_FILES.c.version_id, VERSION_FILES.c.position)
    ):
        files[named.version_id].append([named.role, named.url, named.name])
    stored = {row.id: _stored_fields(row, files[row.id]) for row in rows}
    # A huge text kept beside its row is compared there, never read (version_texts.py).
    for version_id in kept_beside(connection, version_ids):
        for name in HUGE_COLUMNS:
            if stored[version_id][name] is None:
                stored[version_id][name] = BESIDE
    return stored


BESIDE = "<kept beside its row>"
"""A stored field's value when its text is kept in version_texts."""


def changed_fields(
    connection: Connection, version_id: int, new: dict[str, Any], old: dict[str, Any]
) -> list[str]:
    """The fields whose new value differs from the stored one. A text kept beside its row
    is compared there a slice at a time, and read only when it differs (for the examples)."""
    changed = []
    for name in FIELDS:
        if old[name] is BESIDE:
            if equals_beside(connection, version_id, name, new[name]):
                continue
            old[name] = read_beside(connection, version_id, name)
        if new[name] != old[name]:
            changed.append(name)
    return changed


def _shorten(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    text = text.replace("\n", "⏎")
    return text if len(text) <= EXAMPLE_CHARS else text[: EXAMPLE_CHARS - 1] + "…"


def _example(url: str, old: Any, new: Any) -> dict[str, str]:
    if isinstance(old, str) and isinstance(new, str) and "\n" in old + new:
        # A body: the first line that differs says more than its opening.
        old_lines, new_lines = old.split("\n"), new.split("\n")
        for index, (before, after) in enumerate(zip(old_lines, new_lines, strict=False)):
            if before != after:
                return {"url": url, "line": str(index + 1), "old": before, "new": after}
        index = min(len(old_lines), len(new_lines))
        old = "\n".join(old_lines[index:])
        new = "\n".join(new_lines[index:])
    return {"url": url, "old": _shorten(old), "new": _shorten(new)}


def _chunks(items: Sequence[Candidate], size: int) -> Iterator[Sequence[Candidate]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _unfetched(connection: Connection, urls: set[str]) -> set[str]:
    """Those of `urls` the archive has no file row for."""
    if not urls:
        return set()
    known = set(connection.scalars(select(FILES.c.url).where(FILES.c.url.in_(sorted(urls)))))
    return urls - known


def reextract(
    home: ArchiveHome,
    connection: Connection,
    profiles: dict[str, SiteProfile],
    *,
    writer: ArchiveWriter | None = None,
    since: datetime | None = None,
    examples: int = 3,
    batch: int = CHUNK,
    progress: Callable[[int, int, ReextractSummary], None] = lambda done, total, summary: None,
    stop: Callable[[], bool] = lambda: False,
) -> ReextractSummary:
    """Read again the snapshots of the latest versions of the sites in `profiles` (site →
    the profile to read them with) fetched since `since`, and give each article whose fields
    differ a new version through `writer`; without a writer (a dry run), only count.

    `connection` reads the archive (the writer's own when there is one). `stop` is asked
    between pages: a run stopped so has committed every version it wrote. `batch` pages
    are compared, and their new versions written, at a time.
    """
    started, cpu_started = time.perf_counter(), time.process_time()
    versions = {site: extractor_version(profile) for site, profile in profiles.items()}
    summary = ReextractSummary(dry_run=writer is None, extractors=versions)
    todo = candidates(connection, versions, since)
    summary.considered = len(todo)
    done = 0
    for chunk in _chunks(todo, batch):
        if stop():
            break
        stored = stored_fields(connection, [c.version_id for c in chunk if not c.known])
        readings: list[Reading] = []
        named: set[str] = set()
        for candidate in chunk:
            if stop():
                break
            done += 1
            if candidate.known:
                summary.known += 1
                continue
            try:
                content = page_content(home, candidate)
            except SnapshotCorrupt as error:
                summary.failures.append({"url": candidate.url, "reason": str(error)})
                continue
            summary.read += 1
            page = PageBytes(content)  # let go of once read (a huge page held once)
            del content
            record = read_page(page, candidate, profiles[candidate.site], versions[candidate.site])
            new, old = fields_of(record), stored.pop(candidate.version_id)
            changed = changed_fields(connection, candidate.version_id, new, old)
            if changed:
                _count(summary, candidate.url, changed, old, new, examples)
                named.update(link.url for link in record.files)
                readings.append(
                    Reading(
                        candidate.version_id, record, candidate.snapshot_id, candidate.fetched_at
                    )
                )
                if writer is not None and (is_huge(record.body) or is_huge(record.body_html)):
                    # Written at once: a chunk of such readings would be held whole.
                    summary.new_files |= _unfetched(connection, named - summary.new_files)
                    summary.written += sum(1 for made in writer.save_reextracted(readings) if made)
                    readings, named = [], set()
            del record, new, old
            progress(done, len(todo), summary)
        summary.new_files |= _unfetched(connection, named - summary.new_files)
        if writer is not None and readings:
            # The chunk's versions at once: a statement per table for them all.
            summary.written += sum(1 for made in writer.save_reextracted(readings) if made)
        progress(done, len(todo), summary)
    if writer is not None:
        writer.commit()
    summary.seconds = time.perf_counter() - started
    summary.cpu_seconds = time.process_time() - cpu_started
    return summary


def _count(
    summary: ReextractSummary,
    url: str,
    changed: list[str],
    old: dict[str, Any],
    new: dict[str, Any],
    examples: int,
) -> None:
    summary.changed += 1
    summary.fields.update(changed)
    for name in changed:
        shown = summary.examples.setdefault(name, [])
        if len(shown) < examples:
            shown.append(_example(url, old[name], new[name]))
