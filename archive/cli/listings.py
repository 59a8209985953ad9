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
from archive.cli.tables import Column, duration
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
    columns = [
        Column("site", "id"),
        Column("section", "id"),
        Column("month", "label"),
        Column("articles", "number"),
    ]
    emit(rows, columns, fmt, title)


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
    counts = ["new", "updated", "unchanged", "gone", "failed", "dead"]
    if any(row["oversize"] for row in rows):
        counts.append("oversize")
    distributed = any(row["worker"] for row in rows)  # a fleet: its workers, how each ended
    fleet = ["requeued", "unfinished"] if any(row.get("fleet_run") for row in rows) else []
    columns: list[str | Column]
    if list_format(fmt) == "table":
        # On a terminal: when it started (+08:00) and how long it took; scripts get both times.
        for row in rows:
            row["took"] = duration(row["started_at"], row["finished_at"])
            if fleet:
                requeued = row.get("requeued") or {}
                row["requeued"] = ", ".join(f"{n} of {w}" for w, n in sorted(requeued.items()))
        columns = [
            Column("id", "number"),
            *([Column("worker", "id")] if distributed else []),
            Column("mode", "label"),
            Column("status", "label"),
            Column("exit_code", "number", "exit"),
            Column("started_at", "time", "started"),
            Column("took", "id"),
            *(Column(name, "number") for name in counts),
            *([Column("requeued", "id"), Column("unfinished", "number")] if fleet else []),
        ]
    else:
        columns = ["id", *(["worker"] if distributed else []), "mode", "status", "exit_code"]
        columns += ["started_at", "finished_at", *counts, *fleet]
    emit(rows, columns, fmt, "crawl runs")
