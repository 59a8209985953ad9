"""The ledger's Merkle tree in the database: its nodes (`ledger_nodes`), its size, the
frontier an append starts from, proofs read from the nodes, and its recorded heads.

The rules (leaf, node, proofs) are archive.store.merkle's; this module only reads the rows
(the writer writes them, archive.store.writer). It reads with SQL text and imports no
database library, so that `verify` on SQLite never loads SQLAlchemy: what it is handed is a
plain sqlite3 connection, a reader (archive.read.sql), or a SQLAlchemy connection or session
(the writer's, the package's).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from archive.store import merkle
from archive.store.times import read_time

NODES = "ledger_nodes"
HEADS = "ledger_heads"
HEAD_COLUMNS = "id, tree_size, root_hash, recorded_at, run_id, token, tsa_url, timestamped_at"
# Keys per query when reading nodes (SQLite's bound-parameter limit is 32766).
_KEYS_PER_QUERY = 400


def rows(executor: Any, sql: str, params: dict[str, Any] | None = None) -> list[Sequence[Any]]:
    """Plain tuples of SQL text with `:name` parameters, whatever `executor` is."""
    params = params or {}
    if isinstance(executor, sqlite3.Connection):
        return executor.execute(sql, params).fetchall()
    if hasattr(executor, "rows"):  # a reader: rows as dicts, in the columns' order
        return [tuple(row.values()) for row in executor.rows(sql, **params)]
    from sqlalchemy import text  # the caller holds a SQLAlchemy object: loaded already

    return [tuple(row) for row in executor.execute(text(sql), params)]


@dataclass(frozen=True)
class HeadRow:
    """A recorded tree head as read back."""

    id: int
    tree_size: int
    root_hash: str
    recorded_at: datetime
    run_id: int | None
    token: bytes | None
    tsa_url: str | None
    timestamped_at: datetime | None


def head_message(tree_size: int, root_hash: str) -> bytes:
    """What a timestamp token is over: the head's size and root, so that the token names
    exactly one tree (a root alone could be claimed for another size)."""
    return f"chalco-archive ledger tree head\nsize {tree_size}\nroot {root_hash}\n".encode("ascii")


def tree_size(executor: Any) -> int:
    """Entries in the tree: one past the newest entry's position (0 for an empty ledger)."""
    found = rows(executor, "SELECT position FROM ledger ORDER BY id DESC LIMIT 1")
    return 0 if not found or found[0][0] is None else int(found[0][0]) + 1


def fetch_nodes(executor: Any, keys: Iterable[merkle.NodeKey]) -> dict[merkle.NodeKey, bytes]:
    """The stored nodes of `keys`, a few hundred to a query (a missing one is left out).
    One statement of OR'd pairs: SQLite answers each from the primary key."""
    wanted = sorted(set(keys))
    found: dict[merkle.NodeKey, bytes] = {}
    for start in range(0, len(wanted), _KEYS_PER_QUERY):
        chunk = wanted[start : start + _KEYS_PER_QUERY]
        condition = " OR ".join(f"(level = :l{n} AND position = :p{n})" for n in range(len(chunk)))
        params: dict[str, Any] = {}
        for n, (level, position) in enumerate(chunk):
            params[f"l{n}"], params[f"p{n}"] = level, position
        for level, position, value in rows(
            executor, f"SELECT level, position, hash FROM {NODES} WHERE {condition}", params
        ):
            found[level, position] = bytes(value)
    return found


class MissingNodes(Exception):
    """The tree's stored nodes do not cover what was asked (a damaged or partial table)."""


def _nodes(executor: Any, keys: set[merkle.NodeKey]) -> dict[merkle.NodeKey, bytes]:
    found = fetch_nodes(executor, keys)
    if len(found) != len(keys):
        missing = sorted(keys - set(found))[:3]
        raise MissingNodes(f"the ledger's tree lacks node(s) {missing}")
    return found


def read_frontier(executor: Any, size: int) -> merkle.Frontier:
    keys = merkle.frontier_keys(size)
    nodes = _nodes(executor, set(keys))
    return merkle.Frontier(size, [(level, nodes[level, position]) for level, position in keys])


def root_at(executor: Any, size: int) -> bytes:
    return merkle.root_from_nodes(size, _nodes(executor, set(merkle.frontier_keys(size))))


def inclusion_proof(executor: Any, index: int, size: int) -> list[bytes]:
    ranges = merkle.inclusion_ranges(index, size)
    return merkle.proof_hashes(ranges, _nodes(executor, merkle.nodes_needed(ranges)))


def inclusion_proofs(
    executor: Any, pairs: Iterable[tuple[int, int]]
) -> dict[tuple[int, int], list[bytes]]:
    """Proofs for many (index, size) pairs, their nodes read together."""
    ranges = {pair: merkle.inclusion_ranges(*pair) for pair in set(pairs)}
    needed: set[merkle.NodeKey] = set()
    for each in ranges.values():
        needed |= merkle.nodes_needed(each)
    nodes = _nodes(executor, needed)
    return {pair: merkle.proof_hashes(each, nodes) for pair, each in ranges.items()}


def consistency_proof(executor: Any, first: int, second: int) -> list[bytes]:
    ranges = merkle.consistency_ranges(first, second)
    return merkle.proof_hashes(ranges, _nodes(executor, merkle.nodes_needed(ranges)))


def _time(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return read_time(value.decode("ascii") if isinstance(value, bytes) else value)


def _head(row: Sequence[Any]) -> HeadRow:
    head_id, size, root, recorded_at, run_id, token, tsa_url, timestamped_at = row
    recorded = _time(recorded_at)
    assert recorded is not None
    return HeadRow(
        id=head_id,
        tree_size=size,
        root_hash=root.decode("ascii") if isinstance(root, bytes) else root,
        recorded_at=recorded,
        run_id=run_id,
        token=None if token is None else bytes(token),
        tsa_url=tsa_url.decode() if isinstance(tsa_url, bytes) else tsa_url,
        timestamped_at=_time(timestamped_at),
    )


def heads(executor: Any) -> list[HeadRow]:
    """Every recorded head, oldest first."""
    return [_head(row) for row in rows(executor, f"SELECT {HEAD_COLUMNS} FROM {HEADS} ORDER BY id")]


def newest_head(executor: Any) -> HeadRow | None:
    found = rows(executor, f"SELECT {HEAD_COLUMNS} FROM {HEADS} ORDER BY id DESC LIMIT 1")
    return _head(found[0]) if found else None
