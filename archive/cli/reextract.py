"""The `reextract` verb: its options, checked here; the work runs in `pipelines.reextract_run`
(the archive package never imports the extraction code)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from archive.child import exec_python_module
from archive.store.home import HOME_ENV, ArchiveHome


@click.command()
@click.option(
    "--home",
    envvar=HOME_ENV,
    type=click.Path(file_okay=False, path_type=Path),
    help=f"Archive home directory [env {HOME_ENV}].",
)
@click.option(
    "--site",
    multiple=True,
    help="Only this site's articles, read with this profile (name or TOML file; repeatable).",
)
@click.option("--since", help="Only pages captured at or after this ISO date or datetime (UTC).")
@click.option("--dry-run", is_flag=True, help="Count what would change; write nothing.")
@click.option(
    "--examples",
    type=click.IntRange(min=0),
    default=3,
    show_default=True,
    help="Dry run: examples shown per field.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def reextract(
    home: Path | None,
    site: tuple[str, ...],
    since: str | None,
    dry_run: bool,
    examples: int,
    as_json: bool,
) -> None:
    """Read the archived pages again with the current extraction and site profile; an article
    whose fields come out otherwise gets a new version (cause reextract). No network.

    \b
    Example:
      chalco-archive reextract --dry-run
      chalco-archive reextract --site chalco --since 2026-11-01

    Exit codes: 0 ok, 1 some pages could not be read (or stopped), 3 home in use,
    4 usage error, 5 the home cannot be written.
    """
    if since is not None:
        try:
            datetime.fromisoformat(since)
        except ValueError as error:
            raise click.UsageError(
                f"--since takes an ISO date or datetime, not {since!r}"
            ) from error
    command = ["--home", str(ArchiveHome.at(home).root), "--examples", str(examples)]
    for name in site:
        command += ["--site", name]
    if since is not None:
        command += ["--since", since]
    if dry_run:
        command.append("--dry-run")
    if as_json:
        command.append("--json")
    exec_python_module("pipelines.reextract_run", command)
