"""verify's ledger pass in a process of its own, beside the WARC pass: the two read different
things (the database; the WARC files) and are CPU-bound, so on two cores the audit takes
about as long as the longer of them, not their sum.

The child is forked (no interpreter to start, nothing to import again) and opens its own
reader: each pass reads one consistent snapshot of its own, as a pass run after the other
would. It sends back what the pass found (its problems, notes, counts) and its progress,
pickled through a pipe; the parent reads them when its own pass is done. Where the platform
cannot fork, or the child dies, the pass runs in the parent as before: the audit's verdict
never depends on the child.
"""

from __future__ import annotations

import os
import pickle
import struct
from pathlib import Path
from typing import Any, BinaryIO

from archive.evidence.findings import Progress, VerifyReport
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
_LENGTH = struct.Struct("!I")


def _send(pipe: BinaryIO, message: tuple[Any, ...]) -> None:
    data = pickle.dumps(message)
    pipe.write(_LENGTH.pack(len(data)) + data)
    pipe.flush()


def _receive(pipe: BinaryIO) -> tuple[Any, ...] | None:
    head = pipe.read(_LENGTH.size)
    if len(head) < _LENGTH.size:
        return None  # the child ended without a word
    data = pipe.read(_LENGTH.unpack(head)[0])
    return pickle.loads(data)  # noqa: S301 - our own child's, through our own pipe


class _PipedProgress(Progress):
    """The child's progress over rows, sent to the parent."""

    def __init__(self, pipe: BinaryIO):
        self.pipe = pipe

    def rows(self, done: int, total: int) -> None:
        _send(self.pipe, ("rows", done, total))


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
        beside: bool = hasattr(os, "fork"),
    ):
        self.home, self.reader = home, reader
        self.known_heads, self.ca_bundle = known_heads, ca_bundle
        self.pid: int | None = None
        self.pipe: BinaryIO | None = None
        if beside:
            self._fork()

    def _fork(self) -> None:
        readable, writable = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: the pass, its findings sent, then gone at once
            os.close(readable)
            code = 0
            try:
                with os.fdopen(writable, "wb") as pipe:
                    try:
                        found = _run_ledger_pass(
                            self.home, _PipedProgress(pipe), self.known_heads, self.ca_bundle
                        )
                        message: tuple[Any, ...] = ("report", found)
                    except Exception as error:  # the parent raises it, as if its own
                        message = ("error", _picklable(error))
                    _send(pipe, message)
            except BaseException:  # the parent went away (a broken pipe), or a signal
                code = 1
            # Never return into the parent's code, nor run its finalizers (its database
            # connections are the parent's): leave now.
            os._exit(code)
        os.close(writable)
        self.pid, self.pipe = pid, os.fdopen(readable, "rb")

    def result(self, report: VerifyReport, progress: Progress) -> None:
        """Wait for the pass and put what it found into `report` (run here if no child)."""
        found = self._from_child(progress) if self.pid is not None else None
        if found is None:
            found = _run_ledger_pass(
                self.home, progress, self.known_heads, self.ca_bundle, self.reader
            )
        report.problems.extend(found.problems)
        report.notes.extend(found.notes)
        for name in RESULT_FIELDS:
            setattr(report, name, getattr(found, name))

    def _from_child(self, progress: Progress) -> VerifyReport | None:
        assert self.pipe is not None and self.pid is not None
        found: VerifyReport | None = None
        try:
            with self.pipe:
                while (message := _receive(self.pipe)) is not None:
                    if message[0] == "rows":
                        progress.rows(message[1], message[2])
                    elif message[0] == "error":
                        raise message[1]
                    else:
                        found = message[1]
        finally:
            os.waitpid(self.pid, 0)
        return found  # None: the child died (killed, out of memory); the parent does it


def _picklable(error: Exception) -> Exception:
    try:
        pickle.loads(pickle.dumps(error))  # noqa: S301 - made just now
    except Exception:
        return RuntimeError(f"{type(error).__name__}: {error}")
    return error
