"""Copying an archive's database to another (SQLite to PostgreSQL): every row with its id,
so the WARC index, the versions, the ledger's chain, its Merkle tree and its timestamped
heads stay exactly as they were."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, func, insert, make_url, select, text

from archive.errors import ArchiveError
from archive.output_file import open_whole
from archive.store.db import open_reader, open_writer
from archive.store.home import ArchiveHome, require_archive
from archive.store.models import (
    Article,
    ArticleVersion,
    Capture,
    CaptureLoss,
    CrawlRun,
    File,
    LedgerEntry,
    LedgerNode,
    Listing,
    TreeHead,
    VersionCapture,
    VersionFile,
    WarcFile,
)
from archive.store.search_index import fill_pairs, without_gin_indexes
from archive.store.version_texts import whole_version_columns
from archive.store.writer.durability import HomeLock

# Parents before children, so foreign keys hold at every insert.
TABLES: list[Table] = [
    model.__table__  # type: ignore[misc]
    for model in (
        CrawlRun,
        WarcFile,
        Capture,
        CaptureLoss,
        Listing,
        Article,
        ArticleVersion,
        VersionCapture,
        File,
        VersionFile,
        LedgerEntry,
        LedgerNode,
        TreeHead,
    )
]
BATCH = 1000


def _columns_read(table: Table) -> list[Any]:
    """The table's columns as copied: a version's huge text kept beside its row (SQLite's
    version_texts) read from there, into the row as PostgreSQL keeps it."""
    return whole_version_columns() if table.name == "article_versions" else list(table.columns)


class TargetNotEmpty(ArchiveError):
    """The target database already holds an archive."""


@dataclass
class MigrationReport:
    rows: dict[str, int]
    target: str
    """The target's URL, its password hidden."""


def migrate_database(
    source: ArchiveHome, target_url: str, progress: Callable[[str, int], None] = lambda t, n: None
) -> MigrationReport:
    """Copy every row of `source`'s database into the database at `target_url` (migrated to
    the same schema first). The WARC files stay where they are: the target is used with the
    same home (`--db URL --home HOME`)."""
    require_archive(source)
    # Held to the end: a crawl writing meanwhile would go on into the file left behind.
    lock = HomeLock(source)
    try:
        return _copy(source, target_url, progress)
    finally:
        lock.release()


def _copy(
    source: ArchiveHome, target_url: str, progress: Callable[[str, int], None]
) -> MigrationReport:
    target = ArchiveHome(source.root, target_url)
    reader = open_reader(source)
    # An archive last written by an older release is brought to the schema the copy reads
    # (and the target gets), as its next crawl would bring it.
    open_writer(source).dispose()
    writer = open_writer(target)
    rows: dict[str, int] = {}
    try:
        with reader.connect() as read, writer.begin() as write:
            postgresql = write.dialect.name == "postgresql"
            for table in TABLES:
                if write.scalar(select(func.count()).select_from(table)):
                    raise TargetNotEmpty(
                        f"{target_url} already holds {table.name} rows: "
                        "migrate into an empty database"
                    )
            with without_gin_indexes(write) if postgresql else nullcontext():
                for table in TABLES:
                    copied = 0
                    result = read.execution_options(stream_results=True).execute(
                        select(*_columns_read(table)).order_by(*table.primary_key.columns)
                    )
                    while batch := result.fetchmany(BATCH):
                        write.execute(insert(table), [dict(row._mapping) for row in batch])
                        copied += len(batch)
                        progress(table.name, copied)
                    rows[table.name] = copied
                if postgresql:
                    fill_pairs(write)  # the search column is PostgreSQL's own
            if postgresql:
                write.execute(text("ANALYZE"))  # search's plans need the new rows' statistics
                # Ids were copied, so each sequence must continue after the largest one.
                for table in TABLES:
                    column = table.c.get("id")
                    if column is not None and column.primary_key:
                        write.execute(
                            text(
                                f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'),"
                                f" coalesce((SELECT max(id) FROM {table.name}), 0) + 1, false)"
                            )
                        )
    finally:
        reader.dispose()
        writer.dispose()
    shown = make_url(target_url).render_as_string(hide_password=True)
    if source.database_url == f"sqlite:///{source.database_path}":
        # From now on the home's own file is not the archive (archive.store.home.refuse_moved).
        with open_whole(source.moved_marker, "w", encoding="utf-8") as marker:
            marker.write(shown + "\n")
    return MigrationReport(rows, shown)
