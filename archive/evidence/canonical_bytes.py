"""The ledger's canonical JSON of a row, built from the row's values as the database hands
them over: UTF-8 bytes on SQLite (text left undecoded), str on PostgreSQL.

`row_digest` (archive.store.ledger) is the rule: json.dumps(..., ensure_ascii=False,
sort_keys=True) of the covered columns, UTF-8. Decoding every body into a str and encoding
it again as JSON cost most of verify's ledger pass; the same bytes come out of escaping the
UTF-8 text directly (tests/test_canonical_bytes.py holds the two to each other).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Sequence
from typing import Any

from archive.store.ledger import COVERED_COLUMNS, FLAG_COLUMNS

# What json escapes in a string when ensure_ascii is off: the quote, the backslash and the
# control characters (the common ones by their short names, the rest as \u00XX).
_OTHER_CONTROLS = re.compile(rb"[\x00-\x07\x0b\x0e-\x1f]")


def _other_control(match: re.Match[bytes]) -> bytes:
    return b"\\u%04x" % match.group()[0]


def json_string(text: bytes) -> bytes:
    """A UTF-8 string as JSON (quotes included), byte for byte what json.dumps makes."""
    escaped = _escape_common(text)
    if _OTHER_CONTROLS.search(escaped) is not None:
        escaped = _OTHER_CONTROLS.sub(_other_control, escaped)
    return b'"' + escaped + b'"'


def _escape_common(text: bytes) -> bytes:
    return (
        text.replace(b"\\", b"\\\\")
        .replace(b'"', b'\\"')
        .replace(b"\n", b"\\n")
        .replace(b"\r", b"\\r")
        .replace(b"\t", b"\\t")
        .replace(b"\x08", b"\\b")
        .replace(b"\x0c", b"\\f")
    )


# Stands for the JSON quote while a row is assembled: 0xFE is never a byte of UTF-8, so the
# whole row, values and structure, is escaped in one pass and the quotes put in after.
QUOTE = b"\xfe"


def _raw(value: Any) -> bytes:
    """A value not of the common kinds (bytes, None, int) as assembled, unescaped."""
    if type(value) is str:
        return QUOTE + value.encode("utf-8") + QUOTE
    if isinstance(value, memoryview):
        return QUOTE + bytes(value) + QUOTE
    if value is True or value is False:
        return b"true" if value else b"false"
    return json.dumps(value).encode("ascii")  # a number: nothing in it to escape


def row_hasher(
    kind: str, layout: Sequence[str] | None = None
) -> tuple[list[str], Callable[[Sequence[Any]], bytes]]:
    """(the columns to select, in order; SHA-256 of a row so selected). The row holds the
    covered columns, then the flag columns (covered only where set); its text as UTF-8
    bytes (SQLite's) or str, both read alike. A digest that equals the entry's is the
    rule's; one that differs must be computed again by row_digest: the rare control
    characters are not looked for (a scan that cost more than the row's SHA-256), so a
    string holding one comes out otherwise than json.dumps makes it. `layout`: the columns
    of the rows it will be handed, when they are not the ones it names (several kinds
    hashed from one read of a table)."""
    covered = list(COVERED_COLUMNS[kind])
    flags = list(FLAG_COLUMNS.get(kind, ()))
    selected = covered + flags
    plain = list(range(len(covered)))  # each template sorts them by name, with its flags
    flag_at = [len(covered) + n for n in range(len(flags))]
    templates: dict[tuple[bool, ...], tuple[bytes, list[int]]] = {}
    # Where each selected column is in the rows handed over.
    at = list(range(len(selected))) if layout is None else [list(layout).index(c) for c in selected]

    def template(present: tuple[bool, ...]) -> tuple[bytes, list[int]]:
        """The row's JSON with a %s for each value, and which columns fill them."""
        columns = plain + [i for i, on in zip(flag_at, present, strict=True) if on]
        columns.sort(key=lambda i: selected[i])
        pieces = []
        for i in columns:
            value = b"true" if i in flag_at else b"%s"
            pieces.append(QUOTE + selected[i].encode("ascii") + QUOTE + b": " + value)
        return b"{" + b", ".join(pieces) + b"}", [at[i] for i in columns if i not in flag_at]

    sha256 = hashlib.sha256
    escape = _escape_common
    raw = _raw
    no_flags, no_flag_columns = template(()) if not flags else (b"", [])
    flag_in_row = [at[i] for i in flag_at]

    def digest(row: Sequence[Any]) -> bytes:
        if flags:
            present = tuple(bool(row[i]) for i in flag_in_row)
            shape = templates.get(present)
            if shape is None:
                shape = templates[present] = template(present)
            text, columns = shape
        else:
            text, columns = no_flags, no_flag_columns
        values = tuple(
            [
                QUOTE + value + QUOTE
                if type(value) is bytes
                else b"null"
                if value is None
                else b"%d" % value
                if type(value) is int
                else raw(value)
                for value in [row[i] for i in columns]
            ]
        )
        return sha256(escape(text % values).replace(QUOTE, b'"')).digest()

    return selected, digest
