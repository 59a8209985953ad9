"""verify's ledger pass in a process of its own, beside the WARC pass: the two read different
things (the database; the WARC files) and are CPU-bound, so on two cores the audit takes
about as long as the longer of them, not their sum.

The child (archive.evidence.forked) opens its own reader: each pass reads one consistent
snapshot of its own, as a pass run after the other would. Its progress over rows reaches
the parent's bars when the parent's own pass is done. Where the platform cannot fork, or the
child dies, the pass runs in the parent as before.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from archive.evidence.findings import Progress, VerifyReport
from archive.evidence.forked import CAN_FORK, Forked
from archive.evidence.ledger_check import check_ledger
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
    """The child's progress over rows, told to the parent."""

    def __init__(self, tell: Callable[[Any], None]):
        self.tell = tell

    def rows(self, done: int, total: int) -> None:
        self.tell((done, total))


def _run_ledger_pass(
    home: ArchiveHome,
    progress: Progress,
    known_heads: list[tuple[int, str]] | None,
    ca_bundle: Path | None,
    reader: Reader | None = None,
) -> VerifyReport:
    report = VerifyReport()
    own = reader is None
    reader = reader or open_sql_reader(home)
    try:
        check_ledger(reader, report, progress, TreeCheck(reader, known_heads, ca_bundle))
    finally:
        if own:
            reader.close()
    return report


class LedgerPass:
    """The ledger pass, started now in a child (`beside`, where the platform forks);
    `result()` waits for it."""

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
        self.child: Forked | None = None
        if beside:
            self.child = Forked(
                lambda tell: _run_ledger_pass(home, _ToldProgress(tell), known_heads, ca_bundle)
            )

    def result(self, report: VerifyReport, progress: Progress) -> None:
        """Wait for the pass and put what it found into `report` (run here if no child)."""
        found = None
        if self.child is not None:
            found = self.child.result(lambda rows: progress.rows(*rows))
        if found is None:
            found = _run_ledger_pass(
                self.home, progress, self.known_heads, self.ca_bundle, self.reader
            )
        report.problems.extend(found.problems)
        report.notes.extend(found.notes)
        for name in RESULT_FIELDS:
            setattr(report, name, getattr(found, name))
