"""The requests a worker of the fleet holds, from the moment it takes one from the shared
queue until the archive has committed what came of it (chalco_crawler.fleet: leases).

A request taken is in flight while Scrapy handles it: downloaded, its response through the
spider, every item it yielded through the pipelines (the engine keeps it among the requests
in progress until then). It is then written: its results are in the writer's open batch.
The commit after that makes it durable, and only then is its lease released in Redis. A
worker killed at any moment thus leaves leased every request whose results it had not
committed, and the fleet fetches them again.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from scrapy import Request


@dataclass
class Lease:
    """A request leased to this worker."""

    id: str
    fingerprint: str
    kind: str
    """walk | page (archive.store.writer.fleet)"""
    request: Request


class LeaseBook:
    """This worker's leases: in flight, written (waiting for a commit), to release."""

    def __init__(self) -> None:
        self._in_flight: dict[int, Lease] = {}
        self._written: list[Lease] = []
        self._to_release: list[str] = []
        """Lease ids committed whose release in Redis has not gone through yet."""

    def __len__(self) -> int:
        return len(self._in_flight) + len(self._written) + len(self._to_release)

    def take(self, lease: Lease) -> None:
        self._in_flight[id(lease.request)] = lease

    def lease_of(self, request: Request) -> Lease | None:
        return self._in_flight.get(id(request))

    def of_id(self, lease_id: str) -> Lease | None:
        return next((lease for lease in self._in_flight.values() if lease.id == lease_id), None)

    def hand_back(self, lease: Lease) -> None:
        """The request went back to the queue as it was (a retry): no longer held here."""
        self._in_flight.pop(id(lease.request), None)

    def settle(self, in_progress: Collection[Request]) -> list[Lease]:
        """Move the requests Scrapy is done with to written; those moved."""
        done = [lease for lease in self._in_flight.values() if lease.request not in in_progress]
        for lease in done:
            del self._in_flight[id(lease.request)]
        self._written += done
        return done

    @property
    def written(self) -> int:
        return len(self._written)

    def committed(self) -> list[str]:
        """The commit that just succeeded made every written request durable: their lease
        ids, to release (with any earlier release that did not reach Redis)."""
        self._to_release += [lease.id for lease in self._written]
        self._written = []
        return self._to_release

    @property
    def to_release(self) -> list[str]:
        return self._to_release

    def released(self) -> None:
        self._to_release = []

    def uncommitted(self) -> list[Lease]:
        """Leases whose results are not committed (in flight or written)."""
        return [*self._in_flight.values(), *self._written]

    def drop_all(self) -> list[Lease]:
        """Forget every lease (Redis lost them, or this worker put them back itself)."""
        dropped = self.uncommitted()
        self._in_flight, self._written, self._to_release = {}, [], []
        return dropped
