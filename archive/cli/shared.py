"""What every verb shares: the --home and --format options, one-line errors, opening the
archive to read, and writing listings as a table, JSON Lines or CSV.

Imported by every verb, so it stays cheap to import: SQLAlchemy and rich are imported by the
functions that use them, and only a verb that runs them pays for them.
"""

from __future__ import annotations

import csv
import json
import os
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import wraps
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, TypeVar

import click

from archive.errors import ArchiveError, ArchiveLocked
from archive.safe_text import csv_cell, for_terminal
from archive.store.home import HOME_ENV, ArchiveHome

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from archive.cli.tables import Column
    from archive.read.sql import Reader

F = TypeVar("F", bound=Callable[..., Any])

HOME_OPTION = click.option(
    "--home",
    envvar=HOME_ENV,
    type=click.Path(file_okay=False, path_type=Path),
    help=f"Archive home directory [env {HOME_ENV}; default $XDG_DATA_HOME/chalco-archive "
    "or ~/.local/share/chalco-archive].",
)


EXIT_LOCKED = 3  # as `crawl` says it: another process holds the home
EXIT_BROKEN_PIPE = 128 + 13  # what a shell reports for a process killed by SIGPIPE


def _is_database_error(error: Exception) -> bool:
    """An SQLAlchemy or sqlite3 error, told without importing either: a verb that raised one
    has imported its module, and one that never imported it cannot have raised one. (Search
    and the reader run SQL on plain sqlite3, e.g. over a file that holds no archive tables.)"""
    for module, name in (("sqlalchemy.exc", "SQLAlchemyError"), ("sqlite3", "Error")):
        loaded = sys.modules.get(module)
        if loaded is not None and isinstance(error, getattr(loaded, name)):
            return True
    return False


class HomeInUse(click.ClickException):
    """Another process holds the home: exit 3, as `crawl` says it."""

    exit_code = EXIT_LOCKED


def os_error_line(error: OSError) -> str:
    """`No space left on device: /path/of/the/file`, or the reason alone when no file is
    named (never `: None`)."""
    reason = error.strerror or str(error)
    return f"{reason}: {error.filename}" if error.filename is not None else reason


def one_line_errors(command: F) -> F:
    """Turn the archive's named errors into a one-line message and exit code 1 (3 when the
    home is in use, as for `crawl`)."""

    @wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except ArchiveLocked as error:
            raise HomeInUse(str(error)) from error
        except ArchiveError as error:
            raise click.ClickException(str(error)) from error
        except BrokenPipeError:
            # The reader went away (`| head`): stop quietly, as Unix tools killed by SIGPIPE.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(EXIT_BROKEN_PIPE)
        except OSError as error:  # an output file that cannot be written, a missing folder
            raise click.ClickException(os_error_line(error)) from error
        except Exception as error:
            if not _is_database_error(error):
                raise
            reason = str(getattr(error, "orig", None) or error).splitlines()[0]
            raise click.ClickException(f"cannot use the database: {reason}") from error

    return wrapper  # type: ignore[return-value]


@contextmanager
def reading(home_path: Path | None) -> Iterator[tuple[ArchiveHome, Reader]]:
    """The read verbs' reader: plain sqlite3 on SQLite (no SQLAlchemy import), one snapshot."""
    from archive.read.sql import open_sql_reader

    home = ArchiveHome.at(home_path)
    with open_sql_reader(home) as reader:
        yield home, reader


@contextmanager
def reading_session(home_path: Path | None) -> Iterator[tuple[ArchiveHome, Session]]:
    """A read-only SQLAlchemy session, for verify and package (their checks use the ORM)."""
    from archive.store.db import open_reader, session_factory  # SQLAlchemy: those verbs only

    home = ArchiveHome.at(home_path)
    engine = open_reader(home)
    session = session_factory(engine)()
    try:
        yield home, session
    finally:
        session.close()
        engine.dispose()


@contextmanager
def output_stream(path: str, *, binary: bool = False, bom: bool = False) -> Iterator[IO[Any]]:
    if path == "-":
        if binary:
            yield sys.stdout.buffer
        else:
            if bom:
                sys.stdout.buffer.write("\ufeff".encode())
            yield for_terminal(sys.stdout)
        return
    # Written beside the file and renamed when complete: a full disk leaves no cut-off file.
    from archive.output_file import open_whole  # tempfile: for the verbs that write a file

    if binary:
        with open_whole(path, "wb") as handle:
            yield handle
    else:
        with open_whole(path, "w", encoding="utf-8-sig" if bom else "utf-8", newline="") as handle:
            yield handle


def csv_value(value: Any) -> Any:
    """Flatten a record's field for one CSV cell: lists of text joined, objects as JSON."""
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return "; ".join(value)
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False)
    return value


def write_records(
    records: Iterable[dict[str, Any]], fmt: str, handle: IO[str], fields: Iterable[str]
) -> int:
    count = 0
    columns = list(fields)
    if fmt == "csv":
        writer = csv.DictWriter(handle, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        for record in records:
            writer.writerow({k: csv_cell(csv_value(record.get(k))) for k in columns})
            count += 1
    elif fmt == "json":  # one JSON array, for tools that read a document, not lines
        handle.write("[")
        for record in records:
            handle.write(("," if count else "") + "\n" + json.dumps(record, ensure_ascii=False))
            count += 1
        handle.write("\n]\n")
    else:
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
            count += 1
    return count


LIST_FORMAT = click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "jsonl", "json", "csv"]),
    default=None,
    help="Default: table on a terminal, jsonl otherwise (json: the same records in one array).",
)


def list_format(fmt: str | None) -> str:
    """The asked format, else a table on a terminal and JSON Lines for scripts."""
    return fmt or ("table" if sys.stdout.isatty() else "jsonl")


def emit(
    rows: list[dict[str, Any]], columns: Sequence[str | Column], fmt: str | None, title: str
) -> None:
    """Print a listing the same way in every verb: a table for people (archive.cli.tables:
    identifiers whole, prose shortened), JSON Lines or CSV (with every field) for scripts."""
    from archive.cli.tables import Column

    fmt = list_format(fmt)
    laid_out = [c if isinstance(c, Column) else Column(c) for c in columns]
    if fmt == "table":
        from archive.cli.tables import print_listing

        print_listing(rows, laid_out, title=title)
        return
    if fmt == "csv":
        sys.stdout.write("\ufeff")  # UTF-8 BOM: Excel then reads the Chinese right
    fields = list(rows[0]) if rows else [c.field for c in laid_out]
    write_records(rows, fmt, for_terminal(sys.stdout), fields)


def database_url(value: str) -> str:
    from sqlalchemy import make_url  # only when a URL is given: --db, migrate-db --to
    from sqlalchemy.exc import ArgumentError

    try:
        make_url(value)
    except ArgumentError as error:
        raise click.BadParameter(
            f"{value!r} is not a database URL (e.g. postgresql+psycopg://host/chalco)"
        ) from error
    return value


def parse_time(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as error:
        raise click.BadParameter(f"{value!r} is not an ISO date or datetime") from error
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
