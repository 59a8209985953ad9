"""Where an archive lives: one directory holding the SQLite file and the WARC files."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

HOME_ENV = "CHALCO_ARCHIVE_HOME"
DEFAULT_HOME = Path("~/.local/share/chalco-archive")
DATABASE_NAME = "archive.sqlite3"
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

    @classmethod
    def at(cls, root: str | os.PathLike[str] | None) -> ArchiveHome:
        return cls(Path(root).expanduser().resolve() if root else default_home().resolve())

    @property
    def database_path(self) -> Path:
        return self.root / DATABASE_NAME

    @property
    def warc_dir(self) -> Path:
        return self.root / WARC_DIR_NAME

    @property
    def database_url(self) -> str:
        return f"sqlite:///{self.database_path}"

    def exists(self) -> bool:
        return self.database_path.exists()

    def create(self) -> None:
        self.warc_dir.mkdir(parents=True, exist_ok=True)
