"""Opening the archive database: the writer (WAL, migrated to head) and read-only readers."""

from __future__ import annotations

import sqlite3
from functools import partial
from importlib import resources
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.exc import DBAPIError

from archive.store.home import ArchiveHome, refuse_moved, require_archive
from archive.store.read_only import connect_read_only
from archive.store.schema import HEAD_REVISION, too_new

if TYPE_CHECKING:
    from alembic.config import Config
    from sqlalchemy.orm import Session, sessionmaker

# PostgreSQL advisory lock keys: migrations, and the ledger's chain (one appender at a time).
MIGRATION_LOCK = 0x63680001
LEDGER_LOCK = 0x63680002


def _alembic_config(url: str) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(resources.files("archive.store") / "migrations"))
    config.set_main_option("sqlalchemy.url", url)
    return config


def _on_connect_writer(dbapi_connection: sqlite3.Connection, _record: object) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets readers (export, datasette) work while a crawl writes.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def _begin_snapshot(connection: Connection) -> None:
    """One transaction per session: every query of a reader (verify, export) sees the same
    committed state, however long it runs beside a crawl (SQLite WAL snapshot)."""
    connection.exec_driver_sql("BEGIN")


def schema_revision(engine: Engine) -> str | None:
    """The revision stamped in alembic_version, read with one query (no Alembic); None for a
    database never migrated."""
    with engine.connect() as connection:
        try:
            rows = connection.execute(text("SELECT version_num FROM alembic_version")).all()
        except DBAPIError:  # no such table: a new, empty database
            return None
    # One row on a linear history; several would be branches, which Alembic sorts out.
    return str(rows[0][0]) if len(rows) == 1 else None


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest migration; the only way the schema changes."""
    if schema_revision(engine) == HEAD_REVISION:
        # Nothing to do, and no need to import Alembic: the stamp is committed in the one
        # transaction of the migrations it records, so reading the head means all are in.
        return
    from alembic import command
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    config = _alembic_config(str(engine.url))
    known = {script.revision for script in ScriptDirectory.from_config(config).walk_revisions()}
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            # Workers of a distributed crawl start together: one migrates, the others wait.
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        # Read again under the lock: the revision the upgrade starts from.
        current = MigrationContext.configure(connection).get_current_revision()
        if current is not None and current not in known:
            raise too_new(current)
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def open_writer(home: ArchiveHome) -> Engine:
    """The single writer engine: creates the home and migrates the schema."""
    refuse_moved(home)
    home.create()
    engine = create_engine(home.database_url, pool_size=1, max_overflow=0)
    if home.is_sqlite:
        event.listen(engine, "connect", _on_connect_writer)
    upgrade(engine)
    return engine


def _on_connect_server_reader(dbapi_connection: Any, _record: object) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
    cursor.close()
    dbapi_connection.commit()


def open_reader(home: ArchiveHome) -> Engine:
    """A read-only engine (SQLite `mode=ro`), safe beside a running crawl."""
    require_archive(home)
    if not home.is_sqlite:
        # REPEATABLE READ: one snapshot per transaction, as on SQLite (see _begin_snapshot).
        engine = create_engine(home.database_url, isolation_level="REPEATABLE READ")
        event.listen(engine, "connect", _on_connect_server_reader)
        return engine
    engine = create_engine("sqlite://", creator=partial(connect_read_only, home.database_path))
    event.listen(engine, "begin", _begin_snapshot)
    return engine


def session_factory(engine: Engine) -> sessionmaker[Session]:
    from sqlalchemy.orm import sessionmaker

    return sessionmaker(engine, expire_on_commit=False)
