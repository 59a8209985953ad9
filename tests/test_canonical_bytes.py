"""The ledger's canonical JSON made from database bytes (archive.evidence.canonical_bytes)
is byte for byte row_digest's: random rows of every kind, with quotes, backslashes, control
characters, CJK and astral text, as SQLite hands them over (UTF-8 bytes) and as PostgreSQL
does (str)."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from archive.evidence.canonical_bytes import json_string, row_hasher
from archive.store.ledger import COVERED_COLUMNS, row_digest

TEXT = st.text(
    alphabet=st.one_of(
        st.characters(codec="utf-8"),
        st.sampled_from(['"', "\\", "\n", "\r", "\t", "\x00", "\x1f", "\x7f", "\u2028", "铝"]),
    ),
    max_size=40,
)
RARE = re.compile("[\x00-\x07\x0b\x0e-\x1f]")
VALUE = st.one_of(st.none(), st.integers(min_value=-(2**62), max_value=2**62), TEXT)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(sorted(COVERED_COLUMNS)), st.data())
def test_the_digest_of_a_row_is_row_digests(kind, data):
    columns, digest = row_hasher(kind)  # the same hasher for str and for UTF-8 bytes
    values = [data.draw(VALUE) for _ in columns]
    if kind == "capture":  # the oversize flag: 0, 1 or null as a database keeps it
        values[-1] = data.draw(st.sampled_from([0, 1, None, False, True]))
    row = dict(zip(columns, values, strict=True))
    expected = bytes.fromhex(row_digest(kind, row))
    as_sqlite = [v.encode("utf-8") if isinstance(v, str) else v for v in values]
    # A rare control character makes the fast digest differ (and the row is hashed again
    # by the rule, in tests/test_verify.py); any other row's is the rule's.
    rare = any(isinstance(v, str) and RARE.search(v) for v in values)
    assert (digest(values) == expected) is not rare  # PostgreSQL: str
    assert (digest(as_sqlite) == expected) is not rare  # SQLite with text_factory = bytes


@settings(max_examples=300, deadline=None)
@given(TEXT)
def test_a_string_is_escaped_as_json_does(text):
    import json

    assert json_string(text.encode("utf-8")) == json.dumps(text, ensure_ascii=False).encode()


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(["version", "capture", "article"]), st.data())
def test_one_hasher_over_many_rows_gives_each_its_own_digest(kind, data):
    """A hasher keeps a template per shape of row (the types of its values): rows of one
    shape and of several, hashed in turn, each come out as row_digest makes them."""
    columns, digest = row_hasher(kind)
    plain = st.one_of(st.none(), st.integers(min_value=0, max_value=2**40), TEXT)
    for _ in range(data.draw(st.integers(min_value=2, max_value=6))):
        values = [data.draw(plain.filter(lambda v: not (isinstance(v, str) and RARE.search(v))))
                  for _ in columns]  # fmt: skip
        if kind == "capture":
            values[-1] = data.draw(st.sampled_from([0, 1, None]))
        expected = bytes.fromhex(row_digest(kind, dict(zip(columns, values, strict=True))))
        as_sqlite = [v.encode("utf-8") if isinstance(v, str) else v for v in values]
        assert digest(as_sqlite) == expected
        assert digest(values) == expected
