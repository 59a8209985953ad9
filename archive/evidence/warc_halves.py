"""verify's fast pass over one large closed WARC file in two halves at once: a forked child
reads the records from a gzip member near the middle to the end, this process the records
before it and then the file's SHA-256 on to the end (one hasher, in order).

The middle is found in the file itself: the first gzip header after half its size (the
writer starts every member with the same ten bytes). Whatever goes wrong with a half (a
false header inside compressed bytes, a member that does not end where the other half
begins, damage, a child that dies) gives way to the one sequential pass over the whole
file, which gives the verdict it always gave: the halves can make the pass faster, never
make it find otherwise.
"""

from __future__ import annotations

import hashlib
import mmap
import zlib
from collections.abc import Callable
from pathlib import Path

from archive.evidence.forked import CAN_FORK, Forked
from archive.evidence.warc_check import (
    FileScan,
    Irregular,
    StoredRecord,
    scan_members,
    scan_warc,
)

HALVES_FROM = 4 << 20
"""A file smaller than this is read in one pass: a child would cost more than it saves."""
GZIP_MEMBER = b"\x1f\x8b\x08"
"""How a gzip member begins (RFC 1952: the magic bytes and the deflate method)."""
HASH_SIZE = 1 << 20


def middle_member(path: Path, size: int) -> int | None:
    """The offset of the first gzip header after the middle of the file, if any."""
    with open(path, "rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as m:
        found = m.find(GZIP_MEMBER, size // 2)
    return found if found > 0 else None


def _second_half(path: Path, start: int) -> tuple[dict[int, StoredRecord], int, int] | None:
    """The records from `start` to the end, where the last whole one ends and where the
    bytes read end; None when the pass does not vouch for them."""
    try:
        with open(path, "rb") as handle:
            records, valid, end, cut_off = scan_members(handle, start, None)
    except (Irregular, zlib.error, OSError):
        return None
    return None if cut_off else (records, valid, end)


def scan_in_halves(path: Path, on_read: Callable[[int], None] | None = None) -> FileScan | None:
    """scan_warc's FileScan of a closed file, its halves read at once where that pays."""
    size = path.stat().st_size
    split = middle_member(path, size) if CAN_FORK and size >= HALVES_FROM else None
    if split is None:
        return scan_warc(path, False, on_read)
    child = Forked(lambda tell: _second_half(path, split))
    whole_file = hashlib.sha256()
    first: dict[int, StoredRecord] | None = None
    try:
        with open(path, "rb") as handle:
            first, valid, end, cut_off = scan_members(handle, 0, split, on_read, whole_file)
            if cut_off or valid != split or end != split:
                first = None  # the first half does not end where the second begins
            while chunk := handle.read(HASH_SIZE):  # the rest of the file's digest
                whole_file.update(chunk)
    except (Irregular, zlib.error, OSError):
        first = None
    second = child.result()
    if first is None or second is None:
        return scan_warc(path, False, on_read)  # once more, in one pass, as always
    records, valid, end = second
    first.update(records)
    if on_read is not None:
        on_read(size - split)
    return FileScan(first, valid, end, whole_file.hexdigest())
