"""The ledger's hash chain: canonical forms of the rows it covers and how entries chain.

Each capture, article version and closed WARC file gets an entry (and each version that
names a file's later bytes, its list of files) whose `digest` is the
SHA-256 of the row's canonical JSON, and whose `entry_hash` is
SHA-256(previous entry_hash + digest). Editing a covered row changes its digest; deleting
an entry or a row, or editing an entry, breaks the chain or leaves a row without its entry.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

GENESIS = "0" * 64

# The columns each kind of entry covers. Mutable bookkeeping (last_seen_at) is left out.
COVERED_COLUMNS: dict[str, tuple[str, ...]] = {
    "capture": (
        "id",
        "run_id",
        "url",
        "method",
        "status",
        "fetched_at",
        "media_type",
        "location",
        "etag",
        "last_modified",
        "warc_file_id",
        "record_type",
        "record_id",
        "offset",
        "length",
        "request_offset",
        "request_length",
        "payload_sha256",
        "payload_size",
        "content_sha256",
        "content_size",
        "refers_to_id",
    ),
    "version": (
        "id",
        "article_id",
        "number",
        "content_sha256",
        "capture_id",
        "title",
        "source",
        "source_raw",
        "author",
        "author_raw",
        "published",
        "published_raw",
        "info_raw",
        "body",
        "body_html",
        "meta_json",
        "encoding",
        "template",
        "problems_json",
        "first_seen_at",
    ),
    "warc_file": ("id", "name", "size", "sha256"),
    # The files of a version that names bytes other than the files' own (an attachment
    # replaced at its URL): which capture's bytes it names is the whole of such a version's
    # difference from the one before it. Keyed by the version's id.
    "version_files": ("version_id", "files"),
}


def version_files_row(
    version_id: int, files: Iterable[tuple[int, str, int, int | None]]
) -> dict[str, Any]:
    """The canonical row of a version's files: (file_id, role, position, capture_id) each."""
    return {"version_id": version_id, "files": sorted([list(file) for file in files])}


def _plain(value: Any) -> Any:
    # Times as the archive stores them (UTC, microseconds), so that a digest computed when a
    # row is written equals the one computed from the row read back.
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="microseconds")
    return value


def row_digest(kind: str, row: Mapping[str, Any]) -> str:
    """SHA-256 of the covered columns of a row, as canonical JSON."""
    canonical = {column: _plain(row[column]) for column in COVERED_COLUMNS[kind]}
    encoded = json.dumps(canonical, ensure_ascii=False, sort_keys=True).encode("utf-8")
    return hashlib.sha256(encoded).hexdigest()


def chain(previous_hash: str, digest: str) -> str:
    return hashlib.sha256((previous_hash + digest).encode("ascii")).hexdigest()
