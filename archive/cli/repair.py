"""The `repair` verb: fetch again from the site every capture whose WARC record `verify` finds
missing or damaged. The fetching runs in `chalco_crawler.repair` (the archive package never
imports the crawler); `--dry-run` only audits, here, and says what would be fetched."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from archive.child import exec_python_module
from archive.cli.shared import HOME_OPTION, one_line_errors, reading_session
from archive.safe_text import echo
from archive.store.home import ArchiveHome


@click.command()
@HOME_OPTION
@click.option(
    "--dry-run", is_flag=True, help="Audit and list what would be fetched; fetch nothing."
)
@click.option("-s", "settings", multiple=True, metavar="KEY=VALUE", help="Scrapy setting.")
@one_line_errors
def repair(home: Path | None, dry_run: bool, settings: tuple[str, ...]) -> None:
    """Fetch again from the site every capture whose WARC record verify finds missing or
    damaged, store it whole, and put the loss on record (a ledger entry naming the lost
    record and its replacement). Afterwards verify lists each such loss as a note, and
    snapshot serves the replacement, saying the original capture was lost.

    The requests are the crawl's: robots.txt obeyed, its User-Agent, delays and retries.
    A capture the site no longer serves as it did (404, 410, another status) is not
    repaired: it stays a problem.

    \b
    Example:
      chalco-archive verify            # 1: problems in a damaged WARC file
      chalco-archive repair --dry-run  # what would be fetched again
      chalco-archive repair
      chalco-archive verify            # 0, each loss as a note

    Exit codes: 0 every damaged capture replaced, 1 some could not be (listed; or verify
    found problems no fetch can mend), 3 home in use, 4 usage error, 5 the home cannot be
    written, 130/143 stopped by SIGINT/SIGTERM.
    """
    if dry_run:
        from archive.evidence.repair import plan_repair  # SQLAlchemy: the dry run only

        with reading_session(home) as (archive_home, session):
            plan = plan_repair(session, archive_home)
        for target in plan.targets:
            for lost in target.losses:
                echo(f"would fetch again for capture {lost.capture_id}: {lost.found}")
        for problem in plan.other_problems:
            echo(f"not for repair: {problem.line()}")
        click.echo(
            f"{plan.captures} damaged capture(s) of {len(plan.targets)} URL(s) to fetch again,"
            f" {len(plan.other_problems)} other problem(s)"
        )
        if plan.targets or plan.other_problems:
            sys.exit(1)
        return
    command = ["--home", str(ArchiveHome.at(home).root)]
    for pair in settings:
        command += ["-s", pair]
    exec_python_module("chalco_crawler.repair", command)
