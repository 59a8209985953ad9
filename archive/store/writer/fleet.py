"""The writer's fleet runs: the fleet crawl a worker's run is part of, and what the fleet
queued and finished (the frontier), kept in the archive so that the shared queue can be
rebuilt when Redis loses it.

Frontier rows are only ever added, a batch at a time with the batch's other rows: a worker
notes a request queued when it puts it in the shared queue, and done when the results of
its fetch are written. Two workers never touch the same row, so they never wait on each
other, and a request is unfinished while its fingerprint has a `queued` row and no `done`
row in the fleet run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import exists, select, update

from archive.store.home import ArchiveHome
from archive.store.models import utc_now
from archive.store.tables import FLEET_FRONTIER, FLEET_RUNS
from archive.store.writer.durability import DurableWriter, WriterOptions, guarded

QUEUED = "queued"
DONE = "done"
WALK = "walk"
"""A request of the walk: a home page, a news root, a list page."""
PAGE = "page"


@dataclass(frozen=True)
class FrontierRequest:
    """A request of a fleet run as the frontier keeps it."""

    fingerprint: str
    kind: str
    """walk | page"""
    url: str
    request: bytes | None
    """The request serialized as the shared queue holds it (queued rows)."""


def unfinished_frontier(fleet_run_ids: Any, kind: str | None = None) -> Any:
    """The queued rows of these fleet runs (their ids, or a select of them) whose
    fingerprint has no done row there, in the order queued; of `kind` alone, when given."""
    queued, done = FLEET_FRONTIER.alias("queued"), FLEET_FRONTIER.alias("done")
    finished = exists().where(
        done.c.fleet_run_id == queued.c.fleet_run_id,
        done.c.fingerprint == queued.c.fingerprint,
        done.c.state == DONE,
    )
    query = select(
        queued.c.fleet_run_id,
        queued.c.fingerprint,
        queued.c.kind,
        queued.c.url,
        queued.c.request,
    ).where(queued.c.fleet_run_id.in_(fleet_run_ids), queued.c.state == QUEUED, ~finished)
    if kind is not None:
        query = query.where(queued.c.kind == kind)
    return query.order_by(queued.c.id)


class FleetWriter(DurableWriter):
    """Records a worker's part in a fleet run."""

    def __init__(self, home: ArchiveHome, options: WriterOptions):
        super().__init__(home, options)
        self.fleet_run_id: int | None = None
        self._frontier_rows: list[dict[str, Any]] = []

    def join_fleet_run(self, fleet: str, generation: str) -> int:
        """The fleet run of this generation of the fleet, made by the first worker to ask."""
        with self._storage_guard():
            self.connection.execute(
                self._dialect_insert(FLEET_RUNS)
                .values(fleet=fleet, generation=generation, started_at=utc_now())
                .on_conflict_do_nothing(index_elements=["generation"])
            )
            found = self.connection.scalar(
                select(FLEET_RUNS.c.id).where(FLEET_RUNS.c.generation == generation)
            )
        assert found is not None
        self.fleet_run_id = int(found)
        self.commit()
        return self.fleet_run_id

    def note_frontier(self, state: str, entry: FrontierRequest) -> None:
        """A request queued or done (written with the batch, see _flush_batch)."""
        assert self.fleet_run_id is not None, "join_fleet_run first"
        self._frontier_rows.append(
            {
                "fleet_run_id": self.fleet_run_id,
                "fingerprint": entry.fingerprint,
                "state": state,
                "kind": entry.kind,
                "url": entry.url,
                "request": entry.request if state == QUEUED else None,
                "worker": self.worker or "",
                "at": utc_now(),
            }
        )

    def _flush_batch(self) -> None:
        super()._flush_batch()
        if self._frontier_rows:
            rows, self._frontier_rows = self._frontier_rows, []
            self.connection.execute(FLEET_FRONTIER.insert(), rows)

    def _forget_batch(self) -> None:
        super()._forget_batch()
        self._frontier_rows = []

    def unfinished_requests(self, fleet_run_ids: list[int] | None = None) -> list[FrontierRequest]:
        """What the fleet run (or these fleet runs) queued and no worker finished, each
        request once, in the order queued. Commits the batch first: the answer must count
        this worker's own rows."""
        self.commit()
        with self._storage_guard():
            rows = self.connection.execute(
                unfinished_frontier(fleet_run_ids or [self.fleet_run_id])
            )
            found: dict[str, FrontierRequest] = {}
            for row in rows:
                if row.fingerprint not in found:
                    found[row.fingerprint] = FrontierRequest(
                        row.fingerprint, row.kind, row.url, row.request
                    )
        return list(found.values())

    def frontier_fingerprints(self) -> list[str]:
        """Every request the fleet run queued or finished: what the queue's filter held."""
        with self._storage_guard():
            return list(
                self.connection.scalars(
                    select(FLEET_FRONTIER.c.fingerprint)
                    .where(FLEET_FRONTIER.c.fleet_run_id == self.fleet_run_id)
                    .distinct()
                )
            )

    @guarded
    def carry_over(self, fleet: str) -> list[FrontierRequest]:
        """Take over what earlier fleet runs of the fleet left unfinished (killed, stopped,
        Redis lost): queued again in this fleet run, which the earlier ones name as the run
        that resumed them. Called by the first worker of a new generation."""
        assert self.fleet_run_id is not None, "join_fleet_run first"
        earlier = list(
            self.connection.scalars(
                select(FLEET_RUNS.c.id).where(
                    FLEET_RUNS.c.fleet == fleet,
                    FLEET_RUNS.c.id != self.fleet_run_id,
                    FLEET_RUNS.c.resumed_by.is_(None),
                    # complete is null for a fleet run whose workers were all killed
                    FLEET_RUNS.c.complete.is_not(True),
                )
            )
        )
        if not earlier:
            return []
        unfinished = self.unfinished_requests(earlier)
        for entry in unfinished:
            self.note_frontier(QUEUED, entry)
        self.connection.execute(
            update(FLEET_RUNS)
            .where(FLEET_RUNS.c.id.in_(earlier))
            .values(resumed_by=self.fleet_run_id)
        )
        self.commit()
        return unfinished

    def finish_fleet_run(self) -> bool:
        """The last worker leaves: the fleet run ends, complete when nothing it queued is
        unfinished. Its own short transaction, so that it waits on no other worker's batch."""
        assert self.fleet_run_id is not None
        complete = not self.unfinished_requests()
        with self._storage_guard():
            self.connection.execute(
                update(FLEET_RUNS)
                .where(FLEET_RUNS.c.id == self.fleet_run_id, FLEET_RUNS.c.finished_at.is_(None))
                .values(finished_at=utc_now(), complete=complete)
            )
        self.commit()
        return complete
