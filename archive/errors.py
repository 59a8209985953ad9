"""Named exceptions of the archive; the CLI turns them into one-line messages."""

import re


def one_line(reason: object) -> str:
    """A reason as one line: a database driver's message spans several (psycopg adds the
    server's hint on its own lines), and a cron mail or a grep wants one."""
    return " ".join(str(reason).split())


class ArchiveError(Exception):
    """Base of every error the archive raises on purpose."""


class ArchiveNotFound(ArchiveError):
    """The home directory holds no archive yet."""


class ArchiveMoved(ArchiveError):
    """The home's SQLite archive was copied to another database (migrate-db), which is the
    archive now: using the old file without saying so would split the archive in two."""


class ArchiveLocked(ArchiveError):
    """Another process writes to this archive."""


class ArticleNotFound(ArchiveError):
    """No article with that URL is archived."""


class SnapshotNotFound(ArchiveError):
    """No capture of that URL at or before the asked time."""


class SnapshotCorrupt(ArchiveError):
    """A WARC record is missing, truncated or does not match its recorded digest."""


class ContentOversize(ArchiveError):
    """A payload decodes (gzip, deflate, br, zstd) to more bytes than the limit allows: a
    decompression bomb, or a page larger than the crawl's size limit. It is not inflated."""

    def __init__(self, message: str, limit: int):
        super().__init__(message)
        self.limit = limit


class ContentUndecodable(ArchiveError, ValueError):
    """A payload's Content-Encoding cannot be undone: damaged data, an unknown coding."""


class StorageFailed(ArchiveError):
    """The home cannot be written (disk full, read-only, file too large). What was committed
    before stays; what was written since is undone."""


class DatabaseUnreachable(StorageFailed):
    """The archive's database server does not answer (stopped, or the network to it down)."""


class DatabaseUnusable(ArchiveError):
    """The archive's database refused a read (not an SQLite file, locked, damaged): said as
    the CLI says it of any database error."""

    def __init__(self, reason: str):
        super().__init__(f"cannot use the database: {reason}")


# Where a message stops being words: a control character, a byte read as Latin-1 (0x80-0xff)
# or U+FFFD, as a WARC reader's error quoting the bytes it could not parse (gzip's 1f 8b 08).
_BINARY = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\xff\ufffd]")
HEX_EXCERPT_BYTES = 16


def readable_reason(message: str) -> str:
    """An error message with the raw bytes it may quote shown as a short hex excerpt:
    `Unknown archive format, first line: 1f 8b 08 00 … (hex, first 16 of 112 bytes)`."""
    first_line = message.splitlines()[0] if message else ""
    binary = _BINARY.search(first_line)
    if binary is None:
        return first_line
    words, rest = first_line[: binary.start()], first_line[binary.start() :]
    data = rest.encode("latin-1") if max(rest) <= "\xff" else rest.encode("utf-8", "replace")
    shown = data[:HEX_EXCERPT_BYTES].hex(" ")
    more = f" … (hex, first {HEX_EXCERPT_BYTES} of {len(data)} bytes)"
    return words + shown + (more if len(data) > HEX_EXCERPT_BYTES else " (hex)")
