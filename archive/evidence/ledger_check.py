"""Checking the ledger: its hash chain whole, and every covered row's digest against the
newest entry for it (an edited, added or deleted row is found)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row, Table, func, select
from sqlalchemy.orm import Session

from archive.evidence.findings import Problem, Progress, VerifyReport
from archive.store.ledger import (
    COVERED_COLUMNS,
    GENESIS,
    HISTORY_KINDS,
    chain,
    named_files_row,
    row_digest,
    version_files_row,
)
from archive.store.models import (
    Article,
    ArticleVersion,
    Capture,
    CaptureLoss,
    File,
    LedgerEntry,
    VersionFile,
    WarcFile,
)

LEDGER: Table = LedgerEntry.__table__  # type: ignore[assignment]
TABLES: dict[str, Any] = {
    "capture": Capture.__table__,
    "version": ArticleVersion.__table__,
    "warc_file": WarcFile.__table__,
    "file": File.__table__,
    "article": Article.__table__,
    "capture_loss": CaptureLoss.__table__,
}
# How problems name a ledger kind that is not one row of a table.
LABELS = {
    "version_files": "the files named by version",
    "named_files": "the files named by version",
    "version_cause": "the cause and extractor of version",
    "capture_loss": "the acknowledged loss",
}
# Kinds whose entries are checked where they exist, but that no row must have: written
# before migration 0012, whose `named_files` cover the same rows.
SUPERSEDED = frozenset({"version_files"})


@dataclass(frozen=True)
class _RowDigest:
    """What the ledger check keeps of a row: not the row (the versions' bodies would all be
    in memory at once), its digest and what names it in a problem's line."""

    digest: str
    name: str | None
    needs_entry: bool = True
    """False for a WARC file still open and a file without bytes: their entries come later."""


def _row_digests(session: Session, counter: _Counter) -> dict[str, dict[int, _RowDigest]]:
    """The digest of every row the ledger covers, by kind and id, the rows read in batches."""
    # The article URL that names a version in a problem's line.
    version_urls: dict[int, str] = {
        version_id: url
        for version_id, url in session.execute(
            select(ArticleVersion.id, Article.url).join(
                Article, Article.id == ArticleVersion.article_id
            )
        )
    }
    digests: dict[str, dict[int, _RowDigest]] = {}
    for kind, table in TABLES.items():
        by_id = digests[kind] = {}
        rows = session.execute(select(table).execution_options(yield_per=1000))
        for row in rows.mappings():
            name = row.get("url") or row.get("name")
            if kind == "version":
                name = version_urls.get(row["id"])
            needs_entry = kind not in ("warc_file", "file") or row["sha256"] is not None
            by_id[row["id"]] = _RowDigest(row_digest(kind, dict(row)), name, needs_entry)
            counter.step()
    digests["version_cause"] = {
        row.id: _RowDigest(
            row_digest("version_cause", dict(row._mapping)), version_urls.get(row.id)
        )
        for row in session.execute(
            select(ArticleVersion.id, ArticleVersion.cause, ArticleVersion.extractor_version)
        )
    }
    for kind, canonical in (
        ("version_files", _versions_naming_later_bytes(session)),
        ("named_files", _named_files(session)),
    ):
        digests[kind] = {
            version_id: _RowDigest(row_digest(kind, row), version_urls.get(version_id))
            for version_id, row in canonical.items()
        }
    return digests


class _Counter:
    """Rows and entries checked, told to the progress every thousand."""

    def __init__(self, session: Session, progress: Progress):
        self.progress = progress
        self.done = 0
        # About what the pass reads: each covered row, then each ledger entry. The highest
        # id of each table for its count: count(*) would read the versions' bodies.
        self.total = sum(
            session.scalar(select(func.max(table.c.id))) or 0
            for table in (*TABLES.values(), LEDGER)
        )
        progress.rows(0, self.total)

    def step(self) -> None:
        self.done += 1
        if self.done % 1000 == 0:
            self.progress.rows(min(self.done, self.total), self.total)

    def finish(self) -> None:
        self.progress.rows(self.total, self.total)


def check_ledger(session: Session, report: VerifyReport, progress: Progress) -> None:
    counter = _Counter(session, progress)
    rows = _row_digests(session, counter)
    covered: dict[str, set[int]] = {kind: set() for kind in rows}
    # A row whose kind keeps a history answers to its latest entry only.
    latest: dict[tuple[str, int], Row[Any]] = {}
    head = GENESIS
    # Plain rows, read in batches: ORM objects for every entry would all stay in the session.
    entries = session.execute(
        select(LEDGER).order_by(LEDGER.c.id).execution_options(yield_per=1000)
    )
    for entry in entries:
        report.ledger_entries += 1
        counter.step()
        head = chain(head, entry.digest)
        if head != entry.entry_hash:
            report.problems.append(
                Problem(f"ledger broken at entry {entry.id}: an entry was edited or removed")
            )
            head = entry.entry_hash
        if entry.kind not in COVERED_COLUMNS:
            report.problems.append(Problem(f"ledger entry {entry.id} of unknown kind"))
            continue
        if entry.kind in HISTORY_KINDS:
            latest[entry.kind, entry.ref_id] = entry
        else:
            _check_entry(entry, rows, report)
        covered[entry.kind].add(entry.ref_id)
    for entry in latest.values():
        _check_entry(entry, rows, report)
    for kind, by_id in rows.items():
        if kind in SUPERSEDED:
            continue
        for row_id in sorted(set(by_id) - covered[kind]):
            if by_id[row_id].needs_entry:
                report.problems.append(
                    Problem(f"{LABELS.get(kind, kind)} {row_id} is not in the ledger")
                )
    report.ledger_head = head
    counter.finish()


def _check_entry(
    entry: Row[Any], rows: dict[str, dict[int, _RowDigest]], report: VerifyReport
) -> None:
    row = rows[entry.kind].get(entry.ref_id)
    if row is not None and row.digest == entry.digest:
        return  # the rule: nothing to say (and nothing to build) for the rows as written
    what = f"{LABELS.get(entry.kind, entry.kind)} {entry.ref_id}"
    if row is None:
        report.problems.append(Problem(f"{what} was deleted"))
    else:
        report.problems.append(Problem(f"{what} was edited", url=row.name))


def _named_files(session: Session) -> dict[int, dict[str, Any]]:
    """The canonical files rows of every version (an empty list for one naming none)."""
    files: dict[int, list[tuple[int, str, str | None, int, int | None]]] = {
        version_id: [] for version_id in session.scalars(select(ArticleVersion.id))
    }
    for row in session.execute(
        select(
            VersionFile.version_id,
            VersionFile.file_id,
            VersionFile.role,
            VersionFile.name,
            VersionFile.position,
            VersionFile.capture_id,
        )
    ):
        files.setdefault(row.version_id, []).append(
            (row.file_id, row.role, row.name, row.position, row.capture_id)
        )
    return {version_id: named_files_row(version_id, named) for version_id, named in files.items()}


def _versions_naming_later_bytes(session: Session) -> dict[int, dict[str, Any]]:
    """The canonical files rows of the versions that name a capture's bytes of a file."""
    naming = select(VersionFile.version_id).where(VersionFile.capture_id.is_not(None))
    files: dict[int, list[tuple[int, str, int, int | None]]] = {}
    for row in session.execute(
        select(
            VersionFile.version_id,
            VersionFile.file_id,
            VersionFile.role,
            VersionFile.position,
            VersionFile.capture_id,
        ).where(VersionFile.version_id.in_(naming))
    ):
        files.setdefault(row.version_id, []).append(
            (row.file_id, row.role, row.position, row.capture_id)
        )
    return {version_id: version_files_row(version_id, named) for version_id, named in files.items()}
