"""What stopped a crawl (or a repair) before its summary, as one line and an exit code: the
archive in use, moved, on a full disk, of a newer schema, its database unusable; a fleet's
own errors; a bad setting. Anything else is a bug, and is raised as it is."""

from __future__ import annotations

from rich.console import Console
from sqlalchemy.exc import SQLAlchemyError

from archive.errors import ArchiveError, ArchiveLocked, ArchiveMoved, StorageFailed
from archive.store.home import ArchiveHome
from chalco_crawler.fleet import FleetError
from chalco_crawler.session import EXIT_LOCKED, EXIT_PARTIAL, EXIT_STORAGE, EXIT_USAGE


def exit_code_of(error: BaseException, home: ArchiveHome, errors: Console) -> int:
    """Print the error's line on `errors` and give its exit code."""
    if isinstance(error, ArchiveLocked):
        return _said(errors, str(error), EXIT_LOCKED)
    if isinstance(error, ArchiveMoved):
        return _said(errors, str(error), EXIT_USAGE)
    if isinstance(error, FleetError):
        return _said(errors, str(error), error.exit_code)
    if isinstance(error, StorageFailed):  # e.g. the database server does not answer
        return _said(errors, str(error), EXIT_STORAGE)
    if isinstance(error, LookupError | ValueError):  # a setting: an unknown section, say
        return _said(errors, str(error), EXIT_USAGE)
    if isinstance(error, OSError):
        return _said(errors, f"cannot write to the archive in {home.root}: {error}", EXIT_STORAGE)
    if isinstance(error, ArchiveError):  # a schema of a newer release: refused untouched
        return _said(errors, str(error), EXIT_PARTIAL)
    if isinstance(error, SQLAlchemyError):  # not an SQLite file, a truncated one
        reason = str(getattr(error, "orig", None) or error).splitlines()[0]
        return _said(errors, f"cannot use the database of {home.root}: {reason}", EXIT_STORAGE)
    raise error


def _said(errors: Console, line: str, code: int) -> int:
    errors.print(f"Error: {line}", markup=False)  # a path or URL may hold [brackets]
    return code
