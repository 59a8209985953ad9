"""The writer's footing: the home lock, the one connection, batched commits, and the storage
guard that stops the writer on the first failed write.

Order of durability: a WARC record is written and fsynced before the row that points at it
is committed. Commits are batched (every `commit_every` writes or `commit_seconds`), so a
crash loses at most the last batch of rows, never leaves a row pointing at nothing.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar

from sqlalchemy import Connection, Insert, Table, Update, bindparam, insert, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError, PendingRollbackError, SQLAlchemyError

from archive.errors import ArchiveLocked, StorageFailed, one_line
from archive.store.db import open_writer
from archive.store.home import ArchiveHome
from archive.store.warcstore import WarcStore
from archive.store.writer.ledger_batch import LedgerBatch

LOCK_NAME = ".lock"
# Tables whose rows the ledger covers, by the entry kind that names them.
LEDGER_KINDS = {
    "captures": "capture",
    "article_versions": "version",
    "articles": "article",
    "capture_losses": "capture_loss",
}

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class WriterOptions:
    """How a writer batches and names its work (see ArchiveWriter)."""

    commit_every: int
    commit_seconds: float
    max_warc_size: int | None
    worker: str | None


def guarded(method: F) -> F:
    """Run a write under the writer's storage guard (see DurableWriter._storage_guard)."""

    @wraps(method)
    def wrapper(self: DurableWriter, *args: Any, **kwargs: Any) -> Any:
        with self._storage_guard():
            return method(self, *args, **kwargs)

    return wrapper  # type: ignore[return-value]


class HomeLock:
    """A lock on a home, released by the OS if we die. A crawl takes it exclusively (one
    writer at a time); the workers of a distributed crawl share it, which still keeps a
    one-process crawl out while they run."""

    def __init__(self, home: ArchiveHome, *, shared: bool = False):
        home.create()
        self.path = home.root / LOCK_NAME
        self._handle = open(self.path, "a+")  # noqa: SIM115 (held for the writer's life)
        try:
            fcntl.flock(self._handle, (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | fcntl.LOCK_NB)
        except BlockingIOError as error:
            self._handle.seek(0)
            holder = self._handle.read().strip() or "another process"
            self._handle.close()
            raise ArchiveLocked(
                f"{home.root} is in use by {holder}; wait for it to finish"
            ) from error
        self._handle.seek(0)
        self._handle.truncate()
        self._handle.write("distributed crawl workers" if shared else f"pid {os.getpid()}")
        self._handle.flush()

    def release(self) -> None:
        if not self._handle.closed:
            fcntl.flock(self._handle, fcntl.LOCK_UN)
            self._handle.close()


class DurableWriter:
    """The part of the writer every other part writes through: one connection, one open
    transaction holding the batch, the batch's ledger entries."""

    def __init__(self, home: ArchiveHome, options: WriterOptions):
        self.home = home
        self.worker = options.worker
        self._lock = HomeLock(home, shared=options.worker is not None)
        try:
            self.engine = open_writer(home)
            self.connection: Connection = self.engine.connect()
        except BaseException:
            self._lock.release()  # e.g. a database server that does not answer (yet)
            raise
        self._transaction = self.connection.begin()
        self.commit_every = options.commit_every
        self.commit_seconds = options.commit_seconds
        self._pending = 0
        self._last_commit = time.monotonic()
        # Statements built once per table (building one cost more than running it).
        self._inserts: dict[str, Insert] = {}
        self._updates: dict[str, Update] = {}
        self.run_id: int | None = None
        self.failed: str | None = None
        """Why the home stopped taking writes, once it has."""
        self.disconnected = False
        """The failure was the database server's connection lost (see reconnect)."""
        self.failure_reason = ""
        """The failure as the driver or the system said it, on one line."""
        self.warc: WarcStore | None = None
        """The run's WARC files (opened by start_run): synced before each commit."""
        self._ledger = LedgerBatch(self.connection)
        # On PostgreSQL the workers of a distributed crawl write beside this writer.
        self._shared_database = self.engine.dialect.name == "postgresql"
        self.commit_listeners: list[Callable[[], None]] = []
        """Called after each commit that succeeded: a fleet worker releases there the
        requests whose results the commit made durable."""
        self.reconnect_listeners: list[Callable[[], None]] = []
        """Called once the writer takes writes again after reconnect: whoever keeps ids or
        counts of the lost batch drops them."""

    def _add(self, table: Table, **values: Any) -> int:
        """INSERT one row; its new id. Captures and versions get their ledger entry."""
        statement = self._inserts.get(table.name)
        if statement is None:
            statement = self._inserts[table.name] = insert(table)
        result = self.connection.execute(statement, values)
        row_id = int(result.inserted_primary_key[0])  # type: ignore[index]
        kind = LEDGER_KINDS.get(table.name)
        if kind is not None:
            self._ledger.add(kind, row_id, {column.name: None for column in table.columns} | values)
        return row_id

    def _dialect_insert(self, table: Table) -> Any:
        """An INSERT that takes the database's ON CONFLICT clauses (SQLite's and PostgreSQL's
        are spelled alike); build it once and pass the rows' values as parameters."""
        dialect = {"postgresql": postgresql, "sqlite": sqlite}.get(self.engine.dialect.name, sqlite)
        return dialect.insert(table)

    def _set(self, table: Table, row_id: int, **values: Any) -> None:
        """UPDATE one row by id."""
        statement = self._updates.get(table.name)
        if statement is None:
            statement = self._updates[table.name] = update(table).where(
                table.c.id == bindparam("row_id")
            )
        self.connection.execute(statement, {"row_id": row_id, **values})

    def _wrote(self) -> None:
        self._pending += 1
        if self.connection.in_nested_transaction():
            return  # a version write in a savepoint (_retrying) commits with its batch
        if (
            self._pending >= self.commit_every
            or time.monotonic() - self._last_commit >= self.commit_seconds
        ):
            self.commit()

    def commit(self) -> None:
        """Make the WARC records durable, then commit the rows that point at them."""
        with self._storage_guard():
            if self.warc is not None:
                self.warc.sync()
            self._flush_batch()
            self._ledger.append()
            self._transaction.commit()
            if self.warc is not None:
                self.warc.mark_committed()
            self._transaction = self.connection.begin()
        self._pending = 0
        self._last_commit = time.monotonic()
        for listener in self.commit_listeners:
            listener()

    def reconnect(self) -> None:
        """After the database server's connection was lost (`disconnected`): a new one, and
        the writer takes writes again. What the lost batch held is gone, in the database
        and in the WARC files (see _storage_guard): the caller fetches it again. Raises
        the driver's error while the server does not answer."""
        assert self.failed is not None and self.disconnected
        if not self.connection.closed:  # closed by an earlier try
            try:
                self.connection.invalidate()
                self.connection.close()
            except SQLAlchemyError:
                pass
        self.connection = self.engine.connect()
        self._transaction = self.connection.begin()
        self._ledger = LedgerBatch(self.connection)
        self._forget_batch()
        self.failed, self.disconnected = None, False
        self._pending = 0
        self._last_commit = time.monotonic()
        for listener in self.reconnect_listeners:
            listener()

    def since_commit(self) -> float:
        """Seconds since the last commit."""
        return time.monotonic() - self._last_commit

    def _flush_batch(self) -> None:
        """Write what a part keeps in memory until the commit (rows many at once)."""

    def _forget_batch(self) -> None:
        """The batch was rolled back: a part drops what it kept of it (rows to flush, ids
        of rows that no longer exist)."""

    @contextmanager
    def _storage_guard(self) -> Iterator[None]:
        """A failed write or commit (disk full, read-only home) undoes the uncommitted batch
        in the database and in the WARC files, then raises StorageFailed; the writer takes no
        more writes after that."""
        if self.failed is not None:
            raise StorageFailed(self.failed)
        try:
            yield
        except (OSError, DBAPIError, PendingRollbackError) as error:
            reason = one_line(getattr(error, "orig", None) or error)
            # PendingRollbackError: a read outside the guard met the lost connection first.
            self.disconnected = bool(
                getattr(error, "connection_invalidated", False) or self.connection.invalidated
            )
            self.failure_reason = reason
            if self.disconnected:
                self.failed = f"cannot reach the database at {self.home.database_place}: {reason}"
            else:
                self.failed = f"cannot write to the archive in {self.home.root}: {reason}"
            self._ledger.discard()
            self._forget_batch()
            try:
                self._transaction.rollback()
            except DBAPIError:
                pass  # SQLite has rolled back on its own
            if self.warc is not None:
                self.warc.roll_back()
            raise StorageFailed(self.failed) from error
