"""Which charset a page is read in: the declared one (HTTP header, then `<meta>`), unless the
bytes say it lies.

Browsers trust the declaration and show mojibake when it is wrong; an archive would keep the
mojibake as the article's text forever. So a declaration is checked against the bytes: when
the declared charset does not decode them strictly and UTF-8 or GB18030 does, the page is
read in the one that decodes, and the mismatch is recorded as a page problem. UTF-8 is
checked first, and wins over a legacy declaration (gb2312, gbk, latin-1…) even when that
decodes too: such codecs read almost any bytes, while Chinese text in GBK is practically
never valid UTF-8. A BOM is believed; an undeclared page is sniffed (UTF-8, else GB18030).
"""

from __future__ import annotations

import codecs
import re

from w3lib.encoding import html_body_declared_encoding, html_to_unicode, read_bom

# The charsets a Chinese site's bytes really are in, tried in this order.
FALLBACKS = ("utf-8", "gb18030")
_CHARSET_PARAM = re.compile(r"charset\s*=\s*[\"']?([^\s;\"'>/]+)", re.IGNORECASE)
_META_CHARSET = re.compile(rb"<meta[^>]+?charset\s*=\s*[\"']?([\w.:-]+)", re.IGNORECASE)


_CHECK_SLICE = 1024 * 1024


def _decodes(body: bytes, codec: str) -> bool:
    """Does `codec` read the bytes strictly? Checked a slice at a time: a 50 MB page is not
    decoded whole to find out."""
    try:
        if len(body) <= _CHECK_SLICE:
            body.decode(codec, "strict")
            return True
        decoder = codecs.getincrementaldecoder(codec)("strict")
        view = memoryview(body)
        for start in range(0, len(view), _CHECK_SLICE):
            decoder.decode(view[start : start + _CHECK_SLICE])
        decoder.decode(b"", final=True)
    except (UnicodeDecodeError, LookupError):
        return False
    return True


def _name(codec: str) -> str:
    try:
        return codecs.lookup(codec).name
    except LookupError:
        return codec


def _sniff(body: bytes) -> str | None:
    """An undeclared page that is not UTF-8 is, on a Chinese site, GBK/GB2312 legacy; a zh-CN
    browser would read it so too."""
    if _decodes(body, "utf-8"):
        return None
    return "gb18030" if _decodes(body, "gb18030") else None


def declared_label(content_type: str | None, body: bytes) -> str | None:
    """The charset the page declares, as written (the HTTP header's, else the `<meta>`'s)."""
    match = _CHARSET_PARAM.search(content_type or "")
    if match:
        return match.group(1).lower()
    if html_body_declared_encoding(body) is None:
        return None
    written = _META_CHARSET.search(body[:4096])
    return (
        written.group(1).decode("ascii").lower() if written else html_body_declared_encoding(body)
    )


def decode_page(body: bytes, content_type: str | None) -> tuple[str, str, list[str]]:
    """The codec a page is read in, its text and the problems found: BOM, then the declared
    charset checked against the bytes (see the module's docstring), then a sniff, then UTF-8.
    gb2312/gbk labels decode as GB18030, as browsers do."""
    problems: list[str] = []
    try:
        codec, text = html_to_unicode(content_type, body, auto_detect_fun=_sniff)
    except (LookupError, ValueError):
        codec, text = "utf-8", body.decode("utf-8", "replace")
    encoding = _name(codec)
    declared = None if read_bom(body)[0] else declared_label(content_type, body)
    if declared is not None:
        better = _better_charset(body, encoding)
        if better is not None:
            problems.append(f"declared charset {declared} does not fit the bytes; read as {better}")
            return better, body.decode(better), problems
    if "\ufffd" in text and not _decodes(body, codec):
        # A replacement character may be genuine text; only a failed strict decode is one.
        problems.append(
            f"page could not be decoded as {encoding}; decoded with replacement characters"
        )
    return encoding, text, problems


def _better_charset(body: bytes, encoding: str) -> str | None:
    """A charset that reads the bytes when the declared `encoding` does not (or, for UTF-8,
    when a legacy codec only seems to); None when the declaration stands."""
    if encoding != "utf-8" and not body.isascii() and _decodes(body, "utf-8"):
        return "utf-8"
    if _decodes(body, encoding):
        return None
    try:
        damaged = body.decode(encoding, "replace").count("\ufffd")
    except LookupError:
        damaged = len(body)
    for fallback in FALLBACKS:
        if fallback == encoding or not _decodes(body, fallback):
            continue
        # GB18030 reads most byte strings: a page in the declared charset with a stray bad
        # byte stays in it; text in another charset fails nearly every character.
        text = body.decode(fallback)
        foreign = [char for char in text if not char.isascii()]
        if damaged * 4 >= len(foreign) and (fallback == "utf-8" or _reads_as_chinese(foreign)):
            return fallback
    return None


def _reads_as_chinese(chars: list[str]) -> bool:
    """Does text decoded as GB18030 look like Chinese rather than noise? Binary data also
    decodes as GB18030, into rare characters; GB2312 alone covers nearly every character of
    published Chinese text (and its full-width punctuation), but only half of the noise."""
    common = 0
    for char in chars:
        try:
            char.encode("gb2312")
            common += 1
        except UnicodeEncodeError:
            pass
    return common >= 0.8 * len(chars)
