"""How a page's text reads: whitespace and line breaks as a browser lays them out, block by
block, without spaces put inside Chinese sentences."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from lxml import etree

BLOCK_TAGS = frozenset(
    "address article aside blockquote body caption center dd details dialog dir div dl dt "
    "fieldset figcaption figure footer form h1 h2 h3 h4 h5 h6 header hgroup hr html legend li "
    "main menu nav ol p pre section summary table tbody td tfoot th thead title tr ul".split()
)

# Elements whose text a reader never sees as article text.
SKIP_TAGS = frozenset(
    (
        "script style noscript template iframe object embed svg select option textarea button head"
    ).split()
)

# CSS Text 3: a segment break between two East Asian wide characters is removed, not made a
# space, so a line wrapped in the HTML source does not put a space inside a Chinese sentence.
# Curly quotes, dashes and … are ambiguous-width but full-width in Chinese text, so they count.
_WIDE = (
    "\u00b7\u2014-\u201f\u2026\u2e80-\u2fff\u3001-\u303f\u3040-\u33ff\u3400-\u4dbf"
    "\u4e00-\u9fff\uf900-\ufaff\ufe30-\ufe4f\uff01-\uff60\uffe0-\uffe6\U00020000-\U0003fffd"
)

# Possessive: a long whitespace run that does not end in a wide character fails in linear time.
_WIDE_BREAK = re.compile(f"(?<=[{_WIDE}])[ \\t\\r]*+\\n[ \\t\\r\\n]*+(?=[{_WIDE}])")
_WIDE_CHAR = re.compile(f"[{_WIDE}]")
_WS = re.compile(r"\s+")
_ZERO_WIDTH = re.compile("[\u200b-\u200d\ufeff]")

# Paragraph break marker: NUL cannot survive in the decoded text (page.decode removes it).
_BREAK = "\x00"


def clean_line(text: str) -> str:
    """One line of text as a reader sees it: breaks inside Chinese dropped, whitespace collapsed."""
    text = _ZERO_WIDTH.sub("", text)
    if "\n" in text:
        text = _WIDE_BREAK.sub("", text)
    return _WS.sub(" ", text).strip()


def join_inline(pieces: Iterable[str]) -> str:
    """Join lines into one without inserting a space between two Chinese characters."""
    result = ""
    for piece in pieces:
        if not piece:
            continue
        if result and not (_WIDE_CHAR.match(result[-1]) and _WIDE_CHAR.match(piece[0])):
            result += " "
        result += piece
    return result


def text_lines(
    element: etree._Element, skip: frozenset[etree._Element] | set[etree._Element] = frozenset()
) -> list[str]:
    """The element's text as a browser lays it out: one string per block, inline text joined."""
    parts: list[str] = []
    walker = etree.iterwalk(element, events=("start", "end"))
    for event, node in walker:
        tag = node.tag
        if not isinstance(tag, str):
            if event == "end" and node is not element and node.tail:
                parts.append(node.tail)
            continue
        tag = tag.lower()
        if event == "start":
            if node is not element and (tag in SKIP_TAGS or node in skip):
                walker.skip_subtree()
                continue
            if tag in BLOCK_TAGS or tag == "br":
                parts.append(_BREAK)
            if node.text:
                parts.append(node.text)
        else:
            if tag in BLOCK_TAGS:
                parts.append(_BREAK)
            if node is not element and node.tail:
                parts.append(node.tail)
    return [line for line in map(clean_line, _between_breaks(parts)) if line]


def _between_breaks(parts: list[str]) -> Iterator[str]:
    """The texts between the _BREAK parts, each joined from its parts: a line of one part
    (a 50 MB paragraph) is that part itself, not a copy. The list is emptied as it goes."""
    line: list[str] = []
    for part in parts:
        if part == _BREAK:
            yield "".join(line)
            line = []
        else:
            line.append(part)
    parts.clear()
    yield "".join(line)


def inline_text(element: etree._Element) -> str:
    return join_inline(text_lines(element))
