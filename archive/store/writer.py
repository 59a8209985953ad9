"""The archive's write side: one writer per home records captures, articles, versions and files.

Order of durability: a WARC record is written and fsynced before the row that points at it
is committed. Commits are batched (every `commit_every` writes or `commit_seconds`), so a
crash loses at most the last batch of rows, never leaves a row pointing at nothing.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import partial, wraps
from typing import Any, Literal, TypeVar
from urllib.parse import urljoin

from sqlalchemy import (
    Connection,
    Insert,
    Table,
    Update,
    bindparam,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError

from archive.errors import ArchiveLocked, ContentOversize, ContentUndecodable, StorageFailed
from archive.store.db import LEDGER_LOCK, open_writer
from archive.store.decoding import DEFAULT_MAX_DECODED, decoded_digest, is_encoded
from archive.store.home import ArchiveHome
from archive.store.ledger import GENESIS, chain, named_files_row, row_digest
from archive.store.models import (
    CAUSE_CRAWL,
    CAUSE_FILE,
    CAUSE_REEXTRACT,
    Article,
    ArticleVersion,
    Capture,
    CrawlRun,
    File,
    LedgerEntry,
    Listing,
    VersionCapture,
    VersionFile,
    WarcFile,
    utc_now,
)
from archive.store.recovery import file_sha256, recover, run_file_prefix, safe_name
from archive.store.search_index import index_new_versions
from archive.store.warcstore import (
    HttpExchange,
    RevisitTarget,
    WarcStore,
    WrittenRecord,
    sha256_hex,
)

# The writer uses SQLAlchemy Core on one connection: the ORM's unit of work cost more than
# the crawl itself on large runs (see BENCHMARKS.md).
ARTICLES: Table = Article.__table__  # type: ignore[assignment]
VERSIONS: Table = ArticleVersion.__table__  # type: ignore[assignment]
CAPTURES: Table = Capture.__table__  # type: ignore[assignment]
RUNS: Table = CrawlRun.__table__  # type: ignore[assignment]
FILES: Table = File.__table__  # type: ignore[assignment]
LISTINGS: Table = Listing.__table__  # type: ignore[assignment]
VERSION_CAPTURES: Table = VersionCapture.__table__  # type: ignore[assignment]
VERSION_FILES: Table = VersionFile.__table__  # type: ignore[assignment]
WARC_FILES: Table = WarcFile.__table__  # type: ignore[assignment]
LEDGER: Table = LedgerEntry.__table__  # type: ignore[assignment]
# Tables whose rows the ledger covers, by the entry kind that names them.
LEDGER_KINDS = {"captures": "capture", "article_versions": "version", "articles": "article"}

LOCK_NAME = ".lock"
# PostgreSQL's SQLSTATEs on which a version write is run again (see ArchiveWriter._retrying).
UNIQUE_VIOLATION = "23505"
DEADLOCK_DETECTED = "40P01"
VERSION_WRITE_ATTEMPTS = 5
REDIRECT_STATUSES = (301, 302, 303, 307, 308)
MAX_REDIRECT_HOPS = 10
# Below this size a duplicate payload is not worth a revisit record (redirects, empty pages).
MIN_DEDUP_PAYLOAD = 1

SaveOutcome = Literal["new", "updated", "unchanged"]


@dataclass(frozen=True)
class FileRecord:
    """An archived attachment or image."""

    id: int
    url: str
    capture_id: int | None
    status: int | None
    sha256: str | None
    size: int | None
    media_type: str | None
    problem: str | None = None


@dataclass(frozen=True)
class NamedFile:
    """A file as a version names it: the bytes of `capture_id`, or the file's own if None."""

    file_id: int
    role: str
    name: str | None
    capture_id: int | None


@dataclass(frozen=True)
class NextVersion:
    """An article's next version, to be inserted: the page's fields in `values`."""

    article_id: int
    previous_id: int | None
    previous_number: int
    values: dict[str, Any]
    files: list[NamedFile]
    seen_at: datetime


@dataclass(frozen=True)
class Reading:
    """A new reading of an archived page (`capture_id`, fetched at `seen_at`) whose fields
    differ from those of version `version_id`."""

    version_id: int
    content: ArticleContent
    capture_id: int
    seen_at: datetime


@dataclass(frozen=True)
class CaptureInfo:
    """What the crawler needs to know about a capture it just wrote."""

    id: int
    url: str
    status: int
    payload_sha256: str
    content_sha256: str
    content_size: int
    media_type: str | None
    record_type: str
    oversize: str | None = None
    """Why the payload was not inflated (it decodes past the size limit); None when it was."""


@dataclass(frozen=True)
class FileLink:
    """An attachment or image as an article version names it."""

    url: str
    role: str
    """attachment | image"""
    name: str | None


@dataclass
class ArticleContent:
    """The normalized record of one article page, as the archive stores it."""

    url: str
    site: str
    docid: int | None
    title: str | None
    source: str | None
    source_raw: str | None
    author: str | None
    author_raw: str | None
    published: str | None
    published_raw: str | None
    info_raw: str | None
    body: str | None
    body_html: str | None
    meta: dict[str, str] = field(default_factory=dict)
    encoding: str | None = None
    template: str | None = None
    problems: list[str] = field(default_factory=list)
    files: list[FileLink] = field(default_factory=list)
    extractor_version: str | None = None
    """Which extraction read these fields (pipelines.content.extractor_version)."""

    def content_sha256(self) -> str:
        """Digest of what a reader sees; equal digests mean the same version."""
        canonical = {
            "title": self.title,
            "source": self.source,
            "author": self.author,
            "published": self.published,
            "body": self.body,
            "files": [[f.role, f.url, f.name] for f in self.files],
        }
        encoded = json.dumps(canonical, ensure_ascii=False, sort_keys=True).encode("utf-8")
        return hashlib.sha256(encoded).hexdigest()


def version_values(content: ArticleContent, capture_id: int, cause: str) -> dict[str, Any]:
    """The article_versions columns a record fills, read from the capture `capture_id`."""
    return {
        "content_sha256": content.content_sha256(),
        "capture_id": capture_id,
        "title": content.title,
        "source": content.source,
        "source_raw": content.source_raw,
        "author": content.author,
        "author_raw": content.author_raw,
        "published": content.published,
        "published_raw": content.published_raw,
        "info_raw": content.info_raw,
        "body": content.body,
        "body_html": content.body_html,
        "meta_json": json.dumps(content.meta, ensure_ascii=False, sort_keys=True),
        "encoding": content.encoding,
        "template": content.template,
        "problems_json": json.dumps(content.problems, ensure_ascii=False),
        "cause": cause,
        "extractor_version": content.extractor_version,
    }


F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")


def guarded(method: F) -> F:
    """Run a write under the writer's storage guard (see ArchiveWriter._storage_guard)."""

    @wraps(method)
    def wrapper(self: ArchiveWriter, *args: Any, **kwargs: Any) -> Any:
        with self._storage_guard():
            return method(self, *args, **kwargs)

    return wrapper  # type: ignore[return-value]


class HomeLock:
    """A lock on a home, released by the OS if we die. A crawl takes it exclusively (one
    writer at a time); the workers of a distributed crawl share it, which still keeps a
    one-process crawl out while they run."""

    def __init__(self, home: ArchiveHome, *, shared: bool = False):
        home.create()
        self.path = home.root / LOCK_NAME
        self._handle = open(self.path, "a+")  # noqa: SIM115 (held for the writer's life)
        try:
            fcntl.flock(self._handle, (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | fcntl.LOCK_NB)
        except BlockingIOError as error:
            self._handle.seek(0)
            holder = self._handle.read().strip() or "another process"
            self._handle.close()
            raise ArchiveLocked(
                f"{home.root} is in use by {holder}; wait for it to finish"
            ) from error
        self._handle.seek(0)
        self._handle.truncate()
        self._handle.write("distributed crawl workers" if shared else f"pid {os.getpid()}")
        self._handle.flush()

    def release(self) -> None:
        if not self._handle.closed:
            fcntl.flock(self._handle, fcntl.LOCK_UN)
            self._handle.close()


class ArchiveWriter:
    """Records one crawl run into a home."""

    def __init__(
        self,
        home: ArchiveHome,
        *,
        commit_every: int = 200,
        commit_seconds: float = 2.0,
        max_warc_size: int | None = None,
        worker: str | None = None,
        worker_gone: Callable[[str], bool] | None = None,
    ):
        """`worker` names this writer as one worker of a distributed crawl: it shares the
        home with the other workers, and recovers only the runs of workers for which
        `worker_gone` says they are no longer alive."""
        self.home = home
        self.worker = worker
        self._lock = HomeLock(home, shared=worker is not None)
        self.engine = open_writer(home)
        self.connection: Connection = self.engine.connect()
        self._transaction = self.connection.begin()
        self.commit_every = commit_every
        self.commit_seconds = commit_seconds
        self._pending = 0
        self._last_commit = time.monotonic()
        self._warc_ids: dict[str, int] = {}
        self._payload_owner: dict[str, tuple[int, RevisitTarget] | None] = {}
        self._files: dict[str, FileRecord] = {}
        self._bytes_captures: dict[int, int | None] | None = None
        # Statements built once per table (building one cost more than running it).
        self._inserts: dict[str, Insert] = {}
        self._updates: dict[str, Update] = {}
        self.run_id: int | None = None
        self.failed: str | None = None
        """Why the home stopped taking writes, once it has."""
        self.warc: WarcStore | None = None
        self._max_warc_size = max_warc_size

        # Ledger entries wait for the commit, where they are chained onto the head.
        self._ledger_pending: list[dict[str, Any]] = []
        self._serialize_ledger = self.engine.dialect.name == "postgresql"

        self._prepare_statements()
        # A crawl killed earlier may have left a run open and a WARC file cut mid-record.
        if worker is None:
            self.recovery = recover(self.connection, home)
        else:
            self.recovery = recover(
                self.connection, home, worker_gone=worker_gone or (lambda name: False)
            )
        for name in self.recovery.closed_files:
            self._ledger_warc_file(name)
        self.commit()

    def _prepare_statements(self) -> None:
        """Build each statement once; the rows' values go in as parameters. Building a
        statement per row cost more than running it."""
        dialect = {"postgresql": postgresql, "sqlite": sqlite}.get(self.engine.dialect.name, sqlite)
        upsert_listing = dialect.insert(LISTINGS)
        self._upsert_listing = upsert_listing.on_conflict_do_update(
            index_elements=["article_url", "section"],
            set_={
                "last_seen_at": upsert_listing.excluded.last_seen_at,
                "list_url": upsert_listing.excluded.list_url,
                "title_listed": upsert_listing.excluded.title_listed,
            },
        )
        self._link_version_capture = dialect.insert(VERSION_CAPTURES).on_conflict_do_nothing()
        self._payload_owner_query = (
            select(CAPTURES.c.id, CAPTURES.c.url, CAPTURES.c.fetched_at, CAPTURES.c.record_id)
            .where(
                CAPTURES.c.payload_sha256 == bindparam("digest"),
                CAPTURES.c.record_type == "response",
            )
            .order_by(CAPTURES.c.id)
            .limit(1)
        )
        # The newest capture holding a URL's content, and the capture whose record holds the
        # payload (itself, or the original of an identical-payload revisit).
        self._last_good_capture_query = (
            select(
                CAPTURES.c.id,
                CAPTURES.c.url,
                CAPTURES.c.fetched_at,
                CAPTURES.c.record_id,
                CAPTURES.c.payload_sha256,
                CAPTURES.c.content_sha256,
                CAPTURES.c.content_size,
                CAPTURES.c.payload_size,
                CAPTURES.c.media_type,
                CAPTURES.c.oversize,
                func.coalesce(CAPTURES.c.refers_to_id, CAPTURES.c.id).label("holder_id"),
            )
            .where(CAPTURES.c.url == bindparam("url"), CAPTURES.c.status == 200)
            .order_by(CAPTURES.c.id.desc())
            .limit(1)
        )
        self._file_query = select(FILES).where(FILES.c.url == bindparam("url"))
        self._update_unarchived_file = update(FILES).where(
            FILES.c.id == bindparam("row_id"), FILES.c.sha256.is_(None)
        )
        self._set_status_statement = (
            update(ARTICLES)
            .where(
                ARTICLES.c.id == bindparam("row_id"), ARTICLES.c.status != bindparam("new_status")
            )
            .values(status=bindparam("new_status"), gone_at=bindparam("gone_at"))
        )
        self._insert_file = (
            dialect.insert(FILES)
            .on_conflict_do_nothing(index_elements=["url"])
            .returning(FILES.c.id)
        )
        self._latest_version_query = (
            select(
                ARTICLES.c.id,
                VERSIONS.c.id.label("version_id"),
                VERSIONS.c.number,
                VERSIONS.c.content_sha256,
            )
            .select_from(ARTICLES.outerjoin(VERSIONS, VERSIONS.c.article_id == ARTICLES.c.id))
            .where(ARTICLES.c.url == bindparam("url"))
            .order_by(VERSIONS.c.number.desc())
            .limit(1)
        )

    def _add(self, table: Table, **values: Any) -> int:
        """INSERT one row; its new id. Captures and versions get their ledger entry."""
        statement = self._inserts.get(table.name)
        if statement is None:
            statement = self._inserts[table.name] = insert(table)
        result = self.connection.execute(statement, values)
        row_id = int(result.inserted_primary_key[0])  # type: ignore[index]
        kind = LEDGER_KINDS.get(table.name)
        if kind is not None:
            self._ledger(kind, row_id, {column.name: None for column in table.columns} | values)
        return row_id

    def _ledger(self, kind: str, row_id: int, row: dict[str, Any]) -> None:
        self._ledger_pending.append(
            {
                "kind": kind,
                "ref_id": row_id,
                "digest": row_digest(kind, dict(row, id=row_id)),
                "created_at": utc_now(),
            }
        )

    def _append_ledger(self) -> None:
        """Chain the batch's entries onto the ledger's head, just before the commit.

        On PostgreSQL several writers (the workers of a distributed crawl) share one chain: a
        transaction lock makes reading the head, appending and committing one step for each.
        """
        if not self._ledger_pending:
            return
        if self._serialize_ledger:
            self.connection.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": LEDGER_LOCK}
            )
        head = (
            self.connection.scalar(
                select(LEDGER.c.entry_hash).order_by(LEDGER.c.id.desc()).limit(1)
            )
            or GENESIS
        )
        for entry in self._ledger_pending:
            head = chain(head, entry["digest"])
            entry["entry_hash"] = head
        self.connection.execute(insert(LEDGER), self._ledger_pending)
        self._ledger_pending = []

    def _ledger_warc_file(self, name: str) -> None:
        row = self.connection.execute(select(WARC_FILES).where(WARC_FILES.c.name == name)).one()
        self._ledger("warc_file", row.id, dict(row._mapping))

    def _ledger_row(self, kind: str, table: Table, row_id: int) -> None:
        """A ledger entry for a row as it now stands in this transaction."""
        row = self.connection.execute(select(table).where(table.c.id == row_id)).one()
        self._ledger(kind, row_id, dict(row._mapping))

    def _set(self, table: Table, row_id: int, **values: Any) -> None:
        """UPDATE one row by id."""
        statement = self._updates.get(table.name)
        if statement is None:
            statement = self._updates[table.name] = update(table).where(
                table.c.id == bindparam("row_id")
            )
        self.connection.execute(statement, {"row_id": row_id, **values})

    # Runs ---------------------------------------------------------------------------------

    def start_run(self, site: str, base_url: str, mode: str) -> int:
        started_at = utc_now()
        self.run_id = self._add(
            RUNS,
            site=site,
            base_url=base_url,
            mode=mode,
            started_at=started_at,
            status="running",
            worker=self.worker,
        )
        self.commit()
        # Workers share the WARC directory: each file names its run and its worker.
        worker = safe_name(self.worker or str(os.getpid()))
        prefix = f"{run_file_prefix(self.run_id, started_at)}{worker}"
        kwargs = {"max_file_size": self._max_warc_size} if self._max_warc_size else {}
        self.warc = WarcStore(self.home.warc_dir, prefix, **kwargs)
        return self.run_id

    @guarded
    def finish_run(self, status: str, exit_code: int, summary: dict[str, Any]) -> None:
        assert self.run_id is not None
        self._move_redirected_listings()
        self._set(
            RUNS,
            self.run_id,
            finished_at=utc_now(),
            status=status,
            exit_code=exit_code,
            summary_json=json.dumps(summary, ensure_ascii=False, sort_keys=True),
        )
        self.commit()

    # Captures -----------------------------------------------------------------------------

    def _warc_file_id(self, name: str) -> int:
        if name not in self._warc_ids:
            self._warc_ids[name] = self._add(WARC_FILES, name=name, created_at=utc_now())
        return self._warc_ids[name]

    def _revisit_target(self, payload_sha256: str) -> tuple[int, RevisitTarget] | None:
        """The stored response that already holds this payload, if any."""
        if payload_sha256 not in self._payload_owner:
            row = self.connection.execute(
                self._payload_owner_query, {"digest": payload_sha256}
            ).first()
            self._payload_owner[payload_sha256] = (
                None
                if row is None
                else (row.id, RevisitTarget(row.url, row.fetched_at, row.record_id))
            )
        return self._payload_owner[payload_sha256]

    @guarded
    def record_exchange(
        self, exchange: HttpExchange, max_decoded: int = DEFAULT_MAX_DECODED
    ) -> CaptureInfo:
        """Write the exchange to WARC (a revisit if the payload is stored) and index it.

        The content digest is taken while decoding in chunks, never holding the content; a
        payload that decodes past `max_decoded` bytes (0: no limit) is flagged oversize, and
        its content digest and size are the wire payload's."""
        assert self.warc is not None and self.run_id is not None, "start_run() first"
        if exchange.status == 304:
            return self._record_not_modified(exchange)
        payload_sha256 = sha256_hex(exchange.payload)
        dedup = len(exchange.payload) >= MIN_DEDUP_PAYLOAD
        owner = self._revisit_target(payload_sha256) if dedup else None
        written = self.warc.write_exchange(exchange, payload_sha256, owner[1] if owner else None)
        content_sha256, content_size = payload_sha256, len(exchange.payload)
        oversize = None
        encoding = exchange.header("Content-Encoding")
        if is_encoded(encoding):
            try:
                content_sha256, content_size = decoded_digest(
                    exchange.payload, encoding, max_decoded
                )
            except ContentOversize as error:
                oversize = str(error)
            except ContentUndecodable:
                pass  # undecodable: the payload is what we have
        info = CaptureInfo(
            id=0,
            url=exchange.url,
            status=exchange.status,
            payload_sha256=payload_sha256,
            content_sha256=content_sha256,
            content_size=content_size,
            media_type=exchange.header("Content-Type"),
            record_type=written.record_type,
            oversize=oversize,
        )
        return self._index(
            exchange,
            written,
            info,
            payload_size=len(exchange.payload),
            refers_to_id=owner[0] if owner else None,
            dedup=dedup and owner is None,
        )

    def _record_not_modified(self, exchange: HttpExchange) -> CaptureInfo:
        """A 304: a revisit record pointing at the newest good capture of the URL. Without
        one (the server answered 304 to a request we did not make conditional) the 304 is
        stored as it came."""
        assert self.warc is not None
        last = self.connection.execute(self._last_good_capture_query, {"url": exchange.url}).first()
        if last is None:
            written = self.warc.write_exchange(exchange, sha256_hex(exchange.payload), None)
            info = CaptureInfo(
                0,
                exchange.url,
                304,
                sha256_hex(b""),
                sha256_hex(b""),
                0,
                exchange.header("Content-Type"),
                written.record_type,
            )
            return self._index(
                exchange, written, info, payload_size=0, refers_to_id=None, dedup=False
            )
        target = RevisitTarget(last.url, last.fetched_at, last.record_id, not_modified=True)
        written = self.warc.write_exchange(exchange, last.payload_sha256, target)
        info = CaptureInfo(
            0,
            exchange.url,
            304,
            last.payload_sha256,
            last.content_sha256,
            last.content_size,
            last.media_type,
            written.record_type,
            # A 304 stands for the bytes it confirms: not inflated if those were not.
            "the page it confirms is oversize: not inflated" if last.oversize else None,
        )
        return self._index(
            exchange,
            written,
            info,
            payload_size=last.payload_size,
            refers_to_id=last.holder_id,
            dedup=False,
        )

    def _index(
        self,
        exchange: HttpExchange,
        written: WrittenRecord,
        info: CaptureInfo,
        *,
        payload_size: int,
        refers_to_id: int | None,
        dedup: bool,
    ) -> CaptureInfo:
        """Insert the capture row of a record just written."""
        capture_id = self._add(
            CAPTURES,
            run_id=self.run_id,
            url=exchange.url,
            method=exchange.method,
            status=exchange.status,
            fetched_at=exchange.fetched_at,
            media_type=info.media_type,
            location=exchange.header("Location"),
            etag=exchange.header("ETag"),
            last_modified=exchange.header("Last-Modified"),
            warc_file_id=self._warc_file_id(written.warc_name),
            record_type=written.record_type,
            record_id=written.record_id,
            offset=written.offset,
            length=written.length,
            request_offset=written.request_offset,
            request_length=written.request_length,
            payload_sha256=info.payload_sha256,
            payload_size=payload_size,
            content_sha256=info.content_sha256,
            content_size=info.content_size,
            oversize=info.oversize is not None,
            refers_to_id=refers_to_id,
        )
        if dedup:
            target = RevisitTarget(exchange.url, exchange.fetched_at, written.record_id)
            self._payload_owner[info.payload_sha256] = (capture_id, target)
        self._wrote()
        return replace(info, id=capture_id)

    # Listings -----------------------------------------------------------------------------

    @guarded
    def note_listings(
        self,
        *,
        site: str,
        section: str,
        section_name: str | None,
        list_url: str,
        links: list[tuple[str, str | None]],
        seen_at: datetime,
    ) -> None:
        """Record the article links of one list page: (article URL, title as listed)."""
        if not links:
            return
        self.connection.execute(
            self._upsert_listing,
            [
                {
                    "site": site,
                    "article_url": article_url,
                    "section": section,
                    "section_name": section_name,
                    "list_url": list_url,
                    "title_listed": title_listed,
                    "first_seen_at": seen_at,
                    "last_seen_at": seen_at,
                }
                for article_url, title_listed in links
            ],
        )
        self._wrote()

    @guarded
    def move_listings(self, from_url: str, to_url: str) -> None:
        """An article reached through a redirect: its listings belong to the final URL."""
        taken = set(
            self.connection.scalars(
                select(LISTINGS.c.section).where(LISTINGS.c.article_url == to_url)
            )
        )
        self.connection.execute(
            update(LISTINGS)
            .where(LISTINGS.c.article_url == from_url, LISTINGS.c.section.not_in(taken))
            .values(article_url=to_url)
        )
        self._wrote()

    def _move_redirected_listings(self) -> None:
        """Listings of URLs that redirect to an archived article belong to that article.

        The crawler moves them as it follows each redirect; in a distributed crawl another
        worker may commit a list page's links after that, so every run ends with this."""
        redirects = dict(
            self.connection.execute(
                select(CAPTURES.c.url, CAPTURES.c.location)
                .where(CAPTURES.c.status.in_(REDIRECT_STATUSES), CAPTURES.c.location.is_not(None))
                .where(CAPTURES.c.url.in_(select(LISTINGS.c.article_url)))
                .order_by(CAPTURES.c.id)
            ).all()
        )
        for source in redirects:
            target, hops = source, 0
            while target in redirects and hops < MAX_REDIRECT_HOPS:
                target, hops = urljoin(target, redirects[target]), hops + 1
            if target != source and self.connection.scalar(
                select(ARTICLES.c.id).where(ARTICLES.c.url == target)
            ):
                self.move_listings(source, target)

    # Files --------------------------------------------------------------------------------

    def file_by_url(self, url: str) -> FileRecord | None:
        if url not in self._files:
            row = self.connection.execute(self._file_query, {"url": url}).first()
            if row is None:
                return None
            self._files[url] = FileRecord(
                row.id,
                row.url,
                row.capture_id,
                row.status,
                row.sha256,
                row.size,
                row.media_type,
                row.problem,
            )
        return self._files[url]

    @guarded
    def save_file(
        self,
        *,
        url: str,
        kind: str,
        seen_at: datetime,
        capture_id: int | None = None,
        status: int | None = None,
        sha256: str | None = None,
        size: int | None = None,
        media_type: str | None = None,
        problem: str | None = None,
    ) -> FileRecord:
        """Index an attachment or image; a failed fetch is kept with its reason.

        A file once archived with its bytes keeps them: a later failure does not unset them.
        """
        known = self.file_by_url(url)
        if known is not None and known.sha256 is not None:
            return known
        values: dict[str, Any] = {
            "capture_id": capture_id,
            "status": status,
            "sha256": sha256,
            "size": size,
            "media_type": media_type,
            "problem": None if sha256 else problem,
        }
        file_id = None
        if known is None:
            # Another worker of a distributed crawl may have saved the same URL meanwhile.
            file_id = self.connection.scalar(
                self._insert_file, dict(url=url, kind=kind, first_seen_at=seen_at, **values)
            )
            if file_id is None:
                known = self.file_by_url(url)
                assert known is not None
                if known.sha256 is not None:
                    return known
        if file_id is None:
            assert known is not None
            file_id = known.id
            # Only over a row without bytes: another worker may have archived the file since
            # this writer last read it, and its bytes (and ledger entry) stand.
            updated = self.connection.execute(
                self._update_unarchived_file, {"row_id": file_id, **values}
            ).rowcount
            if not updated:
                self._files.pop(url, None)
                archived = self.file_by_url(url)
                assert archived is not None
                return archived
        if sha256 is not None:
            self._ledger_row("file", FILES, file_id)
        record = FileRecord(
            file_id, url, capture_id, status, sha256, size, media_type, values["problem"]
        )
        self._files[url] = record
        self._wrote()
        return record

    # Articles -----------------------------------------------------------------------------

    @guarded
    def save_article(
        self, content: ArticleContent, capture_id: int, seen_at: datetime
    ) -> tuple[SaveOutcome, int]:
        """Store a page's record: a new article, a new version, or one more sighting.

        Returns the outcome and the id of the version the page shows.
        """
        outcome = self._retrying(lambda: self._save_article(content, capture_id, seen_at))
        self._wrote()
        return outcome

    def _save_article(
        self, content: ArticleContent, capture_id: int, seen_at: datetime
    ) -> tuple[SaveOutcome, int]:
        latest = self.connection.execute(self._latest_version_query, {"url": content.url}).first()
        if latest is None:
            article_id = self._add(
                ARTICLES,
                url=content.url,
                site=content.site,
                docid=content.docid,
                status="live",
                first_seen_at=seen_at,
                last_seen_at=seen_at,
            )
        else:
            article_id = latest.id
            self._set(ARTICLES, article_id, last_seen_at=seen_at)
            self._set_status(article_id, "live", None)

        digest = content.content_sha256()
        if latest is not None and latest.content_sha256 == digest:
            self._set(VERSIONS, latest.version_id, last_seen_at=seen_at)
            self._link_capture(latest.version_id, capture_id)
            return "unchanged", latest.version_id

        version_id = self._new_version(
            article_id,
            latest.version_id if latest is not None else None,
            latest.number if latest is not None and latest.number is not None else 0,
            version_values(content, capture_id, CAUSE_CRAWL),
            self._named_files(content, seen_at),
            seen_at,
        )
        self._link_capture(version_id, capture_id)
        return ("new" if latest is None else "updated"), version_id

    def _named_files(self, content: ArticleContent, seen_at: datetime) -> list[NamedFile]:
        """The files a record names, each once per role, with the bytes it names."""
        named: list[NamedFile] = []
        for link in content.files:
            # A file not fetched (e.g. off-host) is still named by the version.
            file = self.file_by_url(link.url) or self.save_file(
                url=link.url, kind=link.role, seen_at=seen_at, problem="not fetched"
            )
            if any((file.id, link.role) == (other.file_id, other.role) for other in named):
                continue
            named.append(NamedFile(file.id, link.role, link.name, self._bytes_capture(file)))
        return named

    @guarded
    def save_reextracted(self, readings: Sequence[Reading]) -> list[int | None]:
        """New readings of archived pages: each article's next version, with cause
        `reextract`. Nothing about the articles themselves changes (status, when seen).

        Returns each new version's id; None for a reading whose `version_id` is no longer
        its article's latest (something wrote a version since it was read): nothing is
        written for it.
        """
        written = self._retrying(lambda: self._reextracted_versions(readings))
        self._pending += len(readings) - 1
        self._wrote()
        return written

    def _reextracted_versions(self, readings: Sequence[Reading]) -> list[int | None]:
        read = {reading.version_id for reading in readings}
        latest = {
            row.id: row
            for row in self.connection.execute(
                select(VERSIONS.c.id, VERSIONS.c.article_id, VERSIONS.c.number).where(
                    VERSIONS.c.id.in_(read), VERSIONS.c.is_latest
                )
            )
        }
        batch, kept = [], []
        for reading in readings:
            version = latest.pop(reading.version_id, None)  # one new version each
            if version is None:
                continue
            kept.append(reading)
            batch.append(
                NextVersion(
                    version.article_id,
                    version.id,
                    version.number,
                    version_values(reading.content, reading.capture_id, CAUSE_REEXTRACT),
                    self._named_files(reading.content, reading.seen_at),
                    reading.seen_at,
                )
            )
        ids = self._new_versions(batch) if batch else []
        if ids:
            self.connection.execute(
                self._link_version_capture,
                [
                    {"version_id": version_id, "capture_id": reading.capture_id}
                    for version_id, reading in zip(ids, kept, strict=True)
                ],
            )
        made = {id(reading): version_id for reading, version_id in zip(kept, ids, strict=True)}
        return [made.get(id(reading)) for reading in readings]

    def _retrying(self, write: Callable[[], T]) -> T:
        """Run `write`, which reads an article's latest version and writes on it.

        On PostgreSQL, other workers of a distributed crawl write versions too: a file one of
        them fetched may be named by an article another is saving. Then the second insert of
        the same version number fails, or two batches wait on each other (a deadlock). The
        write runs in a savepoint, and is rolled back and run again on the committed state;
        after a deadlock this worker's batch is committed first, so that the other goes on.
        """
        if not self._serialize_ledger:  # SQLite: one writer at a time
            return write()
        for _attempt in range(VERSION_WRITE_ATTEMPTS - 1):
            savepoint = self.connection.begin_nested()
            pending = len(self._ledger_pending)
            try:
                result = write()
            except DBAPIError as error:
                state = getattr(error.orig, "sqlstate", None)
                if state not in (UNIQUE_VIOLATION, DEADLOCK_DETECTED):
                    raise
                savepoint.rollback()
                del self._ledger_pending[pending:]
                self._files.clear()  # it may hold rows the rollback took back
                if state == DEADLOCK_DETECTED:
                    self.commit()
                continue
            savepoint.commit()
            return result
        return write()  # the last attempt fails the batch like any storage error

    def _new_version(
        self,
        article_id: int,
        previous_id: int | None,
        previous_number: int,
        values: dict[str, Any],
        files: list[NamedFile],
        seen_at: datetime,
    ) -> int:
        """Insert the article's next version (the page's fields in `values`), the files it
        names and its search entry; the version before it stops being the latest."""
        return self._new_versions(
            [NextVersion(article_id, previous_id, previous_number, values, files, seen_at)]
        )[0]

    def _new_versions(self, batch: Sequence[NextVersion]) -> list[int]:
        """_new_version for several articles at once, a statement per table for them all
        (reextract writes thousands)."""
        earlier = [{"row_id": v.previous_id} for v in batch if v.previous_id is not None]
        if earlier:
            self.connection.execute(
                update(VERSIONS).where(VERSIONS.c.id == bindparam("row_id")),
                [dict(row, is_latest=False) for row in earlier],
            )
        template = {column.name: None for column in VERSIONS.columns}
        rows = [
            dict(
                template,
                article_id=v.article_id,
                number=v.previous_number + 1,
                is_latest=True,
                first_seen_at=v.seen_at,
                last_seen_at=v.seen_at,
                **v.values,
            )
            for v in batch
        ]
        for row in rows:
            del row["id"]
        inserted = self.connection.execute(
            insert(VERSIONS).returning(VERSIONS.c.id, sort_by_parameter_order=True), rows
        )
        ids = [int(version_id) for version_id in inserted.scalars()]
        named_rows = []
        for version_id, row, version in zip(ids, rows, batch, strict=True):
            self._ledger("version", version_id, row)
            self._ledger(
                "version_cause",
                version_id,
                {"cause": row["cause"], "extractor_version": row["extractor_version"]},
            )
            named = [
                (f.file_id, f.role, f.name, position, f.capture_id)
                for position, f in enumerate(version.files)
            ]
            self._ledger("named_files", version_id, named_files_row(version_id, named))
            named_rows += [
                {
                    "version_id": version_id,
                    "file_id": file_id,
                    "role": role,
                    "name": name,
                    "position": position,
                    "capture_id": capture_id,
                }
                for file_id, role, name, position, capture_id in named
            ]
        # In the same transaction as the versions: search never lags behind the archive.
        index_new_versions(
            self.connection,
            [
                (i, row["published"], row["title"], row["body"])
                for i, row in zip(ids, rows, strict=True)
            ],
        )
        if named_rows:
            self.connection.execute(insert(VERSION_FILES), named_rows)
        return ids

    def _bytes_capture(self, file: FileRecord) -> int | None:
        """The capture holding a file's newest bytes when they are not its first fetch's
        (a revisit found the file changed); None otherwise."""
        if file.sha256 is None or file.capture_id is None:
            return None
        if self.run_id is None:
            # A writer without a run writes no captures (reextract, holding the home alone):
            # files' newest captures cannot change under it, and are read once for them all.
            if self._bytes_captures is None:
                self._bytes_captures = self._all_bytes_captures()
            if file.id in self._bytes_captures:
                return self._bytes_captures[file.id]
        return self._newest_bytes_capture(file)

    def _all_bytes_captures(self) -> dict[int, int | None]:
        """_newest_bytes_capture of every archived file, in one query."""
        first = CAPTURES.alias("first")
        newest = CAPTURES.alias("newest")
        newest_id = (
            select(CAPTURES.c.id)
            .where(CAPTURES.c.url == first.c.url, CAPTURES.c.status == 200)
            .order_by(CAPTURES.c.id.desc())
            .limit(1)
            .correlate(first)
            .scalar_subquery()
        )
        rows = self.connection.execute(
            select(
                FILES.c.id, FILES.c.capture_id, FILES.c.sha256, newest.c.id, newest.c.content_sha256
            )
            .join(first, first.c.id == FILES.c.capture_id)
            .outerjoin(newest, newest.c.id == newest_id)
            .where(FILES.c.sha256.is_not(None))
        )
        return {
            file_id: None
            if newest_capture is None or newest_capture == capture_id or newest_sha256 == sha256
            else int(newest_capture)
            for file_id, capture_id, sha256, newest_capture, newest_sha256 in rows
        }

    def _newest_bytes_capture(self, file: FileRecord) -> int | None:
        # Captures are under the URL as sent, which may be the page's link percent-encoded.
        fetched_url = self.connection.scalar(
            select(CAPTURES.c.url).where(CAPTURES.c.id == file.capture_id)
        )
        newest = self.connection.execute(
            self._last_good_capture_query, {"url": fetched_url}
        ).first()
        if newest is None or newest.id == file.capture_id:
            return None
        return int(newest.id) if newest.content_sha256 != file.sha256 else None

    @guarded
    def note_file_fetched(
        self, url: str, capture_id: int, sha256: str, seen_at: datetime
    ) -> list[str]:
        """A revisit fetched an archived attachment or image again (`sha256`: its content).

        When the bytes differ from those an article's latest version names, the article
        gets a new version naming the new bytes (the page's fields as they were); the older
        versions keep naming theirs. Returns the URLs of the articles given a new version.
        """
        file = self.file_by_url(url)
        if file is None or file.sha256 is None:  # revisits ask only for files with bytes
            return []
        articles = self.connection.execute(
            select(VERSIONS.c.article_id, ARTICLES.c.url)
            .join(VERSION_FILES, VERSION_FILES.c.version_id == VERSIONS.c.id)
            .join(ARTICLES, ARTICLES.c.id == VERSIONS.c.article_id)
            # A gone article keeps its versions as they were.
            .where(VERSION_FILES.c.file_id == file.id, VERSIONS.c.is_latest)
            .where(ARTICLES.c.status == "live")
            .distinct()
        ).all()
        # Bytes back to the file's own (its first fetch's) are named as the file's.
        named_capture = None if sha256 == file.sha256 else capture_id
        updated = [
            article_url
            for article_id, article_url in sorted(articles)
            if self._retrying(
                partial(
                    self._file_changed_version, article_id, file.id, named_capture, sha256, seen_at
                )
            )
        ]
        self._wrote()
        return updated

    def _file_changed_version(
        self,
        article_id: int,
        file_id: int,
        capture_id: int | None,
        sha256: str,
        seen_at: datetime,
    ) -> int:
        """The article's latest version again, naming the file's bytes of `capture_id`
        (None: the file's own), if it named other bytes; 1 if it made a version, else 0."""
        latest = self.connection.execute(
            select(VERSIONS).where(VERSIONS.c.article_id == article_id, VERSIONS.c.is_latest)
        ).one()
        rows = self.connection.execute(
            select(VERSION_FILES, func.coalesce(CAPTURES.c.content_sha256, FILES.c.sha256))
            .join(FILES, FILES.c.id == VERSION_FILES.c.file_id)
            .outerjoin(CAPTURES, CAPTURES.c.id == VERSION_FILES.c.capture_id)
            .where(VERSION_FILES.c.version_id == latest.id)
            .order_by(VERSION_FILES.c.position)
        ).all()
        if all(row[-1] == sha256 for row in rows if row.file_id == file_id):
            return 0  # the latest version names these bytes already
        files = [
            NamedFile(
                row.file_id,
                row.role,
                row.name,
                capture_id if row.file_id == file_id else row.capture_id,
            )
            for row in rows
        ]
        kept = ("id", "article_id", "number", "is_latest", "first_seen_at", "last_seen_at")
        values = {key: value for key, value in latest._mapping.items() if key not in kept}
        # The fields, and the extractor that read them, are the latest version's.
        values["cause"] = CAUSE_FILE
        # The page is the latest version's: the capture it was last seen in goes on.
        page_capture = self.connection.scalar(
            select(func.max(VERSION_CAPTURES.c.capture_id)).where(
                VERSION_CAPTURES.c.version_id == latest.id
            )
        )
        version_id = self._new_version(article_id, latest.id, latest.number, values, files, seen_at)
        if page_capture is not None:
            self._link_capture(version_id, page_capture)
        return 1

    @guarded
    def note_unchanged(self, url: str, capture_id: int, seen_at: datetime) -> bool:
        """A revisit answered 304: the article's latest version was seen again.

        Returns False when the URL is not an archived article.
        """
        latest = self.connection.execute(self._latest_version_query, {"url": url}).first()
        if latest is None or latest.version_id is None:
            return False
        self._set(ARTICLES, latest.id, last_seen_at=seen_at)
        self._set_status(latest.id, "live", None)
        self._set(VERSIONS, latest.version_id, last_seen_at=seen_at)
        self._link_capture(latest.version_id, capture_id)
        self._wrote()
        return True

    @guarded
    def mark_gone(self, url: str, seen_at: datetime) -> bool:
        """The site no longer has the article (404/410). Its versions stay as they are.

        Returns True when the article was live until now.
        """
        article_id = self.connection.scalar(select(ARTICLES.c.id).where(ARTICLES.c.url == url))
        if article_id is None or not self._set_status(article_id, "gone", seen_at):
            return False
        self._wrote()
        return True

    def _set_status(self, article_id: int, status: str, gone_at: datetime | None) -> bool:
        """Set an article's status unless it has it already; True when it changed.

        The check is part of the UPDATE: on PostgreSQL, where workers of a distributed crawl
        may change the same article, it is made again on the row as the other left it.
        """
        changed = self.connection.execute(
            self._set_status_statement,
            {"row_id": article_id, "new_status": status, "gone_at": gone_at},
        ).rowcount
        if changed:
            self._ledger_row("article", ARTICLES, article_id)
        return bool(changed)

    def _link_capture(self, version_id: int, capture_id: int) -> None:
        self.connection.execute(
            self._link_version_capture, {"version_id": version_id, "capture_id": capture_id}
        )

    # Durability ---------------------------------------------------------------------------

    def _wrote(self) -> None:
        self._pending += 1
        if self.connection.in_nested_transaction():
            return  # a version write in a savepoint (_retrying) commits with its batch
        if (
            self._pending >= self.commit_every
            or time.monotonic() - self._last_commit >= self.commit_seconds
        ):
            self.commit()

    def commit(self) -> None:
        """Make the WARC records durable, then commit the rows that point at them."""
        with self._storage_guard():
            if self.warc is not None:
                self.warc.sync()
            self._append_ledger()
            self._transaction.commit()
            if self.warc is not None:
                self.warc.mark_committed()
            self._transaction = self.connection.begin()
        self._pending = 0
        self._last_commit = time.monotonic()

    @contextmanager
    def _storage_guard(self) -> Iterator[None]:
        """A failed write or commit (disk full, read-only home) undoes the uncommitted batch
        in the database and in the WARC files, then raises StorageFailed; the writer takes no
        more writes after that."""
        if self.failed is not None:
            raise StorageFailed(self.failed)
        try:
            yield
        except (OSError, DBAPIError) as error:
            reason = getattr(error, "orig", None) or error
            self.failed = f"cannot write to the archive in {self.home.root}: {reason}"
            self._ledger_pending = []
            try:
                self._transaction.rollback()
            except DBAPIError:
                pass  # SQLite has rolled back on its own
            if self.warc is not None:
                self.warc.roll_back()
            raise StorageFailed(self.failed) from error

    def _close_warc_files(self) -> None:
        assert self.warc is not None
        self.warc.close()
        for name in self.warc.closed_names:
            path = self.home.warc_dir / name
            self.connection.execute(
                update(WARC_FILES)
                .where(WARC_FILES.c.id == self._warc_ids[name], WARC_FILES.c.closed_at.is_(None))
                .values(size=path.stat().st_size, sha256=file_sha256(path), closed_at=utc_now())
            )
            self._ledger_warc_file(name)

    def close(self) -> None:
        try:
            if self.failed is None:
                if self.warc is not None:
                    with self._storage_guard():
                        self._close_warc_files()
                self.commit()
        except StorageFailed:
            pass  # reported by whoever hit it first; the next run's recovery closes the files
        finally:
            self._transaction.rollback()
            self.connection.close()
            self.engine.dispose()
            self._lock.release()
