"""The files a verb writes for its user (export, report, package, snapshot -o): written under a
temporary name beside the target and renamed onto it once complete, so that no cut-off file
ever carries the final name.

On any failure (a full disk, a file too large, Ctrl-C) the temporary file is removed and a
file already at the target is left as it was. An OSError of the writing names the target,
so the one line the user reads says which file could not be written, never `: None`.
"""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

TEMPORARY_SUFFIX = ".partial"


def _naming_target(error: OSError, target: Path, temporary: str | None) -> OSError:
    """The error with the target as its file name when it named none (a failed write() or
    close()) or named the temporary file (the user never asked for that one); its reason the
    system's own words for its errno (pyarrow words its errors otherwise)."""
    if error.filename is None or error.filename == temporary:
        reason = os.strerror(error.errno) if error.errno else error.strerror
        return OSError(error.errno, reason, str(target))
    return error


def _mode_for(target: Path) -> int:
    """The permissions `open(target, "w")` would have left: the old file's, or 0666 less the
    umask for a new one (mkstemp makes 0600)."""
    try:
        return stat.S_IMODE(target.stat().st_mode)
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


@contextmanager
def whole_file(target: str | os.PathLike[str]) -> Iterator[Path]:
    """A temporary path in the target's directory for the caller to write (create it or
    open it); renamed onto `target` after an fsync when the block ends without error.

    A target that exists and is no regular file (/dev/stdout, a named pipe) is given as it
    is: it cannot be replaced, and nothing cut off can be left under its name anyway."""
    path = Path(target)
    if path.is_symlink():
        path = path.resolve()  # write where the link points, as open() would
    if path.exists() and not path.is_file():
        yield path
        return
    try:
        handle, temporary = tempfile.mkstemp(
            prefix=f".{path.name}.", suffix=TEMPORARY_SUFFIX, dir=path.parent
        )
    except OSError as error:
        raise _naming_target(error, path, error.filename) from error
    os.close(handle)
    try:
        yield Path(temporary)
        with open(temporary, "rb") as written:
            os.fsync(written.fileno())  # the bytes on disk before the name points at them
        os.chmod(temporary, _mode_for(path))
        os.replace(temporary, path)
    except OSError as error:
        Path(temporary).unlink(missing_ok=True)
        raise _naming_target(error, path, temporary) from error
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


@contextmanager
def open_whole(
    target: str | os.PathLike[str], mode: str = "w", **options: Any
) -> Iterator[IO[Any]]:
    """`open(target, mode, **options)`, written whole or not at all (see whole_file)."""
    with whole_file(target) as temporary, open(temporary, mode, **options) as handle:
        yield handle
