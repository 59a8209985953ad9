"""Sealing the WARC files closed before seals existed (migration 0020): each is read once by
the fast pass, as the writer reads a file it closes, and sealed only when its bytes are still
those recorded when it was closed and the pass vouches for every record in it."""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from sqlalchemy import select, update

from archive.evidence.warc_seal import close_file
from archive.store.tables import CAPTURE_LOSSES, CAPTURES, WARC_FILES
from archive.store.writer.durability import DurableWriter, guarded


class SealOutcome(NamedTuple):
    name: str
    size: int
    unsealed_because: str | None
    """None: sealed."""
    damaged: bool = False
    """Left unsealed for damage no acknowledged loss accounts for: `verify` names it."""


class SealWriter(DurableWriter):
    @guarded
    def seal_closed_files(
        self, told: Callable[[SealOutcome], None] = lambda outcome: None
    ) -> list[SealOutcome]:
        """Seal every closed file without a seal, one at a time, each committed with its
        ledger entry as soon as it is sealed; what became of each (`told` of each as it
        comes: a file of 1 GB takes some seconds)."""
        outcomes: list[SealOutcome] = []

        def outcome(name: str, size: int, why: str | None, damaged: bool = False) -> None:
            outcomes.append(SealOutcome(name, size, why, damaged))
            told(outcomes[-1])

        unsealed = self.connection.execute(
            select(WARC_FILES.c.id, WARC_FILES.c.name, WARC_FILES.c.size, WARC_FILES.c.sha256)
            .where(WARC_FILES.c.sha256.is_not(None), WARC_FILES.c.index_sha256.is_(None))
            .order_by(WARC_FILES.c.id)
        ).all()
        for file_id, name, size, sha256 in unsealed:
            path = self.home.warc_dir / name
            if not path.exists():
                outcome(name, 0, "the file is missing (run `chalco-archive verify`)", True)
                continue
            closed = close_file(path)
            if (closed.size, closed.sha256) != (size, sha256):
                if self._has_acknowledged_losses(file_id):
                    why = "damaged where `repair` put its losses on record: verify reads it whole"
                    outcome(name, closed.size, why)
                else:
                    why = "its bytes differ from those recorded when it was closed (run `verify`)"
                    outcome(name, closed.size, why, True)
                continue
            if closed.index_sha256 is None:
                why = "the check does not vouch for every record in it: verify reads it whole"
                outcome(name, closed.size, why)
                continue
            self.connection.execute(
                update(WARC_FILES)
                .where(WARC_FILES.c.id == file_id)
                .values(record_count=closed.record_count, index_sha256=closed.index_sha256)
            )
            self._ledger.add_row("warc_seal", WARC_FILES, file_id)
            self.commit()
            outcome(name, closed.size, None)
        return outcomes

    def _has_acknowledged_losses(self, file_id: int) -> bool:
        lost_here = (
            select(CAPTURE_LOSSES.c.id)
            .join(CAPTURES, CAPTURES.c.id == CAPTURE_LOSSES.c.capture_id)
            .where(CAPTURES.c.warc_file_id == file_id)
            .limit(1)
        )
        return self.connection.execute(lost_here).first() is not None
