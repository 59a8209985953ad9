"""The `browse` verb: the archive in datasette, read-only, with the schema's descriptions."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path

import click

from archive.child import run_forwarding_signals
from archive.errors import ArchiveMoved
from archive.store.home import HOME_ENV, ArchiveHome, refuse_moved

METADATA_NAME = "datasette-metadata.json"

# Datasette's default limit is 1 s. The `search` query reads every body with instr() (measured:
# 0.25 s over 50,000 articles of 3,000 characters), so a large archive would be cut short.
# Locally, a slow answer is better than none.
SQL_TIME_LIMIT_MS = 10_000


@contextmanager
def metadata_path() -> Iterator[Path]:
    """The packaged datasette metadata as a file on disk."""
    with resources.as_file(resources.files("archive.read") / METADATA_NAME) as path:
        yield path


def datasette_command(database: Path, metadata: Path, host: str, port: int) -> list[str]:
    # Not --immutable (-i): a crawl may be writing. A plain file argument is opened
    # `mode=ro`, which reads beside the crawl's WAL writer.
    return [
        sys.executable,
        "-m",
        "datasette",
        "serve",
        str(database),
        "--metadata",
        str(metadata),
        "--host",
        host,
        "--port",
        str(port),
        "--setting",
        "sql_time_limit_ms",
        str(SQL_TIME_LIMIT_MS),
    ]


@click.command()
@click.option(
    "--home",
    envvar=HOME_ENV,
    type=click.Path(file_okay=False, path_type=Path),
    help=f"Archive home directory [env {HOME_ENV}; default ~/.local/share/chalco-archive].",
)
@click.option("--port", default=8001, show_default=True, help="Port to serve on.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
def browse(home: Path | None, port: int, host: str) -> None:
    """Open the archive in datasette, read-only, until Ctrl-C: the tables and the analysts'
    views (latest_articles …) with their column descriptions, and a `search` query for
    exact substrings of titles and bodies. Safe beside a running crawl.

    Example: chalco-archive browse --port 8001
    """
    archive_home = ArchiveHome.at(home)
    if not archive_home.is_sqlite:
        raise click.ClickException(
            "browse opens the home's SQLite file (datasette); copy the archive there or query "
            "PostgreSQL directly"
        )
    try:
        refuse_moved(archive_home)  # datasette would serve the old file without a word
    except ArchiveMoved as error:
        raise click.ClickException(str(error)) from error
    if not archive_home.exists():
        raise click.ClickException(
            f"no archive in {archive_home.root}: "
            f"run `chalco-archive crawl --home {archive_home.root}` first"
        )
    if importlib.util.find_spec("datasette") is None:
        raise click.ClickException("datasette is not installed: pip install datasette")
    with metadata_path() as metadata:
        command = datasette_command(archive_home.database_path, metadata, host, port)
        click.echo(f"serving {archive_home.database_path} at http://{host}:{port}/", err=True)
        code = run_forwarding_signals(command)
    if code not in (0, -2, -15):  # stopped by Ctrl-C or SIGTERM is how browsing ends
        raise click.ClickException(f"datasette stopped with exit code {code}")
