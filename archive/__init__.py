"""The chalco-archive archive: SQLite index, WARC snapshot store, queries and the CLI.

Importable on its own (no Scrapy): `from archive import open_archive`.
"""

from archive.errors import ArchiveError, ArchiveNotFound, SnapshotCorrupt, SnapshotNotFound
from archive.store.home import ArchiveHome, default_home

__all__ = [
    "ArchiveError",
    "ArchiveHome",
    "ArchiveNotFound",
    "SnapshotCorrupt",
    "SnapshotNotFound",
    "default_home",
]
