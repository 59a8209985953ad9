"""The verbs that count: `stats` (articles per section and month) and `runs` (the crawl
runs)."""

from __future__ import annotations

from pathlib import Path

import click

from archive.cli.shared import HOME_OPTION, LIST_FORMAT, emit, one_line_errors, reading
from archive.read.runs import list_runs
from archive.read.stats import section_month_counts


@click.command()
@HOME_OPTION
@click.option("--site", help="Only this site, e.g. chalco.")
@LIST_FORMAT
@one_line_errors
def stats(home: Path | None, site: str | None, fmt: str | None) -> None:
    """Count articles per section and month of publication.

    \b
    Example:
      chalco-archive stats
      chalco-archive stats --format csv > counts.csv
    """
    with reading(home) as (_home, session):
        rows = section_month_counts(session, site)
    title = f"{sum(r['articles'] for r in rows)} listings"
    emit(rows, ["site", "section", "month", "articles"], fmt, title)


@click.command()
@HOME_OPTION
@click.option("--limit", default=20, show_default=True, help="How many runs, newest first.")
@LIST_FORMAT
@one_line_errors
def runs(home: Path | None, limit: int, fmt: str | None) -> None:
    """List crawl runs: mode, times, counts and exit status.

    \b
    Example:
      chalco-archive runs --limit 5
    """
    with reading(home) as (_home, session):
        rows = list_runs(session, limit)
    columns = [
        "id",
        "mode",
        "status",
        "exit_code",
        "started_at",
        "finished_at",
        "new",
        "updated",
        "unchanged",
        "gone",
        "failed",
        "dead",
    ]
    if any(row["oversize"] for row in rows):
        columns.append("oversize")
    if any(row["worker"] for row in rows):  # a distributed crawl: one run per worker
        columns.insert(1, "worker")
    emit(rows, columns, fmt, "crawl runs")
