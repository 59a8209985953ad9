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
import operator
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
    # Where each selected column is in the rows handed over.
    at = list(range(len(selected))) if layout is None else [list(layout).index(c) for c in selected]
    by_name = sorted(range(len(covered)), key=lambda i: covered[i])
    flags_by_name = sorted(range(len(flags)), key=lambda i: flags[i])
    # The covered values in the JSON's order (the keys sorted), then the flags, taken from a
    # row in one C call.
    take = _getter([at[i] for i in by_name] + [at[len(covered) + i] for i in flags_by_name])
    names = [covered[i] for i in by_name]
    flag_names = [flags[i] for i in flags_by_name]
    templates: dict[tuple[Any, ...], tuple[bytes, Callable[[Sequence[Any]], Any]] | None] = {}

    def template(shape: tuple[Any, ...]) -> tuple[bytes, Callable[[Sequence[Any]], Any]] | None:
        """The row's JSON for rows whose values are of these types, with a %s or %d for
        each value that is not null, and what picks those values; None for a type the
        template does not know (the row is assembled value by value)."""
        pieces: list[tuple[str, bytes]] = []
        filled: list[int] = []
        for n, name in enumerate(names):
            kind_of = shape[n]
            if kind_of is bytes:
                pieces.append((name, QUOTE + b"%s" + QUOTE))
            elif kind_of is int:
                pieces.append((name, b"%d"))
            elif kind_of is type(None):
                pieces.append((name, b"null"))
                continue
            else:
                return None
            filled.append(n)
        for n, name in enumerate(flag_names):
            if shape[len(names) + n]:  # a flag is covered only where set
                pieces.append((name, b"true"))
        pieces.sort()
        text = b", ".join(QUOTE + name.encode("ascii") + QUOTE + b": " + v for name, v in pieces)
        return b"{" + text + b"}", _getter(filled)  # (no column's name holds a %)

    sha256 = hashlib.sha256
    escape = _escape_common
    covered_count = len(names)
    flagged = bool(flags)

    def digest(row: Sequence[Any]) -> bytes:
        values = take(row)
        # The types of the values, and whether each flag is set: a template for each.
        if flagged:
            shape = (*map(type, values[:covered_count]), *map(bool, values[covered_count:]))
        else:
            shape = tuple(map(type, values))
        try:
            found = templates[shape]
        except KeyError:
            found = templates[shape] = template(shape)
        if found is None:
            return _assembled(names, flag_names, values)
        text, pick = found
        return sha256(escape(text % pick(values)).replace(QUOTE, b'"')).digest()

    return selected, digest


def _getter(positions: list[int]) -> Callable[[Sequence[Any]], tuple[Any, ...]]:
    """A function of a row giving the values at `positions` as a tuple (itemgetter's, which
    gives a lone value, not a tuple, for one position)."""
    if len(positions) == 1:
        position = positions[0]
        return lambda row: (row[position],)
    if not positions:
        return lambda row: ()
    return operator.itemgetter(*positions)  # type: ignore[return-value]


def _assembled(names: list[str], flag_names: list[str], values: tuple[Any, ...]) -> bytes:
    """The digest of a row holding a value of a rarer type (str, a buffer, a number that is
    not an int), assembled value by value."""
    pieces = [
        (name, _raw(value) if type(value) is not bytes else QUOTE + value + QUOTE)
        for name, value in zip(names, values, strict=False)
    ]
    pieces += [
        (name, b"true") for name, on in zip(flag_names, values[len(names) :], strict=True) if on
    ]
    pieces.sort()
    text = b", ".join(QUOTE + name.encode("ascii") + QUOTE + b": " + v for name, v in pieces)
    return hashlib.sha256(_escape_common(b"{" + text + b"}").replace(QUOTE, b'"')).digest()
