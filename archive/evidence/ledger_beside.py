"""verify's ledger pass in processes of their own, beside the WARC pass: they read different
things (the database; the WARC files) and are CPU-bound, so on two cores the audit takes
about as long as the longest of them, not their sum. The pass is cut in two shares
(archive.evidence.ledger_check.HALVES: the versions' rows; the other rows, the chain and the
tree), a child each: where the WARC files are sealed, the parent has little to read, and
the ledger is what the audit waits for.

Each child (archive.evidence.forked) opens its own reader, and each share compares rows
with their entries within that one snapshot: a crawl committing meanwhile cannot make a row
seem to lack its entry. Their progress over rows reaches the parent's bars when the parent's
own pass is done. Where the platform cannot fork, or a child dies, its share runs in the
parent, and the findings are the same.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from archive.evidence.findings import Progress, VerifyReport
from archive.evidence.forked import CAN_FORK, Forked
from archive.evidence.ledger_check import HALVES, Share, check_ledger
from archive.evidence.tree_check import TreeCheck
from archive.read.sql import Reader, open_sql_reader
from archive.store.home import ArchiveHome

# What the ledger pass sets in a report (archive.evidence.ledger_check, tree_check).
RESULT_FIELDS = (
    "ledger_entries",
    "ledger_head",
    "tree_size",
    "tree_root",
    "tree_heads",
    "timestamped_heads",
    "proven_at",
    "proven_size",
)


class _ToldProgress(Progress):
    """A child's progress over rows, told to the parent once a percent (a pipe holds that
    much while the parent reads the other child's: the child never waits on it)."""

    def __init__(self, tell: Callable[[Any], None]):
        self.tell = tell
        self.percent = -1

    def rows(self, done: int, total: int) -> None:
        percent = done * 100 // max(total, 1)
        if percent != self.percent or done == total:
            self.percent = percent
            self.tell((done, total))


class _Summed:
    """The shares' progress as one bar: the latest count of each, added up."""

    def __init__(self, progress: Progress):
        self.progress = progress
        self.latest: dict[int, tuple[int, int]] = {}

    def told(self, share_number: int, done: int, total: int) -> None:
        self.latest[share_number] = (done, total)
        self.progress.rows(*map(sum, zip(*self.latest.values(), strict=True)))


class _ShareProgress(Progress):
    """One share's progress, into the bar of all of them."""

    def __init__(self, summed: _Summed, share_number: int):
        self.summed, self.share_number = summed, share_number

    def rows(self, done: int, total: int) -> None:
        self.summed.told(self.share_number, done, total)


def _run_ledger_pass(
    home: ArchiveHome,
    share: Share,
    progress: Progress,
    known_heads: list[tuple[int, str]] | None,
    ca_bundle: Path | None,
    reader: Reader | None = None,
) -> VerifyReport:
    report = VerifyReport()
    own = reader is None
    reader = reader or open_sql_reader(home)
    try:
        tree = TreeCheck(reader, known_heads, ca_bundle) if share.chain else None
        check_ledger(reader, report, progress, tree, share)
    finally:
        if own:
            reader.close()
    return report


class LedgerPass:
    """The ledger pass in two shares (archive.evidence.ledger_check.HALVES), each started now
    in a child of its own (`beside`, where the platform forks); `result()` waits for them."""

    def __init__(
        self,
        home: ArchiveHome,
        reader: Reader,
        known_heads: list[tuple[int, str]] | None,
        ca_bundle: Path | None,
        *,
        beside: bool = CAN_FORK,
    ):
        self.home, self.reader = home, reader
        self.known_heads, self.ca_bundle = known_heads, ca_bundle
        self.children: list[Forked | None] = [None] * len(HALVES)
        if beside:
            self.children = [self._start(share) for share in HALVES]

    def _start(self, share: Share) -> Forked:
        home, heads, bundle = self.home, self.known_heads, self.ca_bundle
        return Forked(
            lambda tell: _run_ledger_pass(home, share, _ToldProgress(tell), heads, bundle)
        )

    def result(self, report: VerifyReport, progress: Progress) -> None:
        """Wait for the pass and put what it found into `report` (a share whose child died,
        or that had none, is run here)."""
        summed = _Summed(progress)
        for number, (share, child) in enumerate(zip(HALVES, self.children, strict=True)):
            part = _ShareProgress(summed, number)
            found = None
            if child is not None:
                found = child.result(lambda rows: part.rows(*rows))  # noqa: B023 - used at once
            if found is None:
                found = _run_ledger_pass(
                    self.home, share, part, self.known_heads, self.ca_bundle, self.reader
                )
            report.problems.extend(found.problems)
            report.notes.extend(found.notes)
            if share.chain:
                for name in RESULT_FIELDS:
                    setattr(report, name, getattr(found, name))
