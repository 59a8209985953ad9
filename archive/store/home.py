"""Where an archive lives: one directory holding the SQLite file and the WARC files."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from archive.errors import ArchiveMoved, ArchiveNotFound

HOME_ENV = "CHALCO_ARCHIVE_HOME"
# Any SQLAlchemy URL (postgresql+psycopg://…) puts the database outside the home; the WARC
# files stay in the home.
DB_ENV = "CHALCO_ARCHIVE_DB"
DEFAULT_HOME = Path("~/.local/share/chalco-archive")
DATABASE_NAME = "archive.sqlite3"
# Written by migrate-db beside the SQLite file it copied: where the archive went.
MOVED_NAME = "archive.sqlite3.moved"
WARC_DIR_NAME = "warc"


def default_home() -> Path:
    """`$CHALCO_ARCHIVE_HOME`, else ~/.local/share/chalco-archive (XDG data dir when set)."""
    if os.environ.get(HOME_ENV):
        return Path(os.environ[HOME_ENV]).expanduser()
    xdg = os.environ.get("XDG_DATA_HOME")
    if xdg:
        return Path(xdg) / "chalco-archive"
    return DEFAULT_HOME.expanduser()


@dataclass(frozen=True)
class ArchiveHome:
    root: Path
    db_url: str | None = None
    """The database when it is not the home's SQLite file (`--db`, $CHALCO_ARCHIVE_DB)."""

    @classmethod
    def at(cls, root: str | os.PathLike[str] | None, db_url: str | None = None) -> ArchiveHome:
        path = Path(root).expanduser().resolve() if root else default_home().resolve()
        return cls(path, db_url or os.environ.get(DB_ENV) or None)

    @property
    def database_path(self) -> Path:
        return self.root / DATABASE_NAME

    @property
    def moved_marker(self) -> Path:
        return self.root / MOVED_NAME

    @property
    def warc_dir(self) -> Path:
        return self.root / WARC_DIR_NAME

    @property
    def database_url(self) -> str:
        return self.db_url or f"sqlite:///{self.database_path}"

    @property
    def database_place(self) -> str:
        """Where the database is, for a message: the SQLite file, or HOST:PORT/NAME of a
        server (never its password)."""
        if self.is_sqlite:
            return str(self.database_path) if self.db_url is None else self.database_url
        parts = urlsplit(self.database_url)
        port = f":{parts.port}" if parts.port else ""
        return f"{parts.hostname or 'localhost'}{port}{parts.path}"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def exists(self) -> bool:
        """Is there an archive? (A server database is taken to exist; connecting tells.)"""
        return self.database_path.exists() if self.is_sqlite else True

    def create(self) -> None:
        self.warc_dir.mkdir(parents=True, exist_ok=True)


def refuse_moved(home: ArchiveHome) -> None:
    """The home's own SQLite file is used only while it is the archive (see MOVED_NAME); an
    explicit --db, even naming that file, is the user's choice."""
    if home.db_url is None and home.moved_marker.exists():
        where = home.moved_marker.read_text(encoding="utf-8").strip()
        raise ArchiveMoved(
            f"the archive in {home.root} was copied to {where} by migrate-db: pass --db URL or"
            f" set CHALCO_ARCHIVE_DB (to go on with the old SQLite file instead, delete"
            f" {home.moved_marker})"
        )


def require_archive(home: ArchiveHome) -> None:
    """What reading an archive checks before opening its database: it was not moved away,
    and there is one."""
    refuse_moved(home)
    if not home.exists():
        raise ArchiveNotFound(
            f"no archive in {home.root}: run `chalco-archive crawl --home {home.root}` first"
        )
