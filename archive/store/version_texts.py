"""A version's huge texts on SQLite, kept beside its row (`version_texts`, migration 0019).

SQLite builds a row's whole record in memory when it writes it, and makes room for every
value first, so a row holding a 50 MB paragraph in both `body` and `body_html` cost some
200 MB inside SQLite however the texts were handed over. A BLOB that ends its record costs
nothing until it is filled: a version's text of more than HUGE_TEXT characters is written
as UTF-8 into a `version_texts` row made of such BLOBs, a slice at a time through SQLite's
incremental I/O, and its column in `article_versions` is left null. Readers take the whole
text wherever it is (whole_text_sql; the ORM's `ArticleVersion.body` does the same).
PostgreSQL keeps every text in its row: it is sent whole to a server of its own.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy import Connection

HUGE_COLUMNS = ("body", "body_html")
HUGE_TEXT = 1024 * 1024
"""Characters of a version's text past which, on SQLite, it is kept beside its row."""
TEXT_SLICE = 1024 * 1024
"""Characters encoded and written at a time."""


def is_huge(value: object) -> bool:
    return isinstance(value, str) and len(value) > HUGE_TEXT


def whole_text_sql(column: str, table: str = "article_versions") -> str:
    """SQL for a version's whole text `column` ("body" or "body_html") of the row `table`
    names (the table or its alias in the query), in its row or beside it."""
    if column not in HUGE_COLUMNS:
        raise ValueError(f"not a text kept beside its row: {column}")
    return (
        f'coalesce({table}."{column}", (SELECT CAST(t."{column}" AS TEXT)'
        f" FROM version_texts AS t WHERE t.version_id = {table}.id))"
    )


def utf8_slices(text: str) -> Iterator[bytes]:
    """`text` as UTF-8, TEXT_SLICE characters at a time."""
    for start in range(0, len(text), TEXT_SLICE):
        yield text[start : start + TEXT_SLICE].encode("utf-8")


def write_beside(connection: Connection, version_id: int, row: Mapping[str, Any]) -> bool:
    """Write the version's huge texts of `row` beside its row (SQLite), whose columns for
    them the caller left null; whether there was any. The row is made of zero-filled BLOBs
    of the texts' sizes (no memory: they end the record), then each filled a slice at a
    time."""
    huge = [column for column in HUGE_COLUMNS if is_huge(row.get(column))]
    if not huge:
        return False
    sizes = {column: sum(map(len, utf8_slices(row[column]))) for column in huge}
    # Columns in the table's order (body_html, body): every value after a zeroblob must be
    # empty for SQLite to keep it unexpanded, and a column not named here is null.
    ordered = [column for column in ("body_html", "body") if column in sizes]
    connection.exec_driver_sql(
        f"INSERT INTO version_texts (version_id, {', '.join(ordered)})"
        f" VALUES (?, {', '.join('zeroblob(?)' for _ in ordered)})",
        (version_id, *(sizes[column] for column in ordered)),
    )
    database = connection.connection.driver_connection
    assert isinstance(database, sqlite3.Connection)
    for column in ordered:
        with database.blobopen("version_texts", column, version_id) as blob:
            for piece in utf8_slices(row[column]):
                blob.write(piece)
    return True


def whole_text_column(column: str) -> Any:
    """whole_text_sql of article_versions as a SQLAlchemy column labelled `column`, for a
    Core select from the table itself."""
    from sqlalchemy import Text, literal_column

    return literal_column(whole_text_sql(column), Text).label(column)


def kept_beside(connection: Connection, version_ids: Sequence[int]) -> set[int]:
    """Which of these versions have a text kept beside their row."""
    if connection.dialect.name != "sqlite" or not version_ids:
        return set()
    found: set[int] = set()
    for start in range(0, len(version_ids), 500):
        ids = list(version_ids[start : start + 500])
        marks = ", ".join("?" for _ in ids)
        found.update(
            connection.exec_driver_sql(
                f"SELECT version_id FROM version_texts WHERE version_id IN ({marks})", tuple(ids)
            ).scalars()
        )
    return found


def read_beside(connection: Connection, version_id: int, column: str) -> str | None:
    """The version's text `column` kept beside its row; None when it is not."""
    value = connection.exec_driver_sql(
        f'SELECT "{column}" FROM version_texts WHERE version_id = ?', (version_id,)
    ).scalar()
    return None if value is None else bytes(value).decode("utf-8")


def equals_beside(connection: Connection, version_id: int, column: str, text: str | None) -> bool:
    """Whether the version's text `column` kept beside its row is `text`, compared a slice at
    a time (neither held twice)."""
    database = connection.connection.driver_connection
    assert isinstance(database, sqlite3.Connection)
    present = connection.exec_driver_sql(
        f'SELECT "{column}" IS NOT NULL FROM version_texts WHERE version_id = ?', (version_id,)
    ).scalar()
    if not present or text is None:
        return not present and text is None
    with database.blobopen("version_texts", column, version_id, readonly=True) as blob:
        for piece in utf8_slices(text):
            if blob.read(len(piece)) != piece:
                return False
        return blob.tell() == len(blob)


def whole_version_columns() -> list[Any]:
    """Every column of article_versions, its texts read wherever they are kept."""
    from archive.store.tables import VERSIONS

    return [
        whole_text_column(column.name) if column.name in HUGE_COLUMNS else column
        for column in VERSIONS.columns
    ]
