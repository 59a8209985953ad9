"""Archived text is untrusted: CSV cells that cannot start a formula, links only to http(s),
and control characters shown escaped on a terminal.

Everything in the archive came from a web server. The archive keeps it as published; these
functions make it safe at the moment it is written where something would interpret it: a
spreadsheet (CSV), a browser (the report) or a terminal (`show`, `diff`, tables).
"""

from __future__ import annotations

import re
import sys
from html import escape
from typing import IO, Any
from urllib.parse import urlsplit

import click

# OWASP's CSV injection list: a cell starting with one of these is read as a formula by
# Excel, LibreOffice Calc or Google Sheets (tab and CR before a formula too).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_FORMULA_FIRST = "".join(FORMULA_STARTS)  # a test of one character: cheap for every cell
# A leading apostrophe is the spreadsheet users' own "this is text" mark.
FORMULA_GUARD = "'"

SAFE_LINK_SCHEMES = ("http", "https")

# What a terminal would act on or that reorders what it shows: C0 controls but tab and
# newline (and CR only before LF, a line end), DEL, C1 controls (U+009B is a one-character
# CSI), and the bidirectional formatting characters (Trojan Source, CVE-2021-42574).
_UNSAFE_TEXT = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]|\r(?!\n)"
)
# The same in bytes, for a page written as received: single control bytes, and the UTF-8
# forms of the C1 and bidi characters above.
_UNSAFE_BYTES = re.compile(
    rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]|\r(?!\n)"
    rb"|\xc2[\x80-\x9f]|\xd8\x9c|\xe2\x80[\x8e\x8f\xaa-\xae]|\xe2\x81[\xa6-\xa9]"
)


def csv_cell(value: Any) -> Any:
    """A CSV cell's value that no spreadsheet reads as a formula: text starting with
    = + - @ tab or CR gets a leading apostrophe; everything else is as given."""
    if isinstance(value, str) and value and value[0] in _FORMULA_FIRST:
        return FORMULA_GUARD + value
    return value


def safe_href(url: str | None) -> str | None:
    """The URL if a browser may be pointed at it (http or https, with a host), else None:
    a `javascript:`, `data:` or `vbscript:` URL is shown as text, never made a link."""
    if not url:
        return None
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    if parts.scheme.lower() not in SAFE_LINK_SCHEMES or not parts.netloc:
        return None
    # Browsers drop tabs and newlines inside a URL; one that needs that is not taken as is.
    if any(char in url for char in "\t\r\n"):
        return None
    return url


def _escape(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


def terminal_text(text: str) -> str:
    """`text` with what a terminal would act on shown as escapes: ESC as \\u001b, a
    right-to-left override as \\u202e. Inside a JSON string the escapes mean the same
    characters, so a JSON line stays valid and its values unchanged."""
    return _UNSAFE_TEXT.sub(_escape, text)


def html_text(text: object) -> str:
    """Archived text for an HTML page (the report): markup escaped, and what would reorder
    or hide what a reader sees (bidi overrides, controls) shown as escapes, as on a
    terminal, so that "gnp.exe" behind a U+202E never displays as "exe.png"."""
    return escape(terminal_text(str(text)), quote=True)


def _escape_bytes(match: re.Match[bytes]) -> bytes:
    return b"".join(b"\\x%02x" % byte for byte in match.group())


def terminal_bytes(data: bytes) -> bytes:
    """Bytes for a terminal, with control bytes and the UTF-8 forms of C1 controls and bidi
    characters shown as escapes (\\x1b); every other byte as given."""
    return _UNSAFE_BYTES.sub(_escape_bytes, data)


def is_terminal(stream: IO[Any]) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # a closed or unusual stream is no terminal
        return False


def echo(message: str = "", err: bool = False) -> None:
    """click.echo, with control characters escaped when the output is a terminal (text
    piped to a file or a program is written as archived)."""
    stream = sys.stderr if err else sys.stdout
    if is_terminal(stream):
        click.echo(terminal_text(message), err=err)
    else:
        # color=True: click would otherwise cut ANSI sequences out of the archived text.
        click.echo(message, err=err, color=True)


class TerminalWriter:
    """A text stream that escapes control characters on their way to a terminal."""

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream

    def write(self, text: str) -> int:
        self.stream.write(terminal_text(text))
        return len(text)

    def flush(self) -> None:
        self.stream.flush()


def for_terminal(stream: IO[str]) -> IO[str]:
    """`stream` itself, or wrapped in a TerminalWriter when it is a terminal."""
    return TerminalWriter(stream) if is_terminal(stream) else stream  # type: ignore[return-value]
