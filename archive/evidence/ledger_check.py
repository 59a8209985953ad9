"""Checking the ledger: its hash chain whole, every covered row's digest against the newest
entry for it (an edited, added or deleted row is found), and its Merkle tree rebuilt from
the entries against every recorded tree head (archive.evidence.tree_check).

Rows and entries are read as plain tuples with SQL text (`exec_driver_sql`), the same on
SQLite and PostgreSQL: an ORM object or a typed row per entry cost several times the hashing.
Times are hashed as stored (the writer stores `stored_time`, the text `row_digest` makes).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import Connection, func, select
from sqlalchemy.orm import Session

from archive.evidence.findings import Problem, Progress, VerifyReport
from archive.evidence.tree_check import TreeCheck
from archive.store import merkle
from archive.store.ledger import (
    CANONICAL_JSON,
    COVERED_COLUMNS,
    FLAG_COLUMNS,
    GENESIS,
    HISTORY_KINDS,
    named_files_row,
    row_digest,
    version_files_row,
)
from archive.store.tables import (
    ARTICLES,
    CAPTURES,
    FILES,
    LEDGER,
    LEDGER_HEADS,
    VERSIONS,
    WARC_FILES,
)

TABLES = {
    "capture": CAPTURES,
    "version": VERSIONS,
    "warc_file": WARC_FILES,
    "file": FILES,
    "article": ARTICLES,
    "tree_head": LEDGER_HEADS,
}
# How problems name a ledger kind that is not one row of a table.
LABELS = {
    "version_files": "the files named by version",
    "named_files": "the files named by version",
    "version_cause": "the cause and extractor of version",
    "tree_head": "tree head",
}
# Kinds whose entries are checked where they exist, but that no row must have: written
# before migration 0012, whose `named_files` cover the same rows.
SUPERSEDED = frozenset({"version_files"})
# Rows whose entry comes later: a WARC file still open, a file whose bytes are not archived.
ENTRY_LATER = {"warc_file": "sha256", "file": "sha256"}
BATCH = 2000


def _stream(connection: Connection, sql: str) -> Iterator[Sequence[Any]]:
    """Plain tuples of a query, a batch at a time (a server-side cursor on PostgreSQL)."""
    result = connection.execution_options(stream_results=True).exec_driver_sql(sql)
    while rows := result.fetchmany(BATCH):
        yield from rows


def _digest_function(kind: str) -> Any:
    """SHA-256 of a row tuple (its covered columns in sorted order, then any flag columns)
    as canonical JSON: what row_digest makes of the row, without a dict per call to it."""
    columns = sorted(COVERED_COLUMNS[kind])
    flags = FLAG_COLUMNS.get(kind, ())
    encode = CANONICAL_JSON.encode
    sha256 = hashlib.sha256
    width = len(columns)
    end = width + len(flags)

    def digest(row: Sequence[Any]) -> bytes:
        canonical = dict(zip(columns, row[:width], strict=True))
        for name, value in zip(flags, row[width:end], strict=True):
            if value:
                canonical[name] = True
        return sha256(encode(canonical).encode("utf-8")).digest()

    return digest, columns, flags


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

    def step(self, count: int = 1) -> None:
        before = self.done // 1000
        self.done += count
        if self.done // 1000 != before:
            self.progress.rows(min(self.done, self.total), self.total)

    def finish(self) -> None:
        self.progress.rows(self.total, self.total)


def _quoted(columns: Sequence[str]) -> str:
    return ", ".join(f'"{column}"' for column in columns)


def _row_digests(
    connection: Connection, counter: _Counter
) -> tuple[dict[str, dict[int, bytes]], dict[str, set[int]]]:
    """The digest of every row the ledger covers, by kind and id, and the ids of rows whose
    entry comes later. Only the digests are kept (32 bytes a row), not the rows."""
    digests: dict[str, dict[int, bytes]] = {}
    later: dict[str, set[int]] = {}
    for kind, table in TABLES.items():
        digest, columns, flags = _digest_function(kind)
        marker = ENTRY_LATER.get(kind)
        selected = [*columns, *flags] + ([marker] if marker else [])
        by_id = digests[kind] = {}
        waiting = later[kind] = set()
        at_id = columns.index("id")
        for row in _stream(connection, f"SELECT {_quoted(selected)} FROM {table.name}"):
            by_id[row[at_id]] = digest(row)
            if marker and row[-1] is None:
                waiting.add(row[at_id])
        counter.step(len(by_id))
    digest, columns, _ = _digest_function("version_cause")
    at_id = columns.index("id")
    digests["version_cause"] = {
        row[at_id]: digest(row)
        for row in _stream(connection, f"SELECT {_quoted(columns)} FROM {VERSIONS.name}")
    }
    for kind, canonical in (
        ("version_files", _versions_naming_later_bytes(connection)),
        ("named_files", _named_files(connection)),
    ):
        digests[kind] = {
            version_id: bytes.fromhex(row_digest(kind, row))
            for version_id, row in canonical.items()
        }
    return digests, later


def check_ledger(
    session: Session,
    report: VerifyReport,
    progress: Progress,
    tree: TreeCheck | None = None,
) -> None:
    """The chain, the rows against their entries, and (with `tree`) the Merkle tree."""
    connection = session.connection()
    counter = _Counter(session, progress)
    rows, later = _row_digests(connection, counter)
    tree = tree or TreeCheck(session)
    covered: dict[str, set[int]] = {kind: set() for kind in rows}
    # A row whose kind keeps a history answers to its latest entry only.
    latest: dict[tuple[str, int], tuple[int, str, int, str]] = {}
    head = GENESIS
    sha256 = hashlib.sha256
    leaf_of = merkle.leaf_hash
    frontier = merkle.Frontier()
    heads_at = tree.sizes()
    entries = _stream(
        connection,
        f'SELECT "id", "kind", "ref_id", "digest", "entry_hash", "position" FROM {LEDGER.name}'
        ' ORDER BY "id"',
    )
    count = 0
    for entry_id, kind, ref_id, digest, entry_hash, position in entries:
        count += 1
        head = sha256((head + digest).encode("ascii")).hexdigest()
        if head != entry_hash:
            report.problems.append(
                Problem(f"ledger broken at entry {entry_id}: an entry was edited or removed")
            )
            head = entry_hash
        if position != frontier.size:
            tree.misplaced(entry_id, position, frontier.size)
        frontier.append_leaf_only(leaf_of(f"{kind} {ref_id} {digest}".encode("ascii")))
        if frontier.size in heads_at:
            tree.at_size(frontier.size, frontier.root())
        by_id = rows.get(kind)
        if by_id is None:
            report.problems.append(Problem(f"ledger entry {entry_id} of unknown kind"))
            continue
        if kind in HISTORY_KINDS:
            latest[kind, ref_id] = (entry_id, kind, ref_id, digest)
        elif by_id.get(ref_id) != bytes.fromhex(digest):
            _mismatch(connection, report, by_id, kind, ref_id)
        covered[kind].add(ref_id)
        if count % 1000 == 0:
            counter.step(1000)
    report.ledger_entries = count
    for _entry_id, kind, ref_id, digest in latest.values():
        if rows[kind].get(ref_id) != bytes.fromhex(digest):
            _mismatch(connection, report, rows[kind], kind, ref_id)
    for kind, by_id in rows.items():
        if kind in SUPERSEDED:
            continue
        waiting = later.get(kind, set())
        for row_id in sorted(set(by_id) - covered[kind] - waiting):
            report.problems.append(
                Problem(f"{LABELS.get(kind, kind)} {row_id} is not in the ledger")
            )
    report.ledger_head = head
    tree.finish(frontier, report)
    counter.finish()


def _mismatch(
    connection: Connection,
    report: VerifyReport,
    by_id: dict[int, bytes],
    kind: str,
    ref_id: int,
) -> None:
    what = f"{LABELS.get(kind, kind)} {ref_id}"
    if ref_id not in by_id:
        report.problems.append(Problem(f"{what} was deleted"))
    else:
        report.problems.append(
            Problem(f"{what} was edited", url=_name_of(connection, kind, ref_id))
        )


def _name_of(connection: Connection, kind: str, ref_id: int) -> str | None:
    """What names a row in a problem's line: its URL or file name, a version's article."""
    if kind in ("capture", "file", "article"):
        table = TABLES[kind]
        return connection.scalar(select(table.c.url).where(table.c.id == ref_id))
    if kind == "warc_file":
        return connection.scalar(select(WARC_FILES.c.name).where(WARC_FILES.c.id == ref_id))
    if kind == "tree_head":
        return None
    return connection.scalar(
        select(ARTICLES.c.url)
        .join(VERSIONS, VERSIONS.c.article_id == ARTICLES.c.id)
        .where(VERSIONS.c.id == ref_id)
    )


def _named_files(connection: Connection) -> dict[int, dict[str, Any]]:
    """The canonical files rows of every version (an empty list for one naming none)."""
    files: dict[int, list[tuple[int, str, str | None, int, int | None]]] = {
        row[0]: [] for row in _stream(connection, f'SELECT "id" FROM {VERSIONS.name}')
    }
    for version_id, *named in _stream(
        connection,
        'SELECT "version_id", "file_id", "role", "name", "position", "capture_id"'
        " FROM version_files",
    ):
        files.setdefault(version_id, []).append(tuple(named))  # type: ignore[arg-type]
    return {version_id: named_files_row(version_id, named) for version_id, named in files.items()}


def _versions_naming_later_bytes(connection: Connection) -> dict[int, dict[str, Any]]:
    """The canonical files rows of the versions that name a capture's bytes of a file."""
    files: dict[int, list[tuple[int, str, int, int | None]]] = {}
    for version_id, *named in _stream(
        connection,
        'SELECT "version_id", "file_id", "role", "position", "capture_id" FROM version_files'
        ' WHERE "version_id" IN (SELECT "version_id" FROM version_files'
        ' WHERE "capture_id" IS NOT NULL)',
    ):
        files.setdefault(version_id, []).append(tuple(named))  # type: ignore[arg-type]
    return {version_id: version_files_row(version_id, named) for version_id, named in files.items()}
