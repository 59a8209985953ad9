"""The ledger's Merkle tree in the database: its nodes (`ledger_nodes`), its size, the
frontier an append starts from, proofs read from the nodes, and its recorded heads.

The rules (leaf, node, proofs) are archive.store.merkle's; this module only reads and writes
the rows. It takes a Connection or a Session: the writer appends, the readers prove.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from archive.store import merkle
from archive.store.tables import LEDGER, LEDGER_HEADS, LEDGER_NODES

# Keys per query when reading nodes (SQLite's bound-parameter limit is 32766).
_KEYS_PER_QUERY = 400


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
    last = executor.execute(
        select(LEDGER.c.position).order_by(LEDGER.c.id.desc()).limit(1)
    ).scalar()
    return 0 if last is None else int(last) + 1


def fetch_nodes(executor: Any, keys: Iterable[merkle.NodeKey]) -> dict[merkle.NodeKey, bytes]:
    """The stored nodes of `keys`, a few hundred to a query (a missing one is left out).

    SQL text at the driver: building and compiling a SQLAlchemy expression of forty OR'd
    pairs cost more than the query (a proof at a million entries took 3 ms, not 0.3)."""
    connection = executor.connection() if isinstance(executor, Session) else executor
    marker = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    pair = f"(level = {marker} AND position = {marker})"
    wanted = sorted(set(keys))
    found: dict[merkle.NodeKey, bytes] = {}
    for start in range(0, len(wanted), _KEYS_PER_QUERY):
        chunk = wanted[start : start + _KEYS_PER_QUERY]
        sql = f"SELECT level, position, hash FROM {LEDGER_NODES.name} WHERE " + " OR ".join(
            [pair] * len(chunk)
        )
        parameters = tuple(value for key in chunk for value in key)
        for level, position, value in connection.exec_driver_sql(sql, parameters):
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


def insert_nodes(executor: Any, made: list[tuple[int, int, bytes]]) -> None:
    if made:
        executor.execute(
            insert(LEDGER_NODES),
            [{"level": level, "position": position, "hash": h} for level, position, h in made],
        )


def _head(row: Any) -> HeadRow:
    return HeadRow(
        id=row.id,
        tree_size=row.tree_size,
        root_hash=row.root_hash,
        recorded_at=row.recorded_at,
        run_id=row.run_id,
        token=None if row.token is None else bytes(row.token),
        tsa_url=row.tsa_url,
        timestamped_at=row.timestamped_at,
    )


def heads(executor: Any) -> list[HeadRow]:
    """Every recorded head, oldest first."""
    return [
        _head(row) for row in executor.execute(select(LEDGER_HEADS).order_by(LEDGER_HEADS.c.id))
    ]


def newest_head(executor: Any) -> HeadRow | None:
    row = executor.execute(select(LEDGER_HEADS).order_by(LEDGER_HEADS.c.id.desc()).limit(1)).first()
    return None if row is None else _head(row)
