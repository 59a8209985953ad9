"""One response record's HTTP payload, read quickly for bulk readers (`reextract`).

`warcstore.read_record` parses a record with warcio and checks its block and payload
digests; for reading thousands of pages that parsing costs more than the rest of the work.
Here the record's gzip member is inflated and split at its header blocks, and the payload is
checked against the SHA-256 its capture row holds (which the ledger covers): the same
assurance for the bytes used. Anything unexpected falls back to `read_record`, whose error
says what is wrong.
"""

from __future__ import annotations

import zlib
from pathlib import Path

from archive.errors import SnapshotCorrupt
from archive.store.warc_records import read_record, sha256_hex

_GZIP = zlib.MAX_WBITS | 16
_END = b"\r\n\r\n"


def _split(data: bytes) -> tuple[list[tuple[str, str]], bytes] | None:
    """(HTTP headers, payload) of an inflated response record; None if it is not one."""
    warc_end = data.find(_END)
    if warc_end < 0 or not data.startswith(b"WARC/"):
        return None
    warc_headers = data[:warc_end].split(b"\r\n")
    fields = {}
    for line in warc_headers[1:]:
        name, _, value = line.partition(b":")
        fields[name.strip().lower()] = value.strip()
    if fields.get(b"warc-type") != b"response":
        return None
    try:
        block_length = int(fields[b"content-length"])
    except (KeyError, ValueError):
        return None
    # Offsets into the record, not slices of it: a 50 MB page is copied once, not twice.
    block_start, block_end = warc_end + 4, warc_end + 4 + block_length
    if block_end > len(data):
        return None
    http_end = data.find(_END, block_start, block_end)
    if http_end < 0:
        return None
    headers = []
    for line in data[block_start:http_end].split(b"\r\n")[1:]:
        name, sep, value = line.partition(b":")
        if sep:
            headers.append((name.strip().decode("latin-1"), value.strip().decode("latin-1")))
    return headers, data[http_end + 4 : block_end]


def read_payload(
    path: Path, offset: int, length: int, payload_sha256: str
) -> tuple[list[tuple[str, str]], bytes]:
    """The HTTP headers and payload (as on the wire) of the response record at `offset`,
    checked against `payload_sha256`; SnapshotCorrupt when it cannot be read or differs."""
    try:
        with open(path, "rb") as handle:
            handle.seek(offset)
            data = handle.read(length)
        parts = _split(zlib.decompress(data, _GZIP)) if len(data) == length else None
        del data
    except (OSError, zlib.error):
        parts = None
    if parts is not None and sha256_hex(parts[1]) == payload_sha256:
        return parts
    stored = read_record(path, offset, length)  # raises with the reason, in most cases
    if sha256_hex(stored.payload) != payload_sha256:
        raise SnapshotCorrupt(f"payload in {path} at offset {offset} does not match its SHA-256")
    return stored.headers, stored.payload
