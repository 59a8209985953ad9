"""The upkeep verbs: `reindex` (rebuild the search index) and `migrate-db` (copy the SQLite
archive into another database)."""

from __future__ import annotations

from pathlib import Path

import click

from archive.cli.shared import HOME_OPTION, database_url, one_line_errors
from archive.store.home import ArchiveHome
from archive.store.migrate import migrate_database
from archive.store.search_index import reindex as rebuild_index
from archive.store.search_index import reindex_postgresql
from archive.store.writer import ArchiveWriter


@click.command()
@HOME_OPTION
@one_line_errors
def reindex(home: Path | None) -> None:
    """Rebuild the search index from every stored version (it is kept in step as versions
    are stored; this is for repairs and upgrades).

    \b
    Example:
      chalco-archive reindex
    """
    writer = ArchiveWriter(ArchiveHome.at(home))
    try:
        if writer.engine.dialect.name == "postgresql":
            count = reindex_postgresql(writer.connection)
        else:
            count = rebuild_index(writer.connection)
        writer.commit()
    finally:
        writer.close()
    click.echo(f"indexed {count} versions")


@click.command(name="migrate-db")
@HOME_OPTION
@click.option(
    "--to",
    "target",
    required=True,
    metavar="URL",
    callback=lambda _ctx, _param, value: database_url(value),
    help="The database to copy into, e.g. postgresql+psycopg://host/chalco (empty).",
)
@one_line_errors
def migrate_db(home: Path | None, target: str) -> None:
    """Copy the home's SQLite archive into another database, rows and WARC index, ids kept.

    The WARC files stay in the home; afterwards use the archive with `--db URL`.

    \b
    Example:
      chalco-archive migrate-db --to postgresql+psycopg://archivist@dbhost/chalco
      chalco-archive --db postgresql+psycopg://archivist@dbhost/chalco verify
    """
    source = ArchiveHome.at(home, f"sqlite:///{ArchiveHome.at(home).database_path}")
    report = migrate_database(source, target)
    total = sum(report.rows.values())
    details = ", ".join(f"{count} {name}" for name, count in report.rows.items() if count)
    click.echo(f"copied {total} rows to {target}: {details}")
    click.echo(
        f"the archive is now {report.target}: pass --db or set CHALCO_ARCHIVE_DB; commands"
        f" without them refuse this home's old SQLite file ({source.moved_marker.name})"
    )
