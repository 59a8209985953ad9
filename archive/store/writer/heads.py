"""The writer's tree heads: the ledger's Merkle tree as it stands at the end of a run (or of
an `attest`), and the timestamp token an authority gave for one. Asking the authority is
the caller's (archive.evidence.timestamps): the writer only records what it is handed."""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import func, select

from archive.store import ledger_tree
from archive.store.ledger_tree import HeadRow
from archive.store.models import utc_now
from archive.store.tables import LEDGER, LEDGER_HEADS
from archive.store.writer.durability import DurableWriter, guarded


class HeadWriter(DurableWriter):
    """Records tree heads and their tokens, each with its ledger entry."""

    @guarded
    def record_tree_head(self) -> HeadRow:
        """Commit what is pending, then record the tree's head as it now stands (a head of
        the size of the newest one is not recorded twice) and commit it with its entry."""
        self.commit()
        size = ledger_tree.tree_size(self.connection)
        newest = ledger_tree.newest_head(self.connection)
        if newest is not None and not self._entries_since(newest.tree_size):
            return newest
        root = ledger_tree.root_at(self.connection, size).hex()
        head_id = self._add(
            LEDGER_HEADS,
            tree_size=size,
            root_hash=root,
            recorded_at=utc_now(),
            run_id=self.run_id,
        )
        self._ledger.add_row("tree_head", LEDGER_HEADS, head_id)
        self.commit()
        head = ledger_tree.newest_head(self.connection)
        assert head is not None and head.id == head_id
        return head

    def _entries_since(self, size: int) -> int:
        """Entries after the first `size` other than heads' own: what a new head would add."""
        return int(
            self.connection.scalar(
                select(func.count())
                .select_from(LEDGER)
                .where(LEDGER.c.position >= size, LEDGER.c.kind != "tree_head")
            )
            or 0
        )

    @guarded
    def store_timestamp(
        self, head_id: int, token: bytes, timestamped_at: datetime, tsa_url: str
    ) -> None:
        """Keep an authority's token for a head, with a new entry for the head."""
        self._set(
            LEDGER_HEADS,
            head_id,
            token=token,
            token_sha256=hashlib.sha256(token).hexdigest(),
            tsa_url=tsa_url,
            timestamped_at=timestamped_at,
        )
        self._ledger.add_row("tree_head", LEDGER_HEADS, head_id)
        self.commit()
