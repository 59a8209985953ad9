"""Opening the archive's SQLite file read-only with the standard library's sqlite3: the one
set of opening rules, for the read verbs' plain connection and for SQLAlchemy's reader engine
(archive.store.db.open_reader). Imports no database library but sqlite3."""

from __future__ import annotations

import sqlite3
from pathlib import Path


def connect_read_only(path: Path) -> sqlite3.Connection:
    """A `mode=ro` connection to the SQLite file at `path`, safe beside a running crawl.

    It begins no transaction by itself: whoever reads begins one (`BEGIN`) so that all its
    queries see one committed state (SQLite WAL snapshot)."""
    try:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
        connection.execute("SELECT 1 FROM sqlite_master LIMIT 1")
    except sqlite3.OperationalError:
        # On a read-only filesystem SQLite cannot make the WAL index file; nothing can
        # write there either, so reading the file as immutable is safe.
        connection = sqlite3.connect(
            f"file:{path}?mode=ro&immutable=1", uri=True, check_same_thread=False
        )
    connection.execute("PRAGMA busy_timeout=10000")
    # The driver's own transaction handling never begins one for a SELECT, so each query
    # would see a newer state of a database that a crawl is writing; readers begin them.
    connection.isolation_level = None
    _stand_in_for_version_texts(connection)
    return connection


def _stand_in_for_version_texts(connection: sqlite3.Connection) -> None:
    """On an archive from before migration 0019 (readers never migrate), an empty temporary
    `version_texts`, so that the readers' SQL, which takes a version's text wherever it is
    (archive/store/version_texts.py), finds every text in its row, as it is there."""
    found = connection.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'version_texts'"
    ).fetchone()
    if found is None:
        connection.execute(
            "CREATE TEMP TABLE version_texts"
            " (version_id INTEGER PRIMARY KEY, body_html BLOB, body BLOB)"
        )
