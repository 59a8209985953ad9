"""verify's progress on a terminal: a bar with an ETA over the WARC files' bytes, then one
over the rows and ledger entries (rich). Under cron, with no terminal, verify says nothing
until its verdict."""

from __future__ import annotations

from types import TracebackType

from rich.console import Console
from rich.progress import BarColumn, TaskID, TextColumn, TimeRemainingColumn
from rich.progress import Progress as Bars

from archive.evidence.findings import Progress


class TerminalProgress(Progress):
    """Bars on the console (stderr), gone when verify is done."""

    def __init__(self, console: Console):
        self.bars = Bars(
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.fields[amount]}"),
            TimeRemainingColumn(),
            console=console,
            transient=True,
        )
        self._files: TaskID | None = None
        self._rows: TaskID | None = None

    def __enter__(self) -> TerminalProgress:
        self.bars.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.bars.stop()

    def files(self, done: int, total: int, name: str | None = None) -> None:
        if self._files is None:
            self._files = self.bars.add_task("WARC files", total=total, amount="")
        amount = f"{done / 1e6:,.0f}/{total / 1e6:,.0f} MB"
        self.bars.update(self._files, completed=done, amount=amount)

    def rows(self, done: int, total: int) -> None:
        if self._rows is None:
            self._rows = self.bars.add_task("rows and ledger", total=total, amount="")
        self.bars.update(self._rows, completed=done, amount=f"{done:,}/{total:,}")
