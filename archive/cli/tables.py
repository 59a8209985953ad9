"""Listings laid out for a terminal: identifiers whole on one line, prose shortened to fit.

A URL, a digest, a file name or a time is what a person copies into the next command, so it
is never wrapped or cut: prose columns (titles, snippets) are shortened with `…` to make
room, and when the identifiers alone are wider than the terminal the widest of them go on a
line of their own under their row (the header shows the same shape). Times are shown to the
second in the site's zone (+08:00). `--format jsonl|csv` never comes here: scripts get every
value exactly as stored.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, Literal

from archive.safe_text import terminal_text

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text

SITE_ZONE = timezone(timedelta(hours=8), "+08:00")
"""The zone the sites publish in (Asia/Shanghai, no daylight saving): times are shown in it."""

GAP = 2
"""Spaces between two columns."""
SUB_ROW_INDENT = 4
"""Where the identifiers moved under their row start."""
PROSE_MIN = 16
"""The width a prose column keeps before an identifier is moved under its row."""

Kind = Literal["id", "time", "prose", "number", "label"]


@dataclass(frozen=True)
class Column:
    """One column of a listing: which field, its header, and how it may be laid out."""

    field: str
    kind: Kind = "prose"
    """`id`: whole, on one line, moved under the row when there is no room (URLs, digests,
    file names); `time`: an id shown to the second in +08:00; `prose`: shortened with … to
    fit; `number`: whole, right-aligned; `label`: a short word (a status, a mode), whole."""
    header: str | None = None
    """The header shown, when it is not the field's name."""

    @property
    def title(self) -> str:
        return self.header or self.field


def one_line(text: str) -> str:
    """A cell's text inert for a terminal and on one line (a line break shown as a space)."""
    return terminal_text(text.replace("\r\n", " ").replace("\n", " ").replace("\t", " "))


def terminal_time(value: Any) -> str:
    """An aware ISO time to the second in +08:00 (`2026-02-04T09:32:00+08:00`); a date, a
    naive time or anything else as it is."""
    if value is None:
        return ""
    text = str(value)
    if len(text) <= 10:  # a date (2026-02-04) has no clock to convert
        return text
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return text
    if moment.tzinfo is None:
        return text
    return moment.astimezone(SITE_ZONE).isoformat(timespec="seconds")


def duration(started: Any, finished: Any) -> str:
    """How long between two ISO times: `0.4 s`, `42 s`, `3 min 05 s`, `2 h 03 min`; empty
    while one is missing (a run still running)."""
    if not started or not finished:
        return ""
    try:
        seconds = (
            datetime.fromisoformat(str(finished)) - datetime.fromisoformat(str(started))
        ).total_seconds()
    except (TypeError, ValueError):
        return ""
    if seconds < 0:
        return ""
    if seconds < 10:
        return f"{seconds:.1f} s"
    whole = round(seconds)
    if whole < 60:
        return f"{whole} s"
    if whole < 3600:
        return f"{whole // 60} min {whole % 60:02d} s"
    return f"{whole // 3600} h {whole % 3600 // 60:02d} min"


@dataclass
class _Layout:
    in_row: list[int]
    """Indexes of the columns on the row's own line."""
    sub_rows: list[list[int]]
    """Indexes of the identifiers moved under the row, one list per line."""
    widths: list[int]


def _cell_len(text: Text) -> int:
    return text.cell_len


def _used(indexes: list[int], widths: list[int]) -> int:
    return sum(widths[i] for i in indexes) + GAP * (len(indexes) - 1)


def _lay_out(columns: Sequence[Column], cells: list[list[Text]], width: int) -> _Layout:
    from rich.cells import cell_len

    natural = [
        max([cell_len(column.title)] + [_cell_len(row[i]) for row in cells])
        for i, column in enumerate(columns)
    ]

    def least(i: int, comfortable: bool) -> int:
        if columns[i].kind != "prose":
            return natural[i]
        keep = max(cell_len(columns[i].title), PROSE_MIN if comfortable else 1)
        return min(natural[i], keep)

    def need(in_row: list[int], comfortable: bool) -> int:
        return sum(least(i, comfortable) for i in in_row) + GAP * (len(in_row) - 1)

    in_row = list(range(len(columns)))
    moved: list[int] = []
    for comfortable in (True, False):
        while need(in_row, comfortable) > width:
            movable = [i for i in in_row if columns[i].kind in ("id", "time")]
            if not movable:
                break
            widest = max(movable, key=lambda i: (natural[i], i))  # a tie: the later one
            in_row.remove(widest)
            moved.append(widest)
        if need(in_row, comfortable) <= width:
            break
    widths = list(natural)
    prose = sorted((i for i in in_row if columns[i].kind == "prose"), key=lambda i: natural[i])
    spare = width - sum(natural[i] for i in in_row if columns[i].kind != "prose")
    spare -= GAP * (len(in_row) - 1)
    for position, i in enumerate(prose):
        share = spare // (len(prose) - position)
        widths[i] = max(min(natural[i], share), least(i, False))
        spare -= widths[i]
    moved.sort()  # under the row in the listing's own order
    sub_rows: list[list[int]] = []
    for i in moved:
        line = sub_rows[-1] if sub_rows else None
        used = SUB_ROW_INDENT + sum(natural[j] + GAP for j in line) if line else 0
        if line is not None and used + natural[i] <= width:
            line.append(i)
        else:
            sub_rows.append([i])
    return _Layout(in_row, sub_rows, widths)


def _line(
    indexes: list[int],
    values: list[Text],
    columns: Sequence[Column],
    widths: list[int],
    indent: int,
) -> Text:
    from rich.text import Text

    line = Text(" " * indent)
    for position, i in enumerate(indexes):
        cell = values[i].copy()
        cell.no_wrap = True
        last = position == len(indexes) - 1
        if columns[i].kind == "prose" and cell.cell_len > widths[i]:
            cell.truncate(widths[i], overflow="ellipsis")
        pad = widths[i] - cell.cell_len
        if columns[i].kind == "number":
            line.append(" " * pad)
            line.append_text(cell)
        else:
            line.append_text(cell)
            if not last:
                line.append(" " * pad)
        if not last:
            line.append(" " * GAP)
    line.rstrip()
    return line


def render(
    rows: Iterable[dict[str, Any]],
    columns: Sequence[Column],
    width: int,
    styled: dict[str, Any] | None = None,
) -> list[Text]:
    """The lines of a listing `width` cells wide. A value is shown with str(); `styled` maps
    a field to a function making its rich Text from the row (the search hits' marked
    snippets), whose text is the caller's to make inert."""
    from rich.text import Text

    styled = styled or {}
    cells: list[list[Text]] = []
    for row in rows:
        values = []
        for column in columns:
            if column.field in styled:
                values.append(styled[column.field](row))
            else:
                value = row.get(column.field)
                text = terminal_time(value) if column.kind == "time" else value
                values.append(Text(one_line("" if text is None else str(text))))
        cells.append(values)
    layout = _lay_out(columns, cells, width)
    headers = [Text(column.title, style="bold") for column in columns]
    rules = [Text("─" * layout.widths[i], style="dim") for i in range(len(columns))]
    # A sub-row is indented under its row, unless the indent would push it past the width.
    shapes = [(layout.in_row, 0)] + [
        (line, SUB_ROW_INDENT if _used(line, layout.widths) + SUB_ROW_INDENT <= width else 0)
        for line in layout.sub_rows
    ]
    lines = [_line(ix, headers, columns, layout.widths, indent) for ix, indent in shapes]
    lines.append(_line(layout.in_row, rules, columns, layout.widths, 0))
    for values in cells:
        lines += [_line(ix, values, columns, layout.widths, indent) for ix, indent in shapes]
    return lines


def print_listing(
    rows: list[dict[str, Any]],
    columns: Sequence[Column],
    title: str | None = None,
    styled: dict[str, Any] | None = None,
    console: Console | None = None,
) -> None:
    """A listing on the terminal (or wherever --format table sends it), `title` above it."""
    from rich.console import Console

    # soft_wrap: rich never breaks a line; a line is exactly as laid out.
    console = console or Console(soft_wrap=True, highlight=False)
    if title:
        from rich.text import Text

        console.print(Text(terminal_text(title), style="italic"))
    for line in render(rows, columns, console.width, styled):
        console.print(line)
