"""The verbs that talk to the sites: `crawl`, `probe` and `sites` (the profiles a crawl can
name). Each runs the crawler's side in a Python process of its own (archive never imports
the crawler)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import click

from archive.child import exec_python_module
from archive.cli.shared import HOME_OPTION, LIST_FORMAT, emit
from archive.cli.tables import Column
from archive.store.home import ArchiveHome


@click.command(context_settings={"ignore_unknown_options": False})
@HOME_OPTION
@click.option(
    "--base-url",
    multiple=True,
    help="Site root (default: the profile's live site); NAME=URL with several sites.",
)
@click.option("--site", multiple=True, help="Site profile name or TOML file (repeatable).")
@click.option("--all-sites", is_flag=True, help="Every known site profile (see `sites`).")
@click.option(
    "--sections", multiple=True, help="Section path to crawl, e.g. xwdt/gsyw (repeatable)."
)
@click.option("--incremental", is_flag=True, help="The default mode, named.")
@click.option("--full", is_flag=True, help="Walk every list page (default: incremental).")
@click.option("--revisit", is_flag=True, help="Re-request archived URLs with conditional GETs.")
@click.option("--revisit-days", type=float, help="With --revisit: only the last N days.")
@click.option(
    "--overlap",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Incremental: list pages in a row with nothing new before a section stops.",
)
@click.option("-s", "settings", multiple=True, metavar="KEY=VALUE", help="Scrapy setting.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.option(
    "--no-probe",
    is_flag=True,
    help="A first crawl into an empty home: skip the probe that checks the profile fits.",
)
@click.option(
    "--workers-redis",
    metavar="URL",
    help="Crawl as one worker of a fleet sharing this Redis; the archive must be in"
    " PostgreSQL: `chalco-archive --db postgresql+psycopg://… crawl …` (--db before the verb)"
    " or $CHALCO_ARCHIVE_DB.",
)
@click.option("--fleet", help="The fleet's name in Redis (default: default).")
@click.option("--worker", help="This worker's name (default: HOSTNAME-PID).")
def crawl(
    home: Path | None,
    base_url: tuple[str, ...],
    site: tuple[str, ...],
    all_sites: bool,
    sections: tuple[str, ...],
    incremental: bool,
    full: bool,
    revisit: bool,
    revisit_days: float | None,
    overlap: int,
    settings: tuple[str, ...],
    as_json: bool,
    no_probe: bool,
    workers_redis: str | None,
    fleet: str | None,
    worker: str | None,
) -> None:
    """Crawl the news sections into the archive.

    \b
    Example:
      chalco-archive crawl --home ~/chalco
      chalco-archive crawl --base-url http://127.0.0.1:8000/ --sections xwdt/gsyw \\
        -s DOWNLOAD_DELAY=0

    Exit codes: 0 ok, 1 partial (some URLs failed, or a page named more files than
    MAX_FILES_PER_PAGE), 2 site unreachable, 3 home in use, 4 usage error, 5 the home cannot
    be written, or a worker's Redis or database away, 6 the site answered with challenge
    pages, 7 the site profile misreads the site (too many new articles flagged, or
    a first crawl's probe found it does not fit: nothing archived), 130/143 stopped by
    SIGINT/SIGTERM (the run is interrupted; the next crawl resumes).
    """
    command = ["--home", str(ArchiveHome.at(home).root)]
    for url in base_url:
        command += ["--base-url", url]
    for name in site:
        command += ["--site", name]
    if all_sites:
        command.append("--all-sites")
    if sections:
        command += ["--sections", *sections]
    if incremental + full + revisit > 1:
        raise click.UsageError("--incremental, --full and --revisit exclude each other")
    if revisit_days is not None and not revisit:
        raise click.UsageError("--revisit-days goes with --revisit")
    for url in base_url:
        target = url.partition("=")[2] if "=" in url and "://" not in url.partition("=")[0] else url
        if urlsplit(target).scheme not in ("http", "https") or not urlsplit(target).hostname:
            raise click.UsageError(f"--base-url takes an http(s) URL, not {url!r}")
    if full:
        command.append("--full")
    if revisit:
        command.append("--revisit")
    if revisit_days is not None:
        command += ["--revisit-days", str(revisit_days)]
    command += ["--overlap", str(overlap)]
    for pair in settings:
        command += ["-s", pair]
    if as_json:
        command.append("--json")
    if no_probe:
        command.append("--no-probe")
    for option, value in (
        ("--workers-redis", workers_redis),
        ("--fleet", fleet),
        ("--worker", worker),
    ):
        if value:
            command += [option, value]
    exec_python_module("chalco_crawler.run", command)


@click.command()
@HOME_OPTION
@click.option("--site", multiple=True, help="Site profile name or TOML file (repeatable).")
@click.option("--all-sites", is_flag=True, help="Every known site profile (see `sites`).")
@click.option(
    "--base-url",
    multiple=True,
    help="Site root (default: the profile's live site); NAME=URL with several sites.",
)
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@click.option("-s", "settings", multiple=True, metavar="KEY=VALUE", help="Scrapy setting.")
def probe(
    home: Path | None,
    site: tuple[str, ...],
    all_sites: bool,
    base_url: tuple[str, ...],
    fmt: str,
    settings: tuple[str, ...],
) -> None:
    """Check that a site profile still fits the site, before a crawl: a polite dry run.

    Fetches the home page, the first list page of each news section and one or two
    articles each (robots.txt honoured, the crawl's delays, at most 40 requests a site,
    nothing archived) and says, per section and per field, what was found and by which
    selector, label or fallback, flagging whatever the profile did not foresee.

    \b
    Example:
      chalco-archive probe
      chalco-archive probe --site zzly --format json
      chalco-archive probe --site ~/chalco/sites/chalco.toml --base-url http://127.0.0.1:8000/

    Exit codes: 0 the profile fits, 1 something did not (see the ! lines), 4 usage error,
    5 the site cannot be reached.
    """
    command = ["--home", str(ArchiveHome.at(home).root), "--format", fmt]
    for name in site:
        command += ["--site", name]
    if all_sites:
        command.append("--all-sites")
    for url in base_url:
        command += ["--base-url", url]
    for pair in settings:
        command += ["-s", pair]
    exec_python_module("chalco_crawler.probe", command)


@click.command()
@HOME_OPTION
@LIST_FORMAT
def sites(home: Path | None, fmt: str | None) -> None:
    """List the site profiles a crawl can name: bundled ones and the home's own (HOME/sites).

    \b
    Example:
      chalco-archive sites
      chalco-archive crawl --site chalco --site zzly
    """
    output = subprocess.run(
        [
            sys.executable,
            "-m",
            "chalco_crawler.list_sites",
            "--home",
            str(ArchiveHome.at(home).root),
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rows = [json.loads(line) for line in output.splitlines()]
    for row in rows:
        row["news_roots"] = ", ".join(row["news_roots"])
        row["extra_sections"] = ", ".join(row["extra_sections"])
    columns = [
        Column("name", "id"),
        Column("title", "prose"),
        Column("base_url", "id"),
        Column("news_roots", "prose"),
        Column("extra_sections", "prose"),
        Column("profile", "id"),
    ]
    emit(rows, columns, fmt, "site profiles")
