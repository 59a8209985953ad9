"""Checking the ledger: its hash chain whole, every covered row's digest against the newest
entry for it (an edited, added or deleted row is found), and its Merkle tree rebuilt from
the entries against every recorded tree head (archive.evidence.tree_check).

Rows and entries are read as plain tuples with SQL text (archive.evidence.raw_rows): an ORM
object or a typed row per entry cost several times the hashing. On SQLite their text stays
UTF-8 bytes and each row's canonical JSON is made from them (archive.evidence.canonical_bytes).
Times are hashed as stored (the writer stores `stored_time`, the text `row_digest` makes).
"""

from __future__ import annotations

import binascii
import hashlib
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, NamedTuple

from archive.evidence.canonical_bytes import row_hasher
from archive.evidence.findings import Problem, Progress, VerifyReport
from archive.evidence.raw_rows import RawRows
from archive.evidence.tree_check import TreeCheck
from archive.read.sql import Reader, reader_for
from archive.store import merkle
from archive.store.ledger import (
    CANONICAL_JSON,
    GENESIS,
    HISTORY_KINDS,
    named_files_row,
    row_digest,
    version_files_row,
)
from archive.store.version_texts import HUGE_COLUMNS, whole_text_sql

# The table of each kind that is one row of a table.
TABLES = {
    "capture": "captures",
    "version": "article_versions",
    "warc_file": "warc_files",
    "warc_seal": "warc_files",
    "file": "files",
    "article": "articles",
    "tree_head": "ledger_heads",
    "capture_loss": "capture_losses",
}
# How problems name a ledger kind that is not one row of a table.
LABELS = {
    "version_files": "the files named by version",
    "named_files": "the files named by version",
    "version_cause": "the cause and extractor of version",
    "tree_head": "tree head",
    "capture_loss": "the acknowledged loss",
    "warc_seal": "the seal of WARC file",
}
# Kinds whose entries are checked where they exist, but that no row must have: written
# before migration 0012, whose `named_files` cover the same rows.
SUPERSEDED = frozenset({"version_files"})
# Rows whose entry comes later: a WARC file still open, a file whose bytes are not archived.
ENTRY_LATER = {"warc_file": "sha256", "file": "sha256", "warc_seal": "index_sha256"}
# Kinds whose columns a migration added to an existing table: an archive from before it,
# read as it is, has no such rows.
ADDED_BY_MIGRATION = {"warc_seal": ("warc_files", "index_sha256")}
# A version's own kinds: its row, its cause, the files it names (two rules for those).
VERSION_KINDS = frozenset({"version", "version_cause", "named_files", "version_files"})
ALL_KINDS = frozenset(TABLES) | VERSION_KINDS


class Share(NamedTuple):
    """A part of the ledger pass, for a process of its own: the rows of `kinds` against their
    entries, and with `chain` the hash chain and the Merkle tree over every entry."""

    kinds: frozenset[str]
    chain: bool


WHOLE = Share(ALL_KINDS, chain=True)
# Two parts of about the same work in a news archive: the versions (their bodies are most of
# the bytes hashed again), and every other row with the chain and the tree.
HALVES = (Share(ALL_KINDS - VERSION_KINDS, chain=True), Share(VERSION_KINDS, chain=False))


class _Counter:
    """Rows and entries checked, told to the progress every thousand."""

    def __init__(self, raw: RawRows, progress: Progress, kinds: frozenset[str]):
        self.progress = progress
        self.done = 0
        # About what the pass reads: each covered row, then each ledger entry. The highest
        # id of each table for its count: count(*) would read the versions' bodies.
        tables = {table for kind, table in TABLES.items() if kind in kinds}
        self.total = sum(
            raw.scalar(f"SELECT max(id) FROM {table}") or 0 for table in (*sorted(tables), "ledger")
        )
        progress.rows(0, self.total)

    def step(self, count: int = 1) -> None:
        before = self.done // 1000
        self.done += count
        if self.done // 1000 != before:
            self.progress.rows(min(self.done, self.total), self.total)

    def finish(self) -> None:
        self.progress.rows(self.total, self.total)


ENTRIES = "SELECT id, kind, ref_id, digest, entry_hash, position FROM ledger"


def _entries(raw: RawRows, share: Share) -> Iterator[Sequence[Any]]:
    """(id, kind, ref_id, digest, entry_hash, position) of every entry in order (without the
    chain: of the share's kinds only), the text columns as ASCII bytes (undecoded on SQLite,
    encoded here on PostgreSQL)."""
    sql = ENTRIES
    if not share.chain:
        kinds = ", ".join(f"'{kind}'" for kind in sorted(share.kinds))  # constants, not input
        sql += f" WHERE kind IN ({kinds})"
    sql += " ORDER BY id"
    if raw.undecoding:
        yield from raw.stream(sql)
        return
    for entry_id, kind, ref_id, digest, entry_hash, position in raw.stream(sql):
        yield entry_id, kind.encode(), ref_id, digest.encode(), entry_hash.encode(), position


def _quoted(columns: Sequence[str]) -> str:
    return ", ".join(f'"{column}"' for column in columns)


def _texts_beside(raw: RawRows) -> bool:
    """Whether some version's text is kept beside its row (SQLite's version_texts, from
    migration 0019); else its columns are read alone, at no cost per row."""
    if not raw.sqlite:
        return False  # PostgreSQL keeps every text in its row
    exists = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'version_texts'"
    return raw.scalar(exists) is not None and (
        raw.scalar("SELECT 1 FROM version_texts LIMIT 1") is not None
    )


def _with_whole_texts(columns: str) -> str:
    """The quoted columns of article_versions with its texts read wherever they are."""
    for column in HUGE_COLUMNS:
        columns = columns.replace(f'"{column}"', whole_text_sql(column), 1)
    return columns


def _row_digests(
    raw: RawRows, counter: _Counter, kinds: frozenset[str]
) -> tuple[dict[str, dict[int, bytes]], dict[str, set[int]]]:
    """The digest of every row of a table the ledger covers, of the kinds asked for, by kind
    and id, and the ids of rows whose entry comes later. Only the digests are kept (32 bytes
    a row)."""
    digests: dict[str, dict[int, bytes]] = {}
    later: dict[str, set[int]] = {}
    for kind, table in TABLES.items():
        if kind not in kinds:
            continue
        if kind in ADDED_BY_MIGRATION and not raw.has_column(*ADDED_BY_MIGRATION[kind]):
            digests[kind], later[kind] = {}, set()
            continue
        selected, digest = row_hasher(kind)
        # A version's cause is its own kind, hashed from the same read of its row: the
        # columns come after the bodies, so reading them alone reads the bodies again.
        also = kind == "version"
        layout = [*selected, *(["cause", "extractor_version"] if also else [])]
        cause_digest = row_hasher("version_cause", layout)[1] if also else None
        marker = ENTRY_LATER.get(kind)
        at_id = selected.index("id")
        columns = _quoted([*layout, *([marker] if marker else [])])
        if table == "article_versions" and _texts_beside(raw):
            columns = _with_whole_texts(columns)
        sql = f"SELECT {columns} FROM {table}"
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


def _files_digests(raw: RawRows, versions: Iterable[int]) -> dict[str, dict[int, bytes]]:
    """The digests of each version's list of files, by the ledger's rule for them.
    `versions`: the id of every version (each has an entry for the files it names)."""
    # row_digest's canonical JSON without its per-column steps: these rows hold no time and
    # no huge text (what those steps are for), and a call per version cost a tenth of the pass.
    encode, sha256 = CANONICAL_JSON.encode, hashlib.sha256
    named = _named_files(raw)
    by_rule = {
        version_id: sha256(encode(named_files_row(version_id, files)).encode("utf-8")).digest()
        for version_id, files in named.items()
    }
    # Most versions name no file: their row is this text (named_files_row's, as json makes it).
    for version_id in versions:
        if version_id not in by_rule:
            by_rule[version_id] = sha256(b'{"files": [], "version_id": %d}' % version_id).digest()
    later = {
        version_id: sha256(encode(row).encode("utf-8")).digest()
        for version_id, row in _versions_naming_later_bytes(raw).items()
    }
    return {"version_files": later, "named_files": by_rule}


def check_ledger(
    database: Reader | Any,
    report: VerifyReport,
    progress: Progress,
    tree: TreeCheck | None = None,
    share: Share = WHOLE,
) -> None:
    """The chain, the rows against their entries, and the Merkle tree against its heads; or
    the part of that `share` names (the report's ledger and tree fields are set by the share
    with the chain). `database`: a reader (archive.read.sql), or a SQLAlchemy session or
    connection."""
    reader = reader_for(database)
    raw = RawRows(reader)
    counter = _Counter(raw, progress, share.kinds)
    tree = (tree or TreeCheck(reader)) if share.chain else None
    mismatched: list[tuple[str, int, bool, bytes]] = []
    with raw.undecoded():
        rows, later = _row_digests(raw, counter, share.kinds)
    if "version" in rows:
        rows.update(_files_digests(raw, rows["version"]))  # their names: str, for json
    with raw.undecoded():
        by_kind = {kind.encode("ascii"): (kind, by_id) for kind, by_id in rows.items()}
        elsewhere = {kind.encode("ascii") for kind in ALL_KINDS - share.kinds}
        history = {kind.encode("ascii") for kind in HISTORY_KINDS}
        covered: dict[str, set[int]] = {kind: set() for kind in rows}
        # A row whose kind keeps a history answers to its latest entry only.
        latest: dict[tuple[bytes, int], bytes] = {}
        head = GENESIS.encode("ascii")
        sha256, hexlify, unhexlify = hashlib.sha256, binascii.hexlify, binascii.unhexlify
        frontier = merkle.Frontier()
        blocks = frontier.blocks  # the tree's perfect blocks, appended to here (see below)
        heads_at = tree.sizes() if tree is not None else set()
        count = 0
        for entry_id, kind, ref_id, digest, entry_hash, position in _entries(raw, share):
            if tree is not None:
                computed = hexlify(sha256(head + digest).digest())
                if computed != entry_hash:
                    what = f"ledger broken at entry {entry_id}: an entry was edited or removed"
                    report.problems.append(Problem(what))
                head = entry_hash
                if position != count:
                    tree.misplaced(entry_id, position, count)
                # merkle.Frontier.append_leaf_only, inlined: a call per entry cost a tenth of
                # the pass.
                level, current = 0, sha256(b"\x00" + kind + b" %d " % ref_id + digest).digest()
                while blocks and blocks[-1][0] == level:
                    current = sha256(b"\x01" + blocks.pop()[1] + current).digest()
                    level += 1
                blocks.append((level, current))
                if count + 1 in heads_at:
                    frontier.size = count + 1
                    tree.at_size(count + 1, frontier.root())
            count += 1
            if count % 1000 == 0:
                counter.step(1000)
            known = by_kind.get(kind)
            if known is None:
                if kind not in elsewhere:  # another share checks those
                    report.problems.append(Problem(f"ledger entry {entry_id} of unknown kind"))
                continue
            name, by_id = known
            if kind in history:
                latest[kind, ref_id] = digest
            elif by_id.get(ref_id) != unhexlify(digest):
                mismatched.append((name, ref_id, ref_id in by_id, digest))
            covered[name].add(ref_id)
    for (kind, ref_id), digest in latest.items():
        name, by_id = by_kind[kind]
        if by_id.get(ref_id) != unhexlify(digest):
            mismatched.append((name, ref_id, ref_id in by_id, digest))
    for name, ref_id, exists, digest in mismatched:
        if exists and _holds_by_the_rule(reader, name, ref_id, digest.decode("ascii")):
            continue  # a string with a rare control character (canonical_bytes)
        _mismatch(reader, report, name, ref_id, exists)
    for kind, by_id in rows.items():
        if kind in SUPERSEDED:
            continue
        waiting = later.get(kind, set())
        for row_id in sorted(set(by_id) - covered[kind] - waiting):
            report.problems.append(
                Problem(f"{LABELS.get(kind, kind)} {row_id} is not in the ledger")
            )
    if tree is not None:
        report.ledger_entries = frontier.size = count
        report.ledger_head = head.decode("ascii")
        tree.finish(frontier, report)
    counter.finish()


def _holds_by_the_rule(reader: Reader, kind: str, ref_id: int, digest: str) -> bool:
    """The row's digest by row_digest itself, from the row as the reader gives it."""
    if kind not in TABLES and kind != "version_cause":
        return False  # the files of a version: already hashed by the rule
    table = TABLES.get(kind, "article_versions")
    row = reader.one(f"SELECT * FROM {table} WHERE id = :id", id=ref_id)
    if row is not None and table == "article_versions":
        whole = ", ".join(f"{whole_text_sql(column)} AS {column}" for column in HUGE_COLUMNS)
        texts = reader.one(f"SELECT {whole} FROM article_versions WHERE id = :id", id=ref_id)
        row = {**row, **(texts or {})}
    try:
        return row is not None and row_digest(kind, row) == digest
    except (TypeError, ValueError):  # a value no JSON holds (a BLOB where text belongs)
        return False


def _mismatch(reader: Reader, report: VerifyReport, kind: str, ref_id: int, exists: bool) -> None:
    what = f"{LABELS.get(kind, kind)} {ref_id}"
    if not exists:
        report.problems.append(Problem(f"{what} was deleted"))
    else:
        report.problems.append(Problem(f"{what} was edited", url=_name_of(reader, kind, ref_id)))


def _name_of(reader: Reader, kind: str, ref_id: int) -> str | None:
    """What names a row in a problem's line: its URL or file name, a version's article."""
    if kind in ("capture", "file", "article"):
        sql = f"SELECT url FROM {TABLES[kind]} WHERE id = :id"
    elif kind in ("warc_file", "warc_seal"):
        sql = "SELECT name FROM warc_files WHERE id = :id"
    elif kind == "tree_head":
        return None
    elif kind == "capture_loss":
        sql = (
            "SELECT c.url FROM captures c JOIN capture_losses l ON l.capture_id = c.id"
            " WHERE l.id = :id"
        )
    else:
        sql = (
            "SELECT a.url FROM articles a JOIN article_versions v ON v.article_id = a.id"
            " WHERE v.id = :id"
        )
    row = reader.one(sql, id=ref_id)
    return None if row is None else next(iter(row.values()))


def _named_files(raw: RawRows) -> dict[int, list[tuple[int, str, str | None, int, int | None]]]:
    """The files each version that names any names."""
    files: dict[int, list[tuple[int, str, str | None, int, int | None]]] = {}
    for version_id, *named in raw.stream(
        "SELECT version_id, file_id, role, name, position, capture_id FROM version_files"
    ):
        files.setdefault(version_id, []).append(tuple(named))  # type: ignore[arg-type]
    return files


def _versions_naming_later_bytes(raw: RawRows) -> dict[int, dict[str, Any]]:
    """The canonical files rows of the versions that name a capture's bytes of a file."""
    files: dict[int, list[tuple[int, str, int, int | None]]] = {}
    for version_id, *named in raw.stream(
        "SELECT version_id, file_id, role, position, capture_id FROM version_files"
        " WHERE version_id IN (SELECT version_id FROM version_files"
        " WHERE capture_id IS NOT NULL)"
    ):
        files.setdefault(version_id, []).append(tuple(named))  # type: ignore[arg-type]
    return {version_id: version_files_row(version_id, named) for version_id, named in files.items()}
