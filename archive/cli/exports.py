"""The `export` verb: every article's latest version as JSON Lines, CSV or Parquet.
(`report` and `browse`, the other ways out, are verbs of archive.read.)"""

from __future__ import annotations

from pathlib import Path

import click

from archive.cli.shared import HOME_OPTION, one_line_errors, output_stream, reading, write_records
from archive.read.articles import EXPORT_FIELDS, iter_articles
from archive.read.search.plan import date_bound


@click.command()
@HOME_OPTION
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["jsonl", "csv", "parquet"]),
    default="jsonl",
    show_default=True,
)
@click.option("--output", "-o", default="-", show_default=True, help="File, or - for stdout.")
@click.option("--section", help="Only articles listed in this section, e.g. xwdt/gsyw.")
@click.option("--site", help="Only articles of this site, e.g. chalco (see `sites`).")
@click.option("--since", help="Published on or after (2026, 2026-02 or 2026-02-03).")
@click.option("--until", help="Published on or before (same forms).")
@click.option("--source", help="Only this 来源, exactly.")
@one_line_errors
def export(
    home: Path | None,
    fmt: str,
    output: str,
    section: str | None,
    site: str | None,
    since: str | None,
    until: str | None,
    source: str | None,
) -> None:
    """Export every article's latest version (JSON Lines, CSV for Excel, or Parquet).

    \b
    Example:
      chalco-archive export --format csv --output chalco.csv
      chalco-archive export --format jsonl | jq .title
      chalco-archive export --format parquet --output chalco.parquet
    """
    try:
        since, until = date_bound("since", since), date_bound("until", until)
    except ValueError as error:
        raise click.UsageError(str(error)) from error
    filters = {"section": section, "site": site, "since": since, "until": until, "source": source}
    if fmt == "parquet":
        if output == "-":
            raise click.UsageError("--format parquet writes a file: give --output FILE")
        from archive.read.parquet import write_parquet  # pyarrow: for Parquet only

        with reading(home) as (_home, session):
            count = write_parquet(iter_articles(session, **filters), Path(output))
    else:
        with reading(home) as (_home, session), output_stream(output, bom=(fmt == "csv")) as handle:
            count = write_records(iter_articles(session, **filters), fmt, handle, EXPORT_FIELDS)
    if output != "-":
        click.echo(f"exported {count} articles to {output}", err=True)
