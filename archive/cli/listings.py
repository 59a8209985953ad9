"""The verbs that count: `stats` (articles per section and month) and `runs` (the crawl
runs)."""

from __future__ import annotations

from pathlib import Path

import click

from archive.cli.shared import (
    HOME_OPTION,
    LIST_FORMAT,
    emit,
    list_format,
    one_line_errors,
    reading,
)
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

    The workers of a fleet that crawled together are one row (one fleet run): each worker
    and how it ended, what was queued again from whom, and how many requests it left
    unfinished for the next fleet run.

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
    if any(row["worker"] for row in rows):  # a distributed crawl: its workers
        columns.insert(1, "worker")
    if any(row.get("fleet_run") for row in rows):
        columns += ["requeued", "unfinished"]
        if list_format(fmt) == "table":
            for row in rows:
                requeued = row.get("requeued") or {}
                row["requeued"] = ", ".join(f"{n} of {w}" for w, n in sorted(requeued.items()))
    emit(rows, columns, fmt, "crawl runs")
