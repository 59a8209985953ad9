"""The audit's rows: tuples of SQL text with `:name` parameters, streamed in batches, in the
reader's one transaction. On SQLite straight from the sqlite3 connection (verify imports no
SQLAlchemy there), and its text as UTF-8 bytes while `undecoded()` holds; on PostgreSQL
through the reader's SQLAlchemy connection, with a server-side cursor."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from archive.read.sql import Reader

BATCH = 2000


class RawRows:
    def __init__(self, reader: Reader):
        self.reader = reader
        connection = reader.connection
        self.sqlite = isinstance(connection, sqlite3.Connection)
        self._sqlite: sqlite3.Connection | None = connection if self.sqlite else None  # type: ignore[assignment]
        self.undecoding = False

    @contextmanager
    def undecoded(self) -> Iterator[None]:
        """SQLite's text as its UTF-8 bytes, never decoded (the connection's text_factory,
        put back after); PostgreSQL's stays str."""
        if self._sqlite is None:
            yield
            return
        saved = self._sqlite.text_factory
        self._sqlite.text_factory = bytes
        self.undecoding = True
        try:
            yield
        finally:
            self._sqlite.text_factory = saved
            self.undecoding = False

    def stream(self, sql: str, params: dict[str, Any] | None = None) -> Iterator[Sequence[Any]]:
        if self._sqlite is not None:
            cursor = self._sqlite.execute(sql, params or {})
            cursor.arraysize = BATCH
            try:
                yield from cursor
            finally:
                cursor.close()
            return
        from sqlalchemy import text  # the reader is SQLAlchemy's: loaded already

        connection: Any = self.reader.connection
        if hasattr(connection, "connection") and callable(connection.connection):
            connection = connection.connection()  # a session: its connection
        result = connection.execution_options(stream_results=True).execute(text(sql), params or {})
        while batch := result.fetchmany(BATCH):
            yield from batch

    def has_column(self, table: str, column: str) -> bool:
        """Whether the table has the column: readers never migrate, and an archive last
        written by an older release lacks what later migrations add."""
        if self._dialect() == "sqlite":
            sql = "SELECT 1 FROM pragma_table_info(:table) WHERE name = :column"
        else:
            sql = (
                "SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema()"
                " AND table_name = :table AND column_name = :column"
            )
        return self.scalar(sql, {"table": table, "column": column}) is not None

    def _dialect(self) -> str:
        if self.sqlite:
            return "sqlite"
        connection: Any = self.reader.connection  # SQLAlchemy's: a session or a connection
        bind = connection.get_bind() if hasattr(connection, "get_bind") else connection
        return str(bind.dialect.name)

    def scalar(self, sql: str, params: dict[str, Any] | None = None) -> Any:
        for row in self.stream(sql, params):
            return row[0]
        return None
