"""The `search` verb: every word of the query, exactly as typed; ranked hits with their
snippet marked on a terminal."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import click

from archive.cli.shared import HOME_OPTION, LIST_FORMAT, emit, list_format, one_line_errors, reading
from archive.read.search import search as run_search
from archive.read.search.hits import hit_record
from archive.safe_text import terminal_text

# A search hit's snippet marks each occurrence with [ ] (archive.read.search.hits.SNIPPET_OPEN).
SNIPPET_MARK = re.compile(r"(\[[^\[\]]*\])")


@click.command(name="search")
@click.argument("query")
@HOME_OPTION
@click.option("--section", help="Only articles listed in this section, e.g. xwdt/gsyw.")
@click.option("--since", help="Published on or after (2026, 2026-02 or 2026-02-03).")
@click.option("--until", help="Published on or before (same forms).")
@click.option("--source", help="Only this 来源, exactly.")
@click.option("--site", help="Only this site, e.g. chalco.")
@click.option("--limit", default=50, show_default=True, help="At most this many (0: all).")
@click.option("--all-versions", is_flag=True, help="Search earlier versions too.")
@LIST_FORMAT
@one_line_errors
def search_command(
    query: str,
    home: Path | None,
    section: str | None,
    since: str | None,
    until: str | None,
    source: str | None,
    site: str | None,
    limit: int,
    all_versions: bool,
    fmt: str | None,
) -> None:
    """Find the articles whose title or body contains every word of QUERY, exactly as
    typed (any length: 铝 and 中铝 work); ranked, title matches first.

    \b
    Example:
      chalco-archive search 中铝 --since 2026-01
      chalco-archive search "几内亚 铝土矿" --section xwdt/gsyw --format csv > hits.csv
    """
    with reading(home) as (_home, session):
        try:
            hits = run_search(
                session,
                query,
                section=section,
                since=since,
                until=until,
                source=source,
                site=site,
                limit=limit or None,
                all_versions=all_versions,
            )
        except ValueError as error:
            raise click.UsageError(str(error)) from error
    rows = [hit_record(hit) for hit in hits]
    if list_format(fmt) != "table":
        columns = [
            "url",
            "site",
            "sections",
            "title",
            "source",
            "published",
            "version",
            "snippet",
            "score",
        ]
        emit(rows, columns, fmt, "")
        return
    print_hits(rows, query)


def print_hits(rows: list[dict[str, Any]], query: str) -> None:
    """The hits as a table, each occurrence in the snippet highlighted."""
    from rich.console import Console  # a terminal's table only: scripts never pay for rich
    from rich.table import Table
    from rich.text import Text

    table = Table(title=f"{len(rows)} articles containing {query}")
    for column in ("published", "title", "snippet", "url"):
        table.add_column(column, overflow="fold")
    for row in rows:
        snippet = Text()
        for part in SNIPPET_MARK.split(row["snippet"] or ""):
            if part.startswith("[") and part.endswith("]"):
                snippet.append(terminal_text(part[1:-1]), style="bold black on yellow")
            else:
                snippet.append(terminal_text(part))
        table.add_row(
            Text(terminal_text(row["published"] or "")),
            Text(terminal_text(row["title"] or "")),
            snippet,
            Text(terminal_text(row["url"])),
        )
    Console().print(table)
