"""The ledger entries of the writer's open batch: the digest of each row it writes, chained
onto the ledger's head and added to its Merkle tree just before the batch commits."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import Connection, Table, insert, select, text

from archive.store import ledger_tree, merkle
from archive.store.db import LEDGER_LOCK
from archive.store.ledger import GENESIS, chain, row_digest
from archive.store.models import utc_now
from archive.store.tables import LEDGER, LEDGER_NODES, WARC_FILES

logger = logging.getLogger(__name__)


class LedgerBatch:
    """Entries wait for the commit, where they are chained onto the head."""

    def __init__(self, connection: Connection):
        self.connection = connection
        self.entries: list[dict[str, Any]] = []
        self._serialized = connection.dialect.name == "postgresql"
        # The tree's frontier after the last append, kept while no other writer appends.
        self._frontier: merkle.Frontier | None = None

    def add(self, kind: str, row_id: int, row: dict[str, Any]) -> None:
        self.entries.append(
            {
                "kind": kind,
                "ref_id": row_id,
                "digest": row_digest(kind, dict(row, id=row_id)),
                "created_at": utc_now(),
            }
        )

    def add_row(self, kind: str, table: Table, row_id: int) -> None:
        """An entry for a row as it now stands in this transaction."""
        row = self.connection.execute(select(table).where(table.c.id == row_id)).one()
        self.add(kind, row_id, dict(row._mapping))

    def add_warc_file(self, name: str) -> None:
        """The entries of a WARC file just closed: its size and SHA-256, and its seal where
        it has one (archive.evidence.warc_seal)."""
        row = self.connection.execute(select(WARC_FILES).where(WARC_FILES.c.name == name)).one()
        self.add("warc_file", row.id, dict(row._mapping))
        if row.index_sha256 is not None:
            self.add("warc_seal", row.id, dict(row._mapping))

    def discard(self, keep: int = 0) -> None:
        """Drop the entries after the first `keep` (their rows were rolled back)."""
        del self.entries[keep:]
        self._frontier = None  # an append may have been rolled back with them

    def _read_frontier(self, size: int, unplaced: bool) -> merkle.Frontier:
        """The tree's frontier from its stored nodes or, when they lack (a damaged table,
        which verify reports), from the entries themselves: the archive keeps taking
        writes whatever became of its tree."""
        if not unplaced:
            try:
                return ledger_tree.read_frontier(self.connection, size)
            except ledger_tree.MissingNodes as error:
                logger.warning("rebuilding the ledger tree's frontier from its entries: %s", error)
        frontier = merkle.Frontier()
        for kind, ref_id, digest in self.connection.execute(
            select(LEDGER.c.kind, LEDGER.c.ref_id, LEDGER.c.digest).order_by(LEDGER.c.id)
        ):
            frontier.append_leaf_only(merkle.leaf_hash(merkle.entry_bytes(kind, ref_id, digest)))
        return frontier

    def append(self) -> None:
        """Chain the batch's entries onto the ledger's head, just before the commit.

        On PostgreSQL several writers (the workers of a distributed crawl) share one chain: a
        transaction lock makes reading the head, appending and committing one step for each.
        """
        if not self.entries:
            return
        if self._serialized:
            self.connection.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": LEDGER_LOCK}
            )
        last = self.connection.execute(
            select(LEDGER.c.entry_hash, LEDGER.c.position).order_by(LEDGER.c.id.desc()).limit(1)
        ).first()
        head = GENESIS if last is None else last.entry_hash
        size = 0 if last is None or last.position is None else last.position + 1
        frontier = self._frontier
        # Other writers append to a shared database: read the frontier under the lock.
        if frontier is None or frontier.size != size or self._serialized:
            frontier = self._read_frontier(size, last is not None and last.position is None)
        else:
            frontier = merkle.Frontier(frontier.size, frontier.blocks)
        made: list[tuple[int, int, bytes]] = []
        for entry in self.entries:
            head = chain(head, entry["digest"])
            entry["entry_hash"] = head
            entry["position"] = frontier.size
            leaf = merkle.leaf_hash(
                merkle.entry_bytes(entry["kind"], entry["ref_id"], entry["digest"])
            )
            made.extend(frontier.append(leaf))
        self.connection.execute(insert(LEDGER), self.entries)
        if made:
            self.connection.execute(
                insert(LEDGER_NODES),
                [{"level": level, "position": position, "hash": h} for level, position, h in made],
            )
        self.entries = []
        # Kept for the next batch; a commit that fails leaves the size behind it, and the
        # frontier is read again.
        self._frontier = frontier
