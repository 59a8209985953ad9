"""`chalco-archive report`: a one-page HTML report of the archive for people who would rather
look than read (figures: report_data.py; the page: report_page.py, its charts:
report_charts.py). It can be mailed or opened offline."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click
from sqlalchemy.orm import Session

from archive.cli.shared import one_line_errors
from archive.errors import ArchiveError
from archive.output_file import open_whole
from archive.read.report_data import gather
from archive.read.report_page import render
from archive.store.db import open_reader, session_factory
from archive.store.home import HOME_ENV, ArchiveHome


def build_report(
    session: Session, since: date | None, until: date | None, site: str | None = None
) -> str:
    """One self-contained HTML page: headline figures, articles per month per section, top
    sources, attachments, and the most recent articles, for articles published in range."""
    return render(gather(session, since, until, site))


def _parse_day(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as error:
        raise click.BadParameter(
            f"{value!r} is not an ISO date (2025-01-31)", param_hint=option
        ) from error


@click.command()
@click.option(
    "--home",
    envvar=HOME_ENV,
    type=click.Path(file_okay=False, path_type=Path),
    help=f"Archive home directory [env {HOME_ENV}; default ~/.local/share/chalco-archive].",
)
@click.option("--output", "-o", required=True, help="HTML file to write, or - for stdout.")
@click.option("--since", help="Only articles published on or after this ISO date.")
@click.option("--until", help="Only articles published on or before this ISO date.")
@click.option("--site", help="Only articles of this site, e.g. chalco (see `sites`).")
@one_line_errors
def report(
    home: Path | None, output: str, since: str | None, until: str | None, site: str | None
) -> None:
    """Write a self-contained HTML report: charts of articles per month and section, top
    sources, attachments, and the most recent articles. Opens offline in any browser.

    \b
    Example:
      chalco-archive report --output chalco.html --since 2025-01-01
    """
    since_day = _parse_day(since, "--since")
    until_day = _parse_day(until, "--until")
    if since_day and until_day and since_day > until_day:
        raise click.BadParameter("--since is after --until")
    try:
        engine = open_reader(ArchiveHome.at(home))
        try:
            with session_factory(engine)() as session:
                data = gather(session, since_day, until_day, site)
        finally:
            engine.dispose()
    except ArchiveError as error:
        raise click.ClickException(str(error)) from error
    page = render(data)
    if output == "-":
        click.echo(page, nl=False)
        return
    with open_whole(output, "w", encoding="utf-8") as handle:  # never a cut-off page
        handle.write(page)
    click.echo(f"wrote a report of {data.articles} articles to {output}", err=True)
