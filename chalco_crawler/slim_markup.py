"""A page's enormous parts set aside before it is parsed, so that a 50 MB page costs a reader
no more than an ordinary one: the content of a huge inline `<script>` or `<style>`, and the
bulk of a huge `data:` URI (an image a rich-text editor pasted into the body).

Nothing the crawler reads is in a script or a style, so their content is simply left out.
A `data:` URI is never fetched nor listed as a file; only the body's HTML shows it, and there
a huge one keeps its first KEPT_HEAD characters (scheme, media type, the start of the data)
followed by `...`: the image's bytes stay in the page's capture (`snapshot`). Held whole, a
50 MB image inside the body's HTML would cost that text's size several times over (Python
text, its UTF-8 form, the ledger's canonical form), past the crawl's memory bound.

The scan looks only at ASCII bytes that no multi-byte character of UTF-8, GBK or GB18030
contains (`<`, `>`, `=`, quotes), so it works on the page's bytes before they are decoded;
a page in UTF-16 is left whole.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MIN_PART = 1024 * 1024
"""A script, style or data: URI shorter than this is left alone: it costs a parser nothing."""
KEPT_HEAD = 64
"""Characters of a huge data: URI kept, before CUT."""
CUT = b"..."

# A comment (skipped whole: a `<script` inside it is text), or a script or style start tag.
_OPENING = re.compile(rb"<!--|<(script|style)\b[^>]*>", re.IGNORECASE)
_COMMENT_END = b"-->"
_CLOSING = {
    b"script": re.compile(rb"</script[\s/>]", re.IGNORECASE),
    b"style": re.compile(rb"</style[\s/>]", re.IGNORECASE),
}
# A quoted attribute value that starts as a data: URI.
_DATA_VALUE = re.compile(rb"""=[ \t\r\n]*(["'])[ \t\r\n]*data:""", re.IGNORECASE)
# What a data: URI's head may hold to be cut after KEPT_HEAD bytes without splitting a
# character or an entity: base64 and percent-encoded data do.
_ASCII_HEAD = re.compile(rb"[A-Za-z0-9+/=%;:,._~!$()*@?\[\]-]*")
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


@dataclass(frozen=True)
class SlimMarkup:
    """The page with its huge parts set aside, and how much was."""

    markup: bytes
    hollowed: int = 0
    """Bytes of script and style content left out."""
    cut: int = 0
    """Bytes of data: URIs left out."""


def slim(page: bytes, min_part: int = MIN_PART) -> SlimMarkup:
    """The page with every script or style content of at least `min_part` bytes left out
    and every data: URI of that size cut to its head; the page itself (no copy) when it has
    no such part."""
    if len(page) < min_part or page.startswith(_UTF16_BOMS):
        return SlimMarkup(page)
    view = memoryview(page)
    pieces: list[bytes | memoryview] = []
    hollowed = cut = 0
    kept_to = 0  # page[kept_to:] is yet to be copied
    pos = 0
    opening: re.Match[bytes] | None = None
    value: re.Match[bytes] | None = None
    while True:
        # Each pattern searched again only once the scan has passed its last match.
        if opening is None or opening.start() < pos:
            opening = _OPENING.search(page, pos)
        if value is None or value.start() < pos:
            value = _DATA_VALUE.search(page, pos)
        if opening is None and value is None:
            break
        if value is not None and (opening is None or value.start() < opening.start()):
            pos, span = _bulk_of(page, value, min_part)
            if span is not None:
                pieces += [view[kept_to : span[0]], CUT]
                cut += span[1] - span[0]
                kept_to = span[1]
            continue
        assert opening is not None
        if opening.group(0) == b"<!--":
            end = page.find(_COMMENT_END, opening.end())
            if end < 0:
                break
            pos = end + len(_COMMENT_END)
            continue
        closing = _CLOSING[opening.group(1).lower()].search(page, opening.end())
        if closing is None:
            break
        if closing.start() - opening.end() >= min_part:
            pieces.append(view[kept_to : opening.end()])
            hollowed += closing.start() - opening.end()
            kept_to = closing.start()
        pos = closing.start()
    if not pieces:
        return SlimMarkup(page)
    pieces.append(view[kept_to:])
    return SlimMarkup(b"".join(pieces), hollowed, cut)


def _bulk_of(
    page: bytes, value: re.Match[bytes], min_part: int
) -> tuple[int, tuple[int, int] | None]:
    """Where the scan goes on after the data: URI `value` opens, and the span to leave out
    of it when it is huge."""
    end = page.find(value.group(1), value.end())  # the closing quote
    if end < 0:
        return len(page), None
    start = value.end() - len(b"data:")
    if end - start < min_part:
        return end + 1, None
    head = _ASCII_HEAD.match(page, start, start + KEPT_HEAD)
    if head is None or head.end() != start + KEPT_HEAD:
        return end + 1, None  # not plain ASCII at its head: left whole
    return end + 1, (start + KEPT_HEAD, end)
