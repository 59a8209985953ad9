"""A real full filesystem for tests: a small tmpfs mounted in the test's temporary directory
and filled up, so that a write fails with ENOSPC as on a full disk (no mocked `write`).
Mounting needs root (or CAP_SYS_ADMIN); elsewhere the test is skipped with the reason."""

from __future__ import annotations

import errno
import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

FILLER = ".filler"


@contextmanager
def small_filesystem(where: Path, size: str = "256k") -> Iterator[Path]:
    """A tmpfs of `size` mounted at `where` (made if missing), unmounted after."""
    where.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0777", "tmpfs", str(where)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {mounted.stderr.strip() or 'not root'}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def fill(where: Path) -> None:
    """Fill the filesystem at `where` up to its last byte: the next write fails (ENOSPC)."""
    descriptor = os.open(where / FILLER, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    try:
        for size in (1 << 16, 1 << 12, 1 << 9, 1):
            try:
                while os.write(descriptor, b"\0" * size):
                    pass
            except OSError as error:
                if error.errno != errno.ENOSPC:
                    raise
    finally:
        os.close(descriptor)


def left_in(where: Path) -> list[str]:
    """The files at `where`, but the filler."""
    return sorted(path.name for path in where.iterdir() if path.name != FILLER)
