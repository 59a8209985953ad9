"""The read verbs' connection: SQL text with `:name` parameters, answered as rows of dicts,
over the standard library's sqlite3 on SQLite or over SQLAlchemy on PostgreSQL.

On SQLite the read verbs never import SQLAlchemy (issue 16: `import sqlalchemy.orm` alone
costs about 0.3 s, more than a verb's whole work on a small archive). Their SQL is written to
run as it stands on both: times are ISO 8601 text on both (archive.store.times), booleans are
turned into `bool` by the caller, and lists are spelled out with `in_list`. Other callers
(report, browse, tests) may hand the read functions a SQLAlchemy session or connection: it
becomes a reader with `reader_for`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any

from archive.errors import DatabaseUnusable
from archive.store.home import ArchiveHome, require_archive
from archive.store.read_only import connect_read_only

if TYPE_CHECKING:
    from sqlalchemy import Connection
    from sqlalchemy.orm import Session

Row = dict[str, Any]


class Reader:
    """Reads one committed state of an archive's database (one read transaction)."""

    connection: sqlite3.Connection | Session | Connection
    """What it reads through, for code that runs its own SQL (archive.read.search)."""

    def rows(self, sql: str, **params: Any) -> list[Row]:
        raise NotImplementedError

    def one(self, sql: str, **params: Any) -> Row | None:
        """The first row, or None."""
        found = self.rows(sql, **params)
        return found[0] if found else None

    def close(self) -> None:
        """Ends the read transaction and the connection the reader opened, if it did."""

    def __enter__(self) -> Reader:
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        self.close()


def _reason(error: sqlite3.Error) -> str:
    return (str(error).splitlines() or [type(error).__name__])[0]


class SQLiteReader(Reader):
    """A reader over a read-only sqlite3 connection (archive.store.read_only), which it owns."""

    def __init__(self, connection: sqlite3.Connection):
        self.connection: sqlite3.Connection = connection
        try:
            # One transaction for the reader's life: every query sees the same committed
            # state, however long it runs beside a crawl (SQLite WAL snapshot).
            connection.execute("BEGIN")
        except sqlite3.Error as error:
            connection.close()
            raise DatabaseUnusable(_reason(error)) from error

    def rows(self, sql: str, **params: Any) -> list[Row]:
        try:
            cursor = self.connection.execute(sql, params)
            names = [column[0] for column in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in cursor]
        except sqlite3.Error as error:
            raise DatabaseUnusable(_reason(error)) from error

    def close(self) -> None:
        self.connection.close()  # which ends the read transaction


class SQLAlchemyReader(Reader):
    """A reader over a SQLAlchemy connection or session: PostgreSQL archives, and callers
    that have a session already. Their errors stay SQLAlchemy's (the CLI words them)."""

    def __init__(
        self, connection: Session | Connection, on_close: Callable[[], None] | None = None
    ):
        from sqlalchemy import text  # loaded already: the caller holds a SQLAlchemy object

        self.connection: Session | Connection = connection
        self._text = text
        self._on_close = on_close

    def rows(self, sql: str, **params: Any) -> list[Row]:
        result = self.connection.execute(self._text(sql), params)
        return [dict(row) for row in result.mappings()]

    def close(self) -> None:
        if self._on_close is not None:
            self._on_close()


def reader_for(database: Reader | Session | Connection) -> Reader:
    """A reader of `database`: itself, or one over a SQLAlchemy session or connection (whose
    transaction and closing stay with its owner)."""
    return database if isinstance(database, Reader) else SQLAlchemyReader(database)


def open_sql_reader(home: ArchiveHome) -> Reader:
    """A reader of the archive in `home`, safe beside a running crawl: on SQLite a `mode=ro`
    sqlite3 connection, on PostgreSQL a REPEATABLE READ, read-only one (archive.store.db)."""
    if not home.is_sqlite:
        return _server_reader(home)
    require_archive(home)
    try:
        connection = connect_read_only(home.database_path)
    except sqlite3.Error as error:
        raise DatabaseUnusable(_reason(error)) from error
    return SQLiteReader(connection)


def _server_reader(home: ArchiveHome) -> Reader:
    from archive.store.db import open_reader

    engine = open_reader(home)
    connection = engine.connect()

    def close() -> None:
        connection.close()  # which ends the read transaction
        engine.dispose()

    return SQLAlchemyReader(connection, on_close=close)


def in_list(name: str, values: Sequence[Any]) -> tuple[str, dict[str, Any]]:
    """`(:name_0, :name_1, …)` and its parameters, for `column IN` a list of values; an empty
    list matches nothing."""
    if not values:
        return "(NULL)", {}
    params = {f"{name}_{i}": value for i, value in enumerate(values)}
    return "(" + ", ".join(f":{key}" for key in params) + ")", params
