"""What a search returns: one hit per matching article (or version), its snippet with the
query's words marked, and the hit as a record with the export's field names."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

SNIPPET_OPEN = "["
SNIPPET_CLOSE = "]"
"""Marks around each occurrence of a query word in `SearchHit.snippet`."""
SNIPPET_BEFORE = 20
"""Characters of context shown before the first occurrence."""
SNIPPET_LENGTH = 80
"""Characters of body text in a snippet, marks and ellipses not counted."""
ELLIPSIS = "…"


@dataclass
class SearchHit:
    """One article (or one version, with `all_versions`) matching a query."""

    url: str
    site: str
    title: str | None
    source: str | None
    published: str | None
    """ISO 8601 as stored: a date, or a datetime at +08:00."""
    sections: list[str]
    """Section paths the article was listed in, e.g. `xwdt/gsyw`, sorted."""
    version: int
    """The version number the match is in (the latest unless `all_versions`)."""
    snippet: str = field(repr=False)
    """About SNIPPET_LENGTH characters of the body on one line, around the first occurrence
    of a query word, every occurrence wrapped in SNIPPET_OPEN … SNIPPET_CLOSE; `…` where cut.
    The start of the body when only the title matches."""
    score: float
    """Higher is better: -BM25 when the hits are ranked by it, else the number of
    occurrences of the words. Title matches come first whatever their score."""


def hit_record(hit: SearchHit) -> dict[str, Any]:
    """A hit as a JSON-ready dict with the export record's field names."""
    return {
        "url": hit.url,
        "site": hit.site,
        "sections": list(hit.sections),
        "title": hit.title,
        "source": hit.source,
        "published": hit.published,
        "version": hit.version,
        "snippet": hit.snippet,
        "score": hit.score,
    }


def snippet(body: str | None, words: Sequence[str], offset: int = 0) -> str:
    """About SNIPPET_LENGTH characters of `body` on one line around the first occurrence of
    any word, each occurrence of a word in it wrapped in SNIPPET_OPEN … SNIPPET_CLOSE.

    `body` may be a part of the whole body starting at character `offset`."""
    if not body:
        return ""
    positions = [p for p in (body.find(w) for w in words) if p >= 0]
    first = min(positions) if positions else 0
    start = max(0, first - SNIPPET_BEFORE) if positions else 0
    end = min(len(body), start + SNIPPET_LENGTH)
    if positions and end - start < SNIPPET_LENGTH:
        start = max(0, end - SNIPPET_LENGTH)
    window = body[start:end]
    # Mark occurrences left to right, the longest word first where several start together.
    ordered = sorted((w for w in words if w in window), key=len, reverse=True)
    pieces: list[str] = []
    i = 0
    plain_from = 0
    while i < len(window):
        word = next((w for w in ordered if window.startswith(w, i)), None)
        if word is None:
            i += 1
            continue
        pieces.append(window[plain_from:i])
        pieces.append(f"{SNIPPET_OPEN}{word}{SNIPPET_CLOSE}")
        i += len(word)
        plain_from = i
    pieces.append(window[plain_from:])
    text = " ".join("".join(pieces).split())  # one line: newlines and runs of spaces
    cut_before = offset + start > 0
    return (ELLIPSIS if cut_before else "") + text + (ELLIPSIS if end < len(body) else "")
