"""What `repair` fetches again: every capture whose WARC record the audit finds missing or
damaged, grouped by URL, with what the audit found. The findings are verify's own (the
captures its problems name), never a check of another kind.

The fetching itself is the crawler's (`chalco_crawler.repair`, run as a child process as
`crawl` is): the archive never imports it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.evidence.findings import Problem, Progress, VerifyReport
from archive.evidence.verify import verify
from archive.store.home import ArchiveHome
from archive.store.models import Capture, File

# A lost 200, or a 304 that stood for the 200 it confirmed: the replacement is a 200.
CONTENT_STATUSES = (200, 304)
# Answers that said the server could not answer then (429, 5xx): no content was captured,
# and what the site answers now replaces them, whatever it is.
TRANSIENT_STATUSES = frozenset({429, *range(500, 600)})
# What of verify's lines a loss keeps (warcio quotes the damaged bytes at length).
FOUND_MAX = 300


@dataclass(frozen=True)
class LostCapture:
    """A capture whose record cannot be read back."""

    capture_id: int
    record_id: str
    status: int
    found: str
    """What verify said of it, its lines joined."""

    def refusal(self, status: int) -> str | None:
        """Why a response with `status` cannot replace it; None if it can. A page answered
        otherwise now (404, 410, a 5xx) is one the site no longer serves as it did."""
        if self.status in TRANSIENT_STATUSES:
            return None
        wanted = 200 if self.status in CONTENT_STATUSES else self.status
        if status != wanted:
            return f"the site answered {status}, not {wanted} as when it was captured"
        return None


@dataclass(frozen=True)
class RepairTarget:
    """A URL to fetch again, and the lost captures of it its response is to replace."""

    url: str
    losses: tuple[LostCapture, ...]
    is_file: bool
    """An attachment or image: fetched under the files' size limit, as the crawl does."""


@dataclass
class RepairPlan:
    targets: list[RepairTarget]
    report: VerifyReport
    other_problems: list[Problem] = field(default_factory=list)
    """What verify found that no capture fetched again can mend (an edited row, a broken
    ledger, a record no capture indexes): left for a person."""

    @property
    def captures(self) -> int:
        return sum(len(target.losses) for target in self.targets)


def plan_repair(
    session: Session, home: ArchiveHome, progress: Progress | None = None
) -> RepairPlan:
    """Audit the archive and say what to fetch again."""
    report = verify(session, home, progress=progress)
    found: dict[int, list[str]] = {}
    for problem in report.problems:
        if problem.capture_id is not None:
            found.setdefault(problem.capture_id, []).append(problem.what)
    # A file's own problems (its SHA-256, its framing) go with the captures lost in it.
    damaged_files = {p.file for p in report.problems if p.capture_id is not None}
    other = [
        p
        for p in report.problems
        if p.capture_id is None and (p.file is None or p.file not in damaged_files)
    ]
    by_url: dict[str, list[LostCapture]] = {}
    rows = session.execute(
        select(Capture.id, Capture.url, Capture.record_id, Capture.status)
        .where(Capture.id.in_(list(found)))
        .order_by(Capture.id)
    )
    for row in rows:
        what = "; ".join(found[row.id])
        what = what if len(what) <= FOUND_MAX else what[: FOUND_MAX - 1] + "…"
        lost = LostCapture(row.id, row.record_id, row.status, what)
        by_url.setdefault(row.url, []).append(lost)
    files = set(session.scalars(select(File.url).where(File.url.in_(list(by_url)))))
    targets = [RepairTarget(url, tuple(lost), url in files) for url, lost in by_url.items()]
    return RepairPlan(targets, report, other)
