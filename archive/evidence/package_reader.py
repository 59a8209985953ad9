"""Reading a WACZ package back, with every member name checked first (zip-slip).

A package is a ZIP file, and a ZIP member's name is whatever its writer put there: an
absolute path, `../../.bashrc`, a Windows drive or a symbolic link would write outside the
folder a tool unpacks it into. A package whose members are not all plain relative paths is
refused whole, with one line naming the member, before any member is read.
"""

from __future__ import annotations

import json
import re
import stat
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from typing import Any

from archive.errors import ArchiveError

PAGES_MEMBER = "pages/pages.jsonl"
_DRIVE = re.compile(r"^[A-Za-z]:")


class UnsafePackage(ArchiveError):
    """A package member's name would resolve outside the folder it is read or unpacked into."""


def unsafe_member_reason(name: str, target: Path) -> str | None:
    """Why a member called `name` must not be unpacked into `target`, or None if it may."""
    if "\x00" in name:
        return "holds a NUL character"
    if name.startswith(("/", "\\")) or _DRIVE.match(name):
        return "is an absolute path"
    parts = re.split(r"[\\/]", name)
    if ".." in parts:
        return "climbs out with '..'"
    root = target.resolve()
    resolved = (root / PurePosixPath(name.replace("\\", "/"))).resolve()
    if not resolved.is_relative_to(root):
        return "resolves outside the package's folder"
    return None


def check_members(package: zipfile.ZipFile, path: Path, target: Path | None = None) -> None:
    """Raise UnsafePackage for the first member that would land outside `target` (by
    default a folder beside the package), or that is a symbolic link."""
    target = target if target is not None else path.with_suffix("")
    for info in package.infolist():
        reason = unsafe_member_reason(info.filename, target)
        if reason is None and stat.S_ISLNK(info.external_attr >> 16):
            reason = "is a symbolic link"
        if reason is not None:
            raise UnsafePackage(f"{path}: refused: member {info.filename!r} {reason}")


@contextmanager
def open_package(path: Path) -> Iterator[zipfile.ZipFile]:
    """The package as a ZipFile whose member names are all safe (UnsafePackage otherwise)."""
    try:
        package = zipfile.ZipFile(path)
    except zipfile.BadZipFile as error:
        raise UnsafePackage(f"{path}: not a WACZ (ZIP) file: {error}") from error
    with package:
        check_members(package, Path(path))
        yield package


def package_pages(path: Path) -> list[dict[str, Any]]:
    """The page entries of a package's pages/pages.jsonl (its header line left out)."""
    with open_package(path) as package:
        try:
            text = package.read(PAGES_MEMBER).decode("utf-8")
        except KeyError:
            return []
    return [json.loads(line) for line in text.splitlines()[1:] if line.strip()]
