"""The `search` verb: every word of the query, exactly as typed; ranked hits with their
snippet marked on a terminal."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import click

from archive.cli.shared import HOME_OPTION, LIST_FORMAT, emit, list_format, one_line_errors, reading
from archive.cli.tables import Column, one_line, print_listing
from archive.read.search import COUNT_AT_MOST, count_matches
from archive.read.search import search as run_search
from archive.read.search.hits import hit_record

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
        table = list_format(fmt) == "table"
        total = len(hits)
        if table and limit and total == limit:  # there may be more: say how many, as a person asks
            total = count_matches(
                session,
                query,
                section=section,
                since=since,
                until=until,
                source=source,
                site=site,
                all_versions=all_versions,
                at_most=COUNT_AT_MOST,
            )
    rows = [hit_record(hit) for hit in hits]
    if not table:
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
    print_hits(rows, query, total)


def caption(shown: int, total: int, query: str) -> str:
    """`3 of 33 articles containing 中铝股份`, or `50 of more than 10,000 …`."""
    noun = "article" if total == 1 else "articles"
    if total > COUNT_AT_MOST:
        return f"{shown:,} of more than {COUNT_AT_MOST:,} {noun} containing {query}"
    if shown < total:
        return f"{shown:,} of {total:,} {noun} containing {query} (--limit 0 shows all)"
    return f"{total:,} {noun} containing {query}"


def print_hits(rows: list[dict[str, Any]], query: str, total: int) -> None:
    """The hits as a listing (identifiers whole), each occurrence in the snippet marked."""
    from rich.text import Text

    def marked(row: dict[str, Any]) -> Text:
        snippet = Text()
        for part in SNIPPET_MARK.split(row["snippet"] or ""):
            if part.startswith("[") and part.endswith("]"):
                snippet.append(one_line(part[1:-1]), style="bold black on yellow")
            else:
                snippet.append(one_line(part))
        return snippet

    columns = [
        Column("published", "time"),
        Column("title", "prose"),
        Column("snippet", "prose"),
        Column("url", "id"),
    ]
    print_listing(rows, columns, caption(len(rows), total, query), styled={"snippet": marked})
