"""The fleet's frontier as the archive keeps it, from a worker's side: every request the
worker puts in the shared queue is noted queued, every request whose results it writes is
noted done (archive.store.writer.fleet), and from those notes the shared queue is rebuilt
when Redis has lost it, or when an earlier fleet run ended with work unfinished.

Redis may lose its memory (restarted without persistence) or a whole fleet may be killed:
what the archive notes as queued and not done is then fetched by the same fleet run (when
every worker is idle, see FleetScheduler) or by the next one (carry_over), never lost.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from scrapy import Request

from archive.store.writer import ArchiveWriter
from archive.store.writer.fleet import DONE, PAGE, QUEUED, WALK, FrontierRequest
from chalco_crawler.fleet import Fleet

logger = logging.getLogger(__name__)

# The spider's callbacks of the walk (chalco_crawler.spiders.news.walk): while one of these
# requests is unfinished, a later incremental crawl walks every list page.
WALK_CALLBACKS = ("parse_home", "parse_news_root", "parse_list")
# Fingerprints added to the shared filter per Redis call when it is rebuilt.
FILTER_BATCH = 5000


def kind_of(request: Request) -> str:
    return WALK if getattr(request.callback, "__name__", "") in WALK_CALLBACKS else PAGE


@dataclass
class FleetReport:
    """What a worker saw of the fleet's crawl, for its run's summary and verdict."""

    fleet: str
    worker: str
    generation: str | None = None
    fleet_run: int | None = None
    complete: bool = False
    """The fleet's crawl ended with nothing queued, leased or unfinished in the archive."""
    requeued_from: dict[str, int] = field(default_factory=dict)
    """Requests this worker put back in the queue, by the worker whose heartbeat lapsed."""
    returned: int = 0
    """Requests this worker put back itself (stopped before it could commit them)."""
    carried_over: int = 0
    """Requests earlier fleet runs left unfinished, queued again at the start."""
    recovered: int = 0
    """Requests the archive knew queued and unfinished that Redis no longer held."""
    redis_lost: bool = False
    """Redis restarted empty during the run: its queue and leases were lost."""
    database_lost: bool = False
    """The database server went away during the run: a batch of writes was lost (and
    fetched again)."""
    unreachable: str | None = None
    """Why the worker gave up (Redis or the database unreachable for too long)."""
    superseded: bool = False
    """Another worker started a new generation while this one could not reach Redis."""

    def as_dict(self) -> dict[str, object]:
        return {
            "fleet": self.fleet,
            "worker": self.worker,
            "fleet_run": self.fleet_run,
            "complete": self.complete,
            "requeued_from": self.requeued_from,
            "returned": self.returned,
            "carried_over": self.carried_over,
            "recovered": self.recovered,
            "redis_lost": self.redis_lost,
            "database_lost": self.database_lost,
            "superseded": self.superseded,
        }


class FleetFrontier:
    """Notes a worker's requests in the archive, and puts back in the queue what was lost."""

    def __init__(self, writer: ArchiveWriter, fleet: Fleet, report: FleetReport):
        self.writer = writer
        self.fleet = fleet
        self.report = report

    def queued(self, request: Request, fingerprint: str, encoded: bytes) -> None:
        self.writer.note_frontier(
            QUEUED, FrontierRequest(fingerprint, kind_of(request), request.url, encoded)
        )

    def done(self, fingerprint: str, kind: str, url: str) -> None:
        self.writer.note_frontier(DONE, FrontierRequest(fingerprint, kind, url, None))

    def carry_over(self) -> list[FrontierRequest]:
        """What earlier fleet runs of the fleet left unfinished, now this run's to fetch."""
        entries = self.writer.carry_over(self.fleet.name)
        self.report.carried_over += len(entries)
        if entries:
            logger.warning(
                "fleet %s: %d requests that earlier fleet runs left unfinished queued again",
                self.fleet.name,
                len(entries),
            )
        return entries

    def unfinished(self) -> list[FrontierRequest]:
        return self.writer.unfinished_requests()

    def rebuild_filter(self) -> int:
        """Redis restarted empty: the shared filter again holds every request this fleet
        run queued or finished, so that the walk fetches nothing twice."""
        fingerprints = self.writer.frontier_fingerprints()
        for start in range(0, len(fingerprints), FILTER_BATCH):
            self.fleet.redis.sadd(
                self.fleet.dupefilter_key, *fingerprints[start : start + FILTER_BATCH]
            )
        return len(fingerprints)
