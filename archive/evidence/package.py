"""Packages of archived pages as WACZ files, built from the archive's own WARC records.

A package holds a WARC file of records copied byte for byte from the archive (each record a
gzip member, as the archive wrote it), so a page's bytes and digests in the package are the
ones captured. py-wacz (`wacz create`) indexes that WARC (CDXJ) and writes the page list and
the datapackage with a SHA-256 per file; pywb and ReplayWeb.page replay the result.

What goes in:
- with article URLs: the newest capture of each article (status 200 or 304, as `snapshot`
  picks it) and the captures of the attachments and images its latest version names;
- with a time window: every article version first seen in it (`since` inclusive, `until`
  exclusive), each with the capture it was first seen in and the captures of its files;
  both together: the versions of those articles first seen in the window;
- with every capture, its request record, and for a revisit the capture holding the payload.
One page is listed per article version packaged (one per article with URLs).

Every record copied comes with its proof (archive.evidence.package_proof: the capture row,
its ledger entry, the inclusion proof against a timestamped tree head), and the package is
signed as the WACZ signing spec says (archive.evidence.package_signing), so that
`check-package` needs nothing but the file (archive.evidence.package_check).
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import io
import json
import shutil
import sys
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any, BinaryIO

from sqlalchemy import select
from sqlalchemy.orm import Session
from warcio.archiveiterator import ArchiveIterator
from warcio.timeutils import datetime_to_iso_date, iso_date_to_timestamp

from archive.errors import ArchiveError, ArticleNotFound, SnapshotCorrupt, SnapshotNotFound
from archive.evidence.package_proof import PROOF_MEMBER, build_proof
from archive.evidence.package_reader import package_pages
from archive.evidence.package_signing import Signer, anonymous_signer, seal_package
from archive.output_file import whole_file
from archive.store.home import ArchiveHome
from archive.store.models import Article, ArticleVersion, Capture
from archive.store.warc_names import file_sha256
from archive.store.warcstore import WARC_VERSION, _Sha256WARCWriter

WARC_NAME = "data.warc.gz"
PAGES_FORMAT = "json-pages-1.0"


class PackageError(ArchiveError):
    """A package cannot be built: nothing selected, a bad output path, py-wacz failed."""


@dataclass(frozen=True)
class PackageSummary:
    """What a package holds and how to recognise it."""

    output: Path
    pages: int
    """Entries in pages/pages.jsonl: one per article version packaged."""
    records: int
    """WARC records copied from the archive (requests, responses, revisits)."""
    bytes: int
    """Size of the .wacz file."""
    sha256: str
    """Of the .wacz file."""
    missing: list[str] = field(default_factory=list)
    """Attachments and images the packaged versions name but the archive never fetched."""
    oversize: list[str] = field(default_factory=list)
    """URLs of packaged captures flagged oversize (copied as received, never inflated)."""
    signer: str = ""
    """The SHA-256 fingerprint of the key that signed the package."""
    heads: int = 0
    """Tree heads the package's proofs lead to."""
    untimestamped: int = 0
    """Of those, heads without a timestamp token (no authority named or reached)."""


@dataclass(frozen=True)
class _Page:
    url: str
    title: str | None
    capture: Capture


def _newest_capture(session: Session, url: str) -> Capture:
    """The newest 200 or 304 capture of `url`: the one `snapshot` shows."""
    capture = session.scalar(
        select(Capture)
        .where(Capture.url == url, Capture.status.in_((200, 304)))
        .order_by(Capture.fetched_at.desc(), Capture.id.desc())
        .limit(1)
    )
    if capture is None:
        raise SnapshotNotFound(f"no capture of {url}")
    return capture


def _select_by_url(session: Session, urls: Sequence[str]) -> list[tuple[_Page, ArticleVersion]]:
    selected = []
    for url in dict.fromkeys(urls):
        article = session.scalar(select(Article).where(Article.url == url))
        if article is None or not article.versions:
            raise ArticleNotFound(f"no archived article at {url}")
        latest = article.versions[-1]
        page = _Page(url=url, title=latest.title, capture=_newest_capture(session, url))
        selected.append((page, latest))
    return selected


def _select_by_window(
    session: Session, since: datetime | None, until: datetime | None, urls: Sequence[str] | None
) -> list[tuple[_Page, ArticleVersion]]:
    query = (
        select(Article.url, ArticleVersion)
        .join(Article, Article.id == ArticleVersion.article_id)
        .order_by(ArticleVersion.first_seen_at, ArticleVersion.id)
    )
    if since is not None:
        query = query.where(ArticleVersion.first_seen_at >= since)
    if until is not None:
        query = query.where(ArticleVersion.first_seen_at < until)
    if urls:
        known = set(session.scalars(select(Article.url).where(Article.url.in_(list(urls)))))
        for url in urls:
            if url not in known:
                raise ArticleNotFound(f"no archived article at {url}")
        query = query.where(Article.url.in_(list(urls)))
    return [
        (_Page(url=url, title=version.title, capture=version.capture), version)
        for url, version in session.execute(query)
    ]


def _payload_holder(session: Session, capture: Capture) -> Capture:
    """The capture whose record holds the payload: the revisit's original, else itself."""
    if capture.record_type != "revisit":
        return capture
    if capture.refers_to_id is None:
        raise SnapshotCorrupt(f"revisit capture {capture.id} of {capture.url} names no original")
    original = session.get(Capture, capture.refers_to_id)
    if original is None:
        raise SnapshotCorrupt(
            f"capture {capture.refers_to_id} named by revisit {capture.id} is gone"
        )
    return original


def _page_line(session: Session, page: _Page) -> tuple[str, dict[str, str]]:
    """The page's entry in pages.jsonl, and its 14-digit timestamp (how indexes name it)."""
    # A 304 revisit confirms earlier content, but a replay tool would replay its 304 status:
    # the page points at the capture holding the 200 response instead.
    shown = page.capture
    if shown.status != 200:
        shown = _payload_holder(session, shown)
    iso = datetime_to_iso_date(shown.fetched_at.astimezone(UTC).replace(tzinfo=None))
    return iso_date_to_timestamp(iso), {"url": page.url, "ts": iso, "title": page.title or page.url}


def _with_originals(session: Session, captures: Iterable[Capture]) -> list[Capture]:
    """The captures and, for each revisit, the one holding its payload; oldest first."""
    chosen: dict[int, Capture] = {}
    pending = list(captures)
    while pending:
        capture = pending.pop()
        if capture.id in chosen:
            continue
        chosen[capture.id] = capture
        if capture.record_type == "revisit":
            pending.append(_payload_holder(session, capture))
    return sorted(chosen.values(), key=lambda c: (c.fetched_at, c.id))


def _read_member(handle: BinaryIO, offset: int, length: int, where: str) -> bytes:
    """One record's gzip member, as stored."""
    handle.seek(offset)
    data = handle.read(length)
    if len(data) != length:
        raise SnapshotCorrupt(f"WARC file truncated: {where}")
    return data


def _check_member(data: bytes, capture: Capture, expected_type: str, where: str) -> None:
    """The copied bytes are the record the database says, and its payload is intact."""
    try:
        record = next(ArchiveIterator(io.BytesIO(data)))
        record_type = record.rec_type
        record_id = record.rec_headers.get_header("WARC-Record-ID")
        concurrent_to = record.rec_headers.get_header("WARC-Concurrent-To")
        digest = hashlib.sha256()
        if expected_type == "response":  # as stored, never content-decoded, a slice at a time
            for chunk in iter(lambda: record.raw_stream.read(1 << 20), b""):
                digest.update(chunk)
    except Exception as error:  # warcio raises many kinds on damaged input
        # warcio's message quotes the damaged bytes: name the error, chain the detail.
        raise SnapshotCorrupt(
            f"unreadable WARC record in {where} ({type(error).__name__})"
        ) from error
    if record_type != expected_type:
        raise SnapshotCorrupt(f"{where} holds a {record_type} record, not a {expected_type}")
    if expected_type == "request":
        if concurrent_to != capture.record_id:
            raise SnapshotCorrupt(f"request record in {where} is not the one of {capture.url}")
        return
    if record_id != capture.record_id:
        raise SnapshotCorrupt(f"{where} holds record {record_id}, not {capture.record_id}")
    if expected_type == "response" and digest.hexdigest() != capture.payload_sha256:
        raise SnapshotCorrupt(f"payload of capture {capture.id} does not match its SHA-256")


def _write_warc(
    home: ArchiveHome, captures: Sequence[Capture], target: Path, description: str
) -> int:
    """A WARC file: a warcinfo record of its own, then the captures' records copied as stored.
    Returns the number of records copied."""
    copied = 0
    with open(target, "wb") as out:
        writer = _Sha256WARCWriter(out, gzip=True, warc_version=WARC_VERSION)
        info = {
            "software": "chalco-archive package (warcio)",
            "format": "WARC File Format 1.1",
            "description": description,
        }
        writer.write_record(writer.create_warcinfo_record(WARC_NAME, info))
        by_file: dict[str, BinaryIO] = {}
        with contextlib.ExitStack() as sources:
            for capture in captures:
                name = capture.warc_file.name
                if name not in by_file:
                    try:
                        by_file[name] = sources.enter_context(open(home.warc_dir / name, "rb"))
                    except FileNotFoundError as error:
                        raise SnapshotCorrupt(f"WARC file missing: {name}") from error
                source = by_file[name]
                if capture.request_offset is not None and capture.request_length is not None:
                    where = f"{name} at offset {capture.request_offset}"
                    data = _read_member(
                        source, capture.request_offset, capture.request_length, where
                    )
                    _check_member(data, capture, "request", where)
                    out.write(data)
                    copied += 1
                where = f"{name} at offset {capture.offset}"
                data = _read_member(source, capture.offset, capture.length, where)
                _check_member(data, capture, capture.record_type, where)
                out.write(data)
                copied += 1
    return copied


def _buffer_raw_content(record: Any) -> None:
    """cdxj-indexer's buffer_record_content, without undoing Content-Encoding.

    py-wacz's indexer spools every record's content with its Content-Encoding undone, and
    warcio inflates a brotli slice whole: a decompression bomb in the archive would take
    gigabytes of memory or disk. The index (offsets, digests from the WARC headers, status,
    type) is the same without it; only warcinfo and POST request bodies are read from the
    spool, and those carry no Content-Encoding."""
    from cdxj_indexer.bufferiter import BUFF_SIZE

    spool = tempfile.SpooledTemporaryFile(BUFF_SIZE)
    shutil.copyfileobj(record.raw_stream, spool)
    spool.seek(0)
    record.buffered_stream = spool


@contextlib.contextmanager
def _indexing_without_decoding() -> Iterator[None]:
    from cdxj_indexer import bufferiter

    original = bufferiter.buffer_record_content
    bufferiter.buffer_record_content = _buffer_raw_content
    try:
        yield
    finally:
        bufferiter.buffer_record_content = original


def _run_wacz(arguments: list[str]) -> None:
    """`wacz create ...` through py-wacz's own entry point; its chatter kept for errors."""
    from wacz.main import main as wacz_main  # here: it loads frictionless, slow to import

    chatter = io.StringIO()
    failure: Exception | None = None
    try:
        with contextlib.redirect_stdout(chatter), _indexing_without_decoding():
            code = wacz_main(arguments)
    except Exception as error:  # py-wacz raises bare ValueErrors and the like
        failure = error
    if failure is not None:
        _collect_quietly(failure)
        if isinstance(failure, OSError):  # a full disk: said with the package's name
            raise OSError(failure.errno, failure.strerror, failure.filename)
        raise PackageError(f"wacz create failed: {failure}") from failure
    if code:
        lines = chatter.getvalue().strip().splitlines()
        raise PackageError(f"wacz create failed: {lines[-1] if lines else f'exit {code}'}")


def _collect_quietly(error: Exception) -> None:
    """py-wacz leaves its ZipFile open when a write fails. Closed when collected, it fails
    again (the disk is still full), which Python prints as a stray `ZipFile.__del__`
    traceback after the one line the user is given: collect it now, and say nothing."""
    previous = sys.unraisablehook
    sys.unraisablehook = lambda _unraisable: None
    try:
        error.__traceback__ = None  # its frames hold the ZipFile
        gc.collect()
    finally:
        sys.unraisablehook = previous


def _window(since: datetime | None, until: datetime | None) -> str:
    start = since.isoformat() if since else "the start"
    end = until.isoformat() if until else "now"
    return f"from {start} until {end}"


def _describe(
    urls: Sequence[str] | None, since: datetime | None, until: datetime | None, pages: int
) -> str:
    parts = [f"{pages} article pages from chalco-archive"]
    if since is not None or until is not None:
        parts.append(f"versions first seen {_window(since, until)}")
    if urls:
        parts.append(f"{len(urls)} articles named")
    return "; ".join(parts)


def _listed_pages(wacz_path: Path) -> int:
    return len(package_pages(wacz_path))  # read back with its member names checked first


def build_package(
    session: Session,
    home: ArchiveHome,
    output: Path,
    *,
    urls: list[str] | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    title: str | None = None,
    signer: Signer | None = None,
) -> PackageSummary:
    """Write a WACZ file at `output` holding the pages asked for, with their attachments and
    images (see the module's docstring for what is selected). The file is written beside
    `output` and moved into place when complete. `since` and `until` must carry a zone."""
    output = Path(output)
    if output.suffix != ".wacz":
        raise PackageError(f"{output}: a package's name must end in .wacz")
    if not output.parent.is_dir():
        raise PackageError(f"{output.parent}: no such directory")
    if any(bound is not None and bound.tzinfo is None for bound in (since, until)):
        raise PackageError("since and until must carry a time zone")
    if since is not None and until is not None and since >= until:
        raise PackageError("the window is empty: --since must be before --until")
    if since is not None or until is not None:
        selected = _select_by_window(session, since, until, urls)
        if not selected:
            raise ArticleNotFound(f"no article version first seen {_window(since, until)}")
    elif urls:
        selected = _select_by_url(session, urls)
    else:
        raise PackageError("name the articles (--url) or a time window (--since/--until)")

    page_captures: list[Capture] = []
    file_captures: dict[int, Capture] = {}
    missing: dict[str, None] = {}
    lines: dict[tuple[str, str], dict[str, str]] = {}
    for page, version in selected:
        page_captures.append(page.capture)
        timestamp, line = _page_line(session, page)
        lines.setdefault((page.url, timestamp), line)
        for named in version.files:
            held = named.bytes_capture  # the bytes this version names
            if held is None:
                missing[named.file.url] = None
            else:
                file_captures[held.id] = held
    captures = _with_originals(session, [*page_captures, *file_captures.values()])
    description = _describe(urls, since, until, len(lines))
    proof = build_proof(session, captures)  # before any work: every record must be proven
    signer = signer or anonymous_signer()

    with whole_file(output) as partial:
        with TemporaryDirectory(prefix="chalco-package-") as work:
            warc_path = Path(work) / WARC_NAME
            records = _write_warc(home, captures, warc_path, description)
            pages_path = Path(work) / "pages.jsonl"
            header = {"format": PAGES_FORMAT, "id": "pages", "title": title or "Pages"}
            with open(pages_path, "w", encoding="utf-8") as handle:
                for entry in [header, *lines.values()]:
                    handle.write(json.dumps(entry, ensure_ascii=False) + "\n")
            _run_wacz(
                [
                    "create",
                    "--output",
                    str(partial),
                    "--pages",
                    str(pages_path),
                    "--hash-type",
                    "sha256",
                    "--title",
                    title or "chalco-archive package",
                    "--desc",
                    description,
                    str(warc_path),
                ]
            )
        seal_package(
            partial,
            {PROOF_MEMBER: json.dumps(proof, ensure_ascii=False).encode("utf-8")},
            signer,
            _software(),
        )
        listed = _listed_pages(partial)
        if listed != len(lines):
            raise PackageError(
                f"wacz create listed {listed} of {len(lines)} pages: a page's record is missing"
            )
        size = partial.stat().st_size
        sha256 = file_sha256(partial)
    return PackageSummary(
        output=output,
        pages=len(lines),
        records=records,
        bytes=size,
        sha256=sha256,
        missing=list(missing),
        oversize=list(dict.fromkeys(c.url for c in captures if c.oversize)),
        signer=signer.fingerprint,
        heads=len(proof["heads"]),
        untimestamped=sum(1 for head in proof["heads"] if head["token"] is None),
    )


def _software() -> str:
    from importlib.metadata import version

    return f"chalco-archive {version('chalco-archive')}"
