"""Checking the ledger: its hash chain whole, every covered row's digest against the newest
entry for it (an edited, added or deleted row is found), and its Merkle tree rebuilt from
the entries against every recorded tree head (archive.evidence.tree_check).

Rows and entries are read as plain tuples with SQL text (`exec_driver_sql`), the same on
SQLite and PostgreSQL: an ORM object or a typed row per entry cost several times the hashing.
Times are hashed as stored (the writer stores `stored_time`, the text `row_digest` makes).
"""

from __future__ import annotations

import binascii
import hashlib
from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import Connection, func, select
from sqlalchemy.orm import Session

from archive.evidence.canonical_bytes import row_hasher
from archive.evidence.findings import Problem, Progress, VerifyReport
from archive.evidence.tree_check import TreeCheck
from archive.store import merkle
from archive.store.ledger import (
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


class _RawRows:
    """Tuples of SQL text in the reader's own transaction (one snapshot). On SQLite, text
    comes as its UTF-8 bytes, never decoded (the sqlite3 connection's text_factory, for
    this pass only); on PostgreSQL, as str."""

    def __init__(self, connection: Connection):
        self.connection = connection
        self.sqlite = connection.dialect.name == "sqlite"
        self._dbapi: Any = connection.connection.driver_connection if self.sqlite else None
        self._saved: Any = None

    def __enter__(self) -> _RawRows:
        if self.sqlite:
            self._saved = self._dbapi.text_factory
            self._dbapi.text_factory = bytes
        return self

    def __exit__(self, *exc: object) -> None:
        if self.sqlite:
            self._dbapi.text_factory = self._saved

    def stream(self, sql: str) -> Iterator[Sequence[Any]]:
        if not self.sqlite:
            yield from _stream(self.connection, sql)
            return
        cursor = self._dbapi.execute(sql)
        try:
            while rows := cursor.fetchmany(BATCH):
                yield from rows
        finally:
            cursor.close()

    def entries(self) -> Iterator[Sequence[Any]]:
        """(id, kind, ref_id, digest, entry_hash, position) of every entry in order, the
        text columns as ASCII bytes."""
        sql = (
            'SELECT "id", "kind", "ref_id", "digest", "entry_hash", "position"'
            f' FROM {LEDGER.name} ORDER BY "id"'
        )
        if self.sqlite:
            cursor = self._dbapi.execute(sql)
            cursor.arraysize = BATCH
            try:
                yield from cursor  # one generator between the cursor and the loop
            finally:
                cursor.close()
            return
        for entry_id, kind, ref_id, digest, entry_hash, position in self.stream(sql):
            yield entry_id, kind.encode(), ref_id, digest.encode(), entry_hash.encode(), position


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
    raw: _RawRows, counter: _Counter
) -> tuple[dict[str, dict[int, bytes]], dict[str, set[int]]]:
    """The digest of every row of a table the ledger covers, by kind and id, and the ids of
    rows whose entry comes later. Only the digests are kept (32 bytes a row)."""
    digests: dict[str, dict[int, bytes]] = {}
    later: dict[str, set[int]] = {}
    for kind, table in TABLES.items():
        selected, digest = row_hasher(kind, text_as_bytes=raw.sqlite)
        # A version's cause is its own kind, hashed from the same read of its row: the
        # columns come after the bodies, so reading them alone reads the bodies again.
        also = kind == "version"
        layout = [*selected, *(["cause", "extractor_version"] if also else [])]
        cause_digest = row_hasher("version_cause", raw.sqlite, layout)[1] if also else None
        marker = ENTRY_LATER.get(kind)
        at_id = selected.index("id")
        sql = f"SELECT {_quoted([*layout, *([marker] if marker else [])])} FROM {table.name}"
        by_id = digests[kind] = {}
        causes = digests.setdefault("version_cause", {}) if also else {}
        waiting = later[kind] = set()
        for row in raw.stream(sql):
            by_id[row[at_id]] = digest(row)
            if cause_digest is not None:
                causes[row[at_id]] = cause_digest(row)
            if marker and row[-1] is None:
                waiting.add(row[at_id])
        counter.step(len(by_id))
    return digests, later


def _files_digests(connection: Connection) -> dict[str, dict[int, bytes]]:
    """The digests of each version's list of files, by the ledger's rule for them."""
    return {
        kind: {
            version_id: bytes.fromhex(row_digest(kind, row))
            for version_id, row in canonical.items()
        }
        for kind, canonical in (
            ("version_files", _versions_naming_later_bytes(connection)),
            ("named_files", _named_files(connection)),
        )
    }


def check_ledger(
    session: Session,
    report: VerifyReport,
    progress: Progress,
    tree: TreeCheck | None = None,
) -> None:
    """The chain, the rows against their entries, and (with `tree`) the Merkle tree."""
    connection = session.connection()
    counter = _Counter(session, progress)
    tree = tree or TreeCheck(session)
    files = _files_digests(connection)
    mismatched: list[tuple[str, int, bool, bytes]] = []
    with _RawRows(connection) as raw:
        rows, later = _row_digests(raw, counter)
        rows.update(files)
        by_kind = {kind.encode("ascii"): (kind, by_id) for kind, by_id in rows.items()}
        history = {kind.encode("ascii") for kind in HISTORY_KINDS}
        covered: dict[str, set[int]] = {kind: set() for kind in rows}
        # A row whose kind keeps a history answers to its latest entry only.
        latest: dict[tuple[bytes, int], bytes] = {}
        head = GENESIS.encode("ascii")
        sha256, hexlify, unhexlify = hashlib.sha256, binascii.hexlify, binascii.unhexlify
        frontier = merkle.Frontier()
        blocks = frontier.blocks  # the tree's perfect blocks, appended to here (see below)
        heads_at = tree.sizes()
        count = 0
        for entry_id, kind, ref_id, digest, entry_hash, position in raw.entries():
            computed = hexlify(sha256(head + digest).digest())
            if computed != entry_hash:
                report.problems.append(
                    Problem(f"ledger broken at entry {entry_id}: an entry was edited or removed")
                )
            head = entry_hash
            if position != count:
                tree.misplaced(entry_id, position, count)
            count += 1
            # merkle.Frontier.append_leaf_only, inlined: a call per entry cost a tenth of
            # the pass.
            level, current = 0, sha256(b"\x00" + kind + b" %d " % ref_id + digest).digest()
            while blocks and blocks[-1][0] == level:
                current = sha256(b"\x01" + blocks.pop()[1] + current).digest()
                level += 1
            blocks.append((level, current))
            if count in heads_at:
                frontier.size = count
                tree.at_size(count, frontier.root())
            known = by_kind.get(kind)
            if known is None:
                report.problems.append(Problem(f"ledger entry {entry_id} of unknown kind"))
                continue
            name, by_id = known
            if kind in history:
                latest[kind, ref_id] = digest
            elif by_id.get(ref_id) != unhexlify(digest):
                mismatched.append((name, ref_id, ref_id in by_id, digest))
            covered[name].add(ref_id)
            if count % 1000 == 0:
                counter.step(1000)
    report.ledger_entries = frontier.size = count
    for (kind, ref_id), digest in latest.items():
        name, by_id = by_kind[kind]
        if by_id.get(ref_id) != unhexlify(digest):
            mismatched.append((name, ref_id, ref_id in by_id, digest))
    for name, ref_id, exists, digest in mismatched:
        if exists and _holds_by_the_rule(connection, name, ref_id, digest.decode("ascii")):
            continue  # a string with a rare control character (canonical_bytes)
        _mismatch(connection, report, name, ref_id, exists)
    for kind, by_id in rows.items():
        if kind in SUPERSEDED:
            continue
        waiting = later.get(kind, set())
        for row_id in sorted(set(by_id) - covered[kind] - waiting):
            report.problems.append(
                Problem(f"{LABELS.get(kind, kind)} {row_id} is not in the ledger")
            )
    report.ledger_head = head.decode("ascii")
    tree.finish(frontier, report)
    counter.finish()


def _holds_by_the_rule(connection: Connection, kind: str, ref_id: int, digest: str) -> bool:
    """The row's digest by row_digest itself, read back as the models type it."""
    if kind not in TABLES and kind != "version_cause":
        return False  # the files of a version: already hashed by the rule
    table = TABLES.get(kind, VERSIONS)
    row = connection.execute(select(table).where(table.c.id == ref_id)).first()
    return row is not None and row_digest(kind, dict(row._mapping)) == digest


def _mismatch(
    connection: Connection, report: VerifyReport, kind: str, ref_id: int, exists: bool
) -> None:
    what = f"{LABELS.get(kind, kind)} {ref_id}"
    if not exists:
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
