"""SQLAlchemy models of the archive: captures of HTTP exchanges, articles, versions, files, runs.

Times are stored as ISO 8601 text with their zone (UTC, `+00:00`), so that analysts reading
the SQLite file with any tool see the zone; `published` keeps the site's own zone (+08:00).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    cast,
    false,
    func,
    select,
    true,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, column_property, mapped_column, relationship

from archive.store.times import read_time, stored_time

# Alembic's batch mode on SQLite needs named constraints to alter them later.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """An aware datetime stored as ISO 8601 text in UTC, e.g. `2026-02-03T07:15:00.123456+00:00`."""

    impl = String(32)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: object) -> str | None:
        return None if value is None else stored_time(value)

    def process_result_value(self, value: str | None, dialect: object) -> datetime | None:
        return None if value is None else read_time(value)


# Why a version exists (article_versions.cause).
CAUSE_CRAWL = "crawl"
"""A crawl found the page's content changed (or saw it the first time)."""
CAUSE_FILE = "file"
"""A revisit found a file the version names changed at its URL; the page's fields carry over."""
CAUSE_REEXTRACT = "reextract"
"""`chalco-archive reextract` read the archived page again and its fields came out otherwise."""


def utc_now() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class CrawlRun(Base):
    """One invocation of the crawler."""

    __tablename__ = "crawl_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    site: Mapped[str] = mapped_column(String(64))
    base_url: Mapped[str] = mapped_column(Text)
    mode: Mapped[str] = mapped_column(String(16), doc="full | incremental | revisit")
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(
        String(16), doc="running | ok | partial | failed | interrupted"
    )
    exit_code: Mapped[int | None] = mapped_column(Integer)
    summary_json: Mapped[str | None] = mapped_column(Text, doc="counts and failures, JSON")
    worker: Mapped[str | None] = mapped_column(
        String(128), doc="the crawl worker that ran it (distributed crawls); null for one process"
    )
    fleet_run_id: Mapped[int | None] = mapped_column(
        Integer, doc="the fleet run (fleet_runs.id) of a worker's run; null for one process"
    )


class FleetRun(Base):
    """One crawl of a fleet of workers: the runs of every worker that joined one generation
    of the fleet's shared queue in Redis (chalco_crawler.fleet)."""

    __tablename__ = "fleet_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    fleet: Mapped[str] = mapped_column(String(128), doc="the fleet's name in Redis")
    generation: Mapped[str] = mapped_column(
        String(64), unique=True, doc="the generation's id in Redis (a new one per fleet crawl)"
    )
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(
        UTCDateTime, doc="when the last worker left; null while running or if all were killed"
    )
    complete: Mapped[bool | None] = mapped_column(
        Boolean, doc="set when the last worker left: every request queued was finished"
    )
    resumed_by: Mapped[int | None] = mapped_column(
        ForeignKey("fleet_runs.id"),
        doc="the later fleet run that queued again what this one left unfinished",
    )


class FleetFrontierEntry(Base):
    """What a fleet run queued and what it finished, one row per event, so that the archive
    can rebuild the shared queue when Redis loses it. Rows are only ever added (two workers
    never wait on each other's rows): a request is unfinished while it has a `queued` row
    and no `done` row of its fingerprint in the same fleet run."""

    __tablename__ = "fleet_frontier"
    __table_args__ = (Index("ix_fleet_frontier_run_fingerprint", "fleet_run_id", "fingerprint"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    fleet_run_id: Mapped[int] = mapped_column(ForeignKey("fleet_runs.id"))
    fingerprint: Mapped[str] = mapped_column(String(64), doc="the request's, as the queue's filter")
    state: Mapped[str] = mapped_column(String(8), doc="queued | done")
    kind: Mapped[str] = mapped_column(String(8), doc="walk (home and list pages) | page")
    url: Mapped[str] = mapped_column(Text)
    request: Mapped[bytes | None] = mapped_column(
        LargeBinary, doc="queued rows: the request as the shared queue holds it (serialized)"
    )
    worker: Mapped[str] = mapped_column(String(128), doc="the worker that queued or finished it")
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class WarcFile(Base):
    """A WARC file in the home's warc/ directory."""

    __tablename__ = "warc_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(255), unique=True, doc="path relative to warc/")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    size: Mapped[int | None] = mapped_column(Integer, doc="bytes, set when closed")
    sha256: Mapped[str | None] = mapped_column(String(64), doc="of the whole file, when closed")
    # Deferred: the ORM's readers (package, show …) never migrate, and an archive written
    # before migration 0020 has no such columns; verify and the writer read them by name.
    record_count: Mapped[int | None] = mapped_column(
        Integer, deferred=True, doc="records in the file, when sealed (archive.evidence.warc_seal)"
    )
    index_sha256: Mapped[str | None] = mapped_column(
        String(64),
        deferred=True,
        doc="of the file's record index, when sealed: what its capture rows match",
    )


class Capture(Base):
    """One HTTP exchange written to a WARC file: a request record plus a response or revisit."""

    __tablename__ = "captures"
    __table_args__ = (
        Index("ix_captures_url_fetched_at", "url", "fetched_at"),
        Index("ix_captures_payload_sha256", "payload_sha256"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("crawl_runs.id"))
    url: Mapped[str] = mapped_column(Text, doc="the URL requested")
    method: Mapped[str] = mapped_column(String(8))
    status: Mapped[int] = mapped_column(Integer, doc="HTTP status code")
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime)
    media_type: Mapped[str | None] = mapped_column(String(255), doc="Content-Type as received")
    location: Mapped[str | None] = mapped_column(Text, doc="redirect target, absolute")
    etag: Mapped[str | None] = mapped_column(Text)
    last_modified: Mapped[str | None] = mapped_column(Text)
    warc_file_id: Mapped[int] = mapped_column(ForeignKey("warc_files.id"))
    record_type: Mapped[str] = mapped_column(String(16), doc="response | revisit")
    record_id: Mapped[str] = mapped_column(String(64), unique=True, doc="WARC-Record-ID")
    offset: Mapped[int] = mapped_column(Integer, doc="of the response/revisit record")
    length: Mapped[int] = mapped_column(Integer, doc="compressed bytes of that record")
    request_offset: Mapped[int | None] = mapped_column(Integer)
    request_length: Mapped[int | None] = mapped_column(Integer)
    payload_sha256: Mapped[str] = mapped_column(String(64), doc="HTTP payload as on the wire")
    payload_size: Mapped[int] = mapped_column(Integer)
    content_sha256: Mapped[str] = mapped_column(String(64), doc="payload after content decoding")
    content_size: Mapped[int] = mapped_column(Integer)
    oversize: Mapped[bool] = mapped_column(
        Boolean,
        default=False,
        server_default=false(),
        doc="decodes past the crawl's size limit: not inflated; content_* are the wire payload's",
    )
    refers_to_id: Mapped[int | None] = mapped_column(
        ForeignKey("captures.id"), doc="for a revisit: the capture that holds the payload"
    )

    warc_file: Mapped[WarcFile] = relationship()
    refers_to: Mapped[Capture | None] = relationship(remote_side=[id])


class CaptureLoss(Base):
    """A capture whose WARC record was found missing or damaged, and the capture `repair`
    fetched from the site to replace it. The lost capture's row and record stay as they are
    (nothing archived is rewritten); this row, covered by the ledger, says the loss is known
    and where the bytes are now (`verify` notes it; `snapshot` serves the replacement)."""

    __tablename__ = "capture_losses"

    id: Mapped[int] = mapped_column(primary_key=True)
    capture_id: Mapped[int] = mapped_column(
        ForeignKey("captures.id"), unique=True, doc="the capture whose record was lost"
    )
    record_id: Mapped[str] = mapped_column(String(64), doc="the lost record's WARC-Record-ID")
    found: Mapped[str] = mapped_column(Text, doc="what verify found wrong with it")
    replacement_id: Mapped[int] = mapped_column(
        ForeignKey("captures.id"), doc="the capture fetched again to replace it"
    )
    run_id: Mapped[int | None] = mapped_column(ForeignKey("crawl_runs.id"), doc="the repair run")
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Listing(Base):
    """An article link seen on a section's list page: how the article's sections are known."""

    __tablename__ = "listings"
    __table_args__ = (UniqueConstraint("article_url", "section"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site: Mapped[str] = mapped_column(String(64))
    article_url: Mapped[str] = mapped_column(Text, index=True)
    section: Mapped[str] = mapped_column(String(255), doc="section path, e.g. xwdt/gsyw")
    section_name: Mapped[str | None] = mapped_column(Text, doc="e.g. 公司要闻")
    list_url: Mapped[str] = mapped_column(Text, doc="the list page it was last seen on")
    title_listed: Mapped[str | None] = mapped_column(Text, doc="title as the list shows it")
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Article(Base):
    """One article URL. Its content lives in versions."""

    __tablename__ = "articles"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(
        Text, unique=True, doc="canonical article URL (after redirects)"
    )
    site: Mapped[str] = mapped_column(String(64))
    docid: Mapped[int | None] = mapped_column(
        Integer, index=True, doc="TRS document id from the URL"
    )
    status: Mapped[str] = mapped_column(String(8), doc="live | gone")
    gone_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)

    versions: Mapped[list[ArticleVersion]] = relationship(
        back_populates="article", order_by="ArticleVersion.number"
    )


class VersionText(Base):
    """A version's text of more than HUGE_TEXT characters, on SQLite: kept here as UTF-8
    (a BLOB, read as text with CAST(... AS TEXT)) and its column in article_versions null.
    SQLite builds a row's whole record in memory when it writes one, so a 50 MB paragraph in
    both body and body_html cost some 200 MB there; a BLOB that ends its row is written a
    slice at a time (archive.store.version_texts). `ArticleVersion.body` and `.body_html`
    read the text wherever it is."""

    __tablename__ = "version_texts"

    version_id: Mapped[int] = mapped_column(ForeignKey("article_versions.id"), primary_key=True)
    body_html: Mapped[bytes | None] = mapped_column(LargeBinary, doc="UTF-8, when huge")
    body: Mapped[bytes | None] = mapped_column(LargeBinary, doc="UTF-8, when huge")


def _whole_text(stored: Any, beside: Any, version_id: Any) -> Any:
    """A version's text wherever it is kept: in its row (`stored`), or beside it."""
    return func.coalesce(
        stored,
        select(cast(beside, Text))
        .where(VersionText.version_id == version_id)
        .correlate_except(VersionText)
        .scalar_subquery(),
    )


class ArticleVersion(Base):
    """A distinct content of an article. Never updated except for `last_seen_at`, and
    `is_latest` when a newer version arrives."""

    __tablename__ = "article_versions"
    __table_args__ = (UniqueConstraint("article_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id"), index=True)
    number: Mapped[int] = mapped_column(Integer, doc="1, 2, … in order of first sight")
    is_latest: Mapped[bool] = mapped_column(
        Boolean, default=True, server_default=true(), doc="the article's newest version"
    )
    content_sha256: Mapped[str] = mapped_column(String(64), doc="of the normalized record")
    capture_id: Mapped[int] = mapped_column(ForeignKey("captures.id"), doc="first capture")
    title: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str | None] = mapped_column(Text, doc="来源, null when empty")
    source_raw: Mapped[str | None] = mapped_column(Text)
    author: Mapped[str | None] = mapped_column(Text, doc="作者")
    author_raw: Mapped[str | None] = mapped_column(Text)
    published: Mapped[str | None] = mapped_column(
        String(32), doc="ISO 8601: a date, or a datetime at +08:00 when the page shows a time"
    )
    published_raw: Mapped[str | None] = mapped_column(Text, doc="时间 as shown")
    info_raw: Mapped[str | None] = mapped_column(Text, doc="the whole 来源/时间 line as shown")
    stored_body: Mapped[str | None] = mapped_column(
        "body", Text, doc="clean text, one paragraph per line; null when huge (version_texts)"
    )
    stored_body_html: Mapped[str | None] = mapped_column(
        "body_html", Text, doc="body HTML with absolute URLs; null when huge (version_texts)"
    )
    meta_json: Mapped[str | None] = mapped_column(Text, doc="ArticleTitle, PubDate … as JSON")
    encoding: Mapped[str | None] = mapped_column(String(32))
    template: Mapped[str | None] = mapped_column(String(64), doc="which extraction rule matched")
    problems_json: Mapped[str] = mapped_column(Text, doc="JSON list of flags; [] when clean")
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    cause: Mapped[str] = mapped_column(
        String(16),
        default=CAUSE_CRAWL,
        server_default=CAUSE_CRAWL,
        doc="why this version exists: crawl (the page changed), file (a file it names"
        " changed at its URL), reextract (the archived page read again by a newer extractor)",
    )
    extractor_version: Mapped[str | None] = mapped_column(
        String(64), doc="the extraction that read these fields (pipelines.content); null: unknown"
    )
    # The whole texts, in the row or beside it (read-only: the writer writes with Core).
    body: Mapped[str | None] = column_property(
        _whole_text(stored_body, VersionText.body, id).label("body")
    )
    body_html: Mapped[str | None] = column_property(
        _whole_text(stored_body_html, VersionText.body_html, id).label("body_html")
    )

    article: Mapped[Article] = relationship(back_populates="versions")
    capture: Mapped[Capture] = relationship()
    files: Mapped[list[VersionFile]] = relationship(order_by="VersionFile.position")


class VersionCapture(Base):
    """Every capture whose content was this version."""

    __tablename__ = "version_captures"

    version_id: Mapped[int] = mapped_column(ForeignKey("article_versions.id"), primary_key=True)
    capture_id: Mapped[int] = mapped_column(ForeignKey("captures.id"), primary_key=True)


class File(Base):
    """An attachment or image URL and the capture that holds its bytes."""

    __tablename__ = "files"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(Text, unique=True)
    kind: Mapped[str] = mapped_column(String(16), doc="attachment | image")
    capture_id: Mapped[int | None] = mapped_column(ForeignKey("captures.id"))
    sha256: Mapped[str | None] = mapped_column(String(64), doc="content after decoding")
    size: Mapped[int | None] = mapped_column(Integer)
    media_type: Mapped[str | None] = mapped_column(String(255))
    status: Mapped[int | None] = mapped_column(Integer, doc="HTTP status of the last fetch")
    problem: Mapped[str | None] = mapped_column(Text, doc="why it could not be fetched")
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)

    capture: Mapped[Capture | None] = relationship()


class VersionFile(Base):
    """An attachment or image as one version of an article names it."""

    __tablename__ = "version_files"

    version_id: Mapped[int] = mapped_column(ForeignKey("article_versions.id"), primary_key=True)
    file_id: Mapped[int] = mapped_column(
        ForeignKey("files.id"),
        primary_key=True,
        index=True,
        doc="indexed: a revisited file's articles",
    )
    role: Mapped[str] = mapped_column(String(16), primary_key=True, doc="attachment | image")
    name: Mapped[str | None] = mapped_column(Text, doc="the link text, e.g. 年度报告.pdf")
    position: Mapped[int] = mapped_column(Integer)
    capture_id: Mapped[int | None] = mapped_column(
        ForeignKey("captures.id"),
        doc="the capture holding the bytes this version names, when they are not the file's"
        " own (a revisit found the file changed at the same URL); null: files.capture_id",
    )

    file: Mapped[File] = relationship()
    capture: Mapped[Capture | None] = relationship()

    @property
    def url(self) -> str:
        return self.file.url

    @property
    def sha256(self) -> str | None:
        """SHA-256 of the bytes this version names."""
        return self.capture.content_sha256 if self.capture else self.file.sha256

    @property
    def size(self) -> int | None:
        return self.capture.content_size if self.capture else self.file.size

    @property
    def media_type(self) -> str | None:
        return self.capture.media_type if self.capture else self.file.media_type

    @property
    def bytes_capture(self) -> Capture | None:
        """The capture whose payload holds the bytes this version names."""
        return self.capture or self.file.capture


class LedgerEntry(Base):
    """Tamper evidence: one entry per capture, version, closed WARC file, archived file,
    version's list of named files and article status, each hash covering the previous one,
    so that a deleted, edited or replaced record breaks the chain or no longer matches its
    entry (`chalco-archive verify`; archive.store.ledger)."""

    __tablename__ = "ledger"
    __table_args__ = (Index("ix_ledger_kind_ref_id", "kind", "ref_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(
        String(16),
        doc="capture | version | warc_file | file | named_files | article | version_files",
    )
    ref_id: Mapped[int] = mapped_column(
        Integer, doc="id of the row in its table (named_files, version_files: the version)"
    )
    digest: Mapped[str] = mapped_column(String(64), doc="SHA-256 of the row's canonical form")
    entry_hash: Mapped[str] = mapped_column(
        String(64), doc="SHA-256 of the previous entry_hash and this digest"
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    position: Mapped[int | None] = mapped_column(
        Integer, doc="its leaf's place in the ledger's Merkle tree, from 0 (migration 0018)"
    )


class LedgerNode(Base):
    """A node of the ledger's Merkle tree (RFC 9162): the hash of the perfect subtree of
    2**level leaves from leaf position * 2**level. Written as the ledger grows, never
    changed; what inclusion and consistency proofs are read from (archive.store.merkle)."""

    __tablename__ = "ledger_nodes"

    level: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    position: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(LargeBinary(32), doc="SHA-256, 32 bytes")


class TreeHead(Base):
    """The ledger's Merkle tree as it stood at the end of a run (or an `attest`): its size
    and root, and the RFC 3161 timestamp token an authority gave for it, if any."""

    __tablename__ = "ledger_heads"

    id: Mapped[int] = mapped_column(primary_key=True)
    tree_size: Mapped[int] = mapped_column(Integer, doc="ledger entries under the root")
    root_hash: Mapped[str] = mapped_column(String(64), doc="the tree's root, hex")
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, doc="our clock, not proof")
    run_id: Mapped[int | None] = mapped_column(
        ForeignKey("crawl_runs.id"), doc="the run it ends; null: recorded by attest"
    )
    token: Mapped[bytes | None] = mapped_column(
        LargeBinary, doc="the authority's TimeStampResp (DER), over the head's message"
    )
    token_sha256: Mapped[str | None] = mapped_column(String(64), doc="of the token")
    tsa_url: Mapped[str | None] = mapped_column(Text, doc="the authority that gave it")
    timestamped_at: Mapped[datetime | None] = mapped_column(
        UTCDateTime, doc="the token's genTime: the head existed by then"
    )
