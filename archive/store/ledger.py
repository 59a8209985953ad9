"""The ledger's hash chain: canonical forms of the rows it covers and how entries chain.

Each capture, article version, closed WARC file (and its seal), archived attachment or image and
acknowledged loss of a capture (`repair`) gets an entry, and so do the files each version
names (with their link texts), each version's cause and extractor, and each article's URL
and status, again whenever the status changes (live, gone). An entry's `digest` is the
SHA-256 of the row's canonical JSON, and its `entry_hash` is SHA-256(previous entry_hash +
digest). Editing a covered row changes its digest; deleting an entry or a row, or editing an
entry, breaks the chain or leaves a row without its entry.
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
    # A closed WARC file's seal (migration 0020, archive.evidence.warc_seal): its own kind,
    # keyed by the file's id, so that the `warc_file` entries written before stay valid.
    "warc_seal": ("id", "record_count", "index_sha256"),
    # Before migration 0012: the files of a version that names bytes other than the files'
    # own (an attachment replaced at its URL). Still checked where written; no longer written.
    "version_files": ("version_id", "files"),
    # The files a version names: which, in what role and order, under what link text, and
    # which capture's bytes (null: the file's own). Keyed by the version's id.
    "named_files": ("version_id", "files"),
    # An attachment or image once its bytes are archived: which capture holds them, and the
    # digest, size and type copied from it (so that they cannot be taken back either).
    "file": ("id", "url", "kind", "capture_id", "sha256", "size", "media_type"),
    # An article's identity and status; a new entry at each change of status, the latest
    # one standing for the row.
    "article": ("id", "url", "site", "docid", "status", "gone_at"),
    # A capture whose record was lost, and the capture that replaced it (`repair`,
    # migration 0017).
    "capture_loss": (
        "id",
        "capture_id",
        "record_id",
        "found",
        "replacement_id",
        "run_id",
        "recorded_at",
    ),
    # Why a version exists and which extraction read it (migration 0014). Its own kind, keyed
    # by the version's id: the `version` entries written before these columns stay valid.
    "version_cause": ("id", "cause", "extractor_version"),
    # A head of the ledger's Merkle tree (migration 0018): an entry when it is recorded and
    # another when its timestamp token arrives, so that a token taken away is found too.
    "tree_head": ("id", "tree_size", "root_hash", "recorded_at", "token_sha256", "timestamped_at"),
}
# Columns covered only where set: a flag added after entries were written (migration 0013's
# `oversize`) leaves the digest of every row without it as it was, and setting or clearing it
# on a row changes the row's digest all the same.
FLAG_COLUMNS: dict[str, tuple[str, ...]] = {"capture": ("oversize",)}
# Kinds whose row changes over time: an entry per state, the latest must match the row.
HISTORY_KINDS = frozenset({"article", "tree_head"})


def version_files_row(
    version_id: int, files: Iterable[tuple[int, str, int, int | None]]
) -> dict[str, Any]:
    """The canonical row of a version's files: (file_id, role, position, capture_id) each."""
    return {"version_id": version_id, "files": sorted([list(file) for file in files])}


def named_files_row(
    version_id: int, files: Iterable[tuple[int, str, str | None, int, int | None]]
) -> dict[str, Any]:
    """The canonical row of the files a version names: (file_id, role, name, position,
    capture_id) each."""
    return {"version_id": version_id, "files": sorted([list(file) for file in files])}


# What json.dumps(..., ensure_ascii=False, sort_keys=True) does, without building an
# encoder for each of the archive's rows.
CANONICAL_JSON = json.JSONEncoder(ensure_ascii=False, sort_keys=True)


def canonical_value(value: Any) -> Any:
    # Times as the archive stores them (UTC, microseconds), so that a digest computed when a
    # row is written equals the one computed from the row read back.
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="microseconds")
    return value


def row_digest(kind: str, row: Mapping[str, Any]) -> str:
    """SHA-256 of the covered columns of a row, as canonical JSON."""
    canonical = {column: canonical_value(row[column]) for column in COVERED_COLUMNS[kind]}
    for column in FLAG_COLUMNS.get(kind, ()):
        if row.get(column):
            canonical[column] = True
    return canonical_digest(canonical)


# A row holding more text than this is hashed a piece of its JSON at a time.
LARGE_TEXT = 1024 * 1024


TEXT_SLICE = 1024 * 1024
"""Characters of a huge text encoded and hashed at a time."""


def canonical_digest(value: Mapping[str, Any]) -> str:
    """SHA-256 of `value` as canonical JSON. A row with a huge text (a page with a 50 MB
    paragraph) is encoded and hashed a slice of that text at a time, never as one JSON text
    nor one UTF-8 copy of the text; the digest is the same (JSON escapes a character at a
    time, so the slices' escapes joined are the whole text's)."""
    digest = hashlib.sha256()
    if not any(isinstance(item, str) and len(item) > LARGE_TEXT for item in value.values()):
        digest.update(CANONICAL_JSON.encode(value).encode("utf-8"))
        return digest.hexdigest()
    separator = b"{"
    for key in sorted(value):
        digest.update(separator + CANONICAL_JSON.encode(key).encode("utf-8") + b": ")
        separator = b", "
        item = value[key]
        if isinstance(item, str) and len(item) > LARGE_TEXT:
            digest.update(b'"')
            for start in range(0, len(item), TEXT_SLICE):
                quoted = CANONICAL_JSON.encode(item[start : start + TEXT_SLICE])
                digest.update(quoted[1:-1].encode("utf-8"))
            digest.update(b'"')
        else:
            digest.update(CANONICAL_JSON.encode(item).encode("utf-8"))
    digest.update(b"}")
    return digest.hexdigest()


def chain(previous_hash: str, digest: str) -> str:
    return hashlib.sha256((previous_hash + digest).encode("ascii")).hexdigest()
