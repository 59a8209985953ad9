"""The `chalco-archive` command: crawl, probe, export, snapshot, show, stats, replica, demo.

Errors reach the user as one line on stderr with a non-zero exit code.
"""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import wraps
from pathlib import Path
from typing import IO, Any, TypeVar
from urllib.parse import urlsplit

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text
from sqlalchemy import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.orm import Session

from archive.child import exec_python_module
from archive.cli.reextract import reextract
from archive.errors import ArchiveError, ContentOversize
from archive.evidence.package import package_command
from archive.evidence.verify import ledger_head as current_ledger_head
from archive.evidence.verify import verify as run_verify
from archive.read.articles import EXPORT_FIELDS, get_article, iter_articles
from archive.read.browse import browse
from archive.read.captures import captures as capture_list
from archive.read.captures import get_snapshot
from archive.read.parquet import write_parquet
from archive.read.report import report as report_command
from archive.read.runs import list_runs
from archive.read.search import search as run_search
from archive.read.search.hits import hit_record
from archive.read.search.plan import date_bound
from archive.read.sql import Reader, open_sql_reader
from archive.read.stats import section_month_counts
from archive.read.versions import diff_versions, same_story, version_history
from archive.safe_text import (
    csv_cell,
    echo,
    for_terminal,
    is_terminal,
    terminal_bytes,
    terminal_text,
)
from archive.store.db import open_reader, session_factory
from archive.store.decoding import DEFAULT_MAX_DECODED
from archive.store.home import DB_ENV, HOME_ENV, ArchiveHome
from archive.store.migrate import migrate_database
from archive.store.search_index import reindex as rebuild_index
from archive.store.search_index import reindex_postgresql
from archive.store.writer import ArchiveWriter

F = TypeVar("F", bound=Callable[..., Any])

# A search hit's snippet marks each occurrence with [ ] (archive.read.search.hits.SNIPPET_OPEN).
SNIPPET_MARK = re.compile(r"(\[[^\[\]]*\])")

HOME_OPTION = click.option(
    "--home",
    envvar=HOME_ENV,
    type=click.Path(file_okay=False, path_type=Path),
    help=f"Archive home directory [env {HOME_ENV}; default $XDG_DATA_HOME/chalco-archive "
    "or ~/.local/share/chalco-archive].",
)


EXIT_BROKEN_PIPE = 128 + 13  # what a shell reports for a process killed by SIGPIPE


def one_line_errors(command: F) -> F:
    """Turn the archive's named errors into a one-line message and exit code 1."""

    @wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except ArchiveError as error:
            raise click.ClickException(str(error)) from error
        except BrokenPipeError:
            # The reader went away (`| head`): stop quietly, as Unix tools killed by SIGPIPE.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(EXIT_BROKEN_PIPE)
        except OSError as error:  # an output file that cannot be written, a missing folder
            raise click.ClickException(f"{error.strerror}: {error.filename}") from error
        except SQLAlchemyError as error:
            reason = str(getattr(error, "orig", None) or error).splitlines()[0]
            raise click.ClickException(f"cannot use the database: {reason}") from error

    return wrapper  # type: ignore[return-value]


@contextmanager
def reading(home_path: Path | None) -> Iterator[tuple[ArchiveHome, Reader]]:
    """The read verbs' reader: plain sqlite3 on SQLite (no SQLAlchemy import), one snapshot."""
    home = ArchiveHome.at(home_path)
    with open_sql_reader(home) as reader:
        yield home, reader


@contextmanager
def reading_session(home_path: Path | None) -> Iterator[tuple[ArchiveHome, Session]]:
    """A read-only SQLAlchemy session, for verify (its checks are written with the ORM)."""
    home = ArchiveHome.at(home_path)
    engine = open_reader(home)
    session = session_factory(engine)()
    try:
        yield home, session
    finally:
        session.close()
        engine.dispose()


@contextmanager
def output_stream(path: str, *, binary: bool = False, bom: bool = False) -> Iterator[IO[Any]]:
    if path == "-":
        if binary:
            yield sys.stdout.buffer
        else:
            if bom:
                sys.stdout.buffer.write("\ufeff".encode())
            yield for_terminal(sys.stdout)
        return
    if binary:
        with open(path, "wb") as handle:
            yield handle
    else:
        with open(path, "w", encoding="utf-8-sig" if bom else "utf-8", newline="") as handle:
            yield handle


def csv_value(value: Any) -> Any:
    """Flatten a record's field for one CSV cell: lists of text joined, objects as JSON."""
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return "; ".join(value)
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False)
    return value


def write_records(
    records: Iterable[dict[str, Any]], fmt: str, handle: IO[str], fields: Iterable[str]
) -> int:
    count = 0
    columns = list(fields)
    if fmt == "csv":
        writer = csv.DictWriter(handle, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        for record in records:
            writer.writerow({k: csv_cell(csv_value(record.get(k))) for k in columns})
            count += 1
    else:
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
            count += 1
    return count


def print_table(rows: list[dict[str, Any]], columns: list[str], title: str | None = None) -> None:
    table = Table(title=title)
    for column in columns:
        # Fold rather than cut: a narrow terminal still shows whole times and digests.
        table.add_column(column, overflow="fold")
    for row in rows:
        # Text, not markup: an archived "[link=…]" is shown, never made a terminal link.
        table.add_row(*(Text(terminal_text(_cell_text(row.get(c)))) for c in columns))
    Console().print(table)


def _cell_text(value: Any) -> str:
    return "" if value is None else str(value)


def _restore_env(name: str, value: str | None) -> None:
    if value is None:
        os.environ.pop(name, None)
    else:
        os.environ[name] = value


LIST_FORMAT = click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "jsonl", "csv"]),
    default=None,
    help="Default: table on a terminal, jsonl otherwise.",
)


def list_format(fmt: str | None) -> str:
    """The asked format, else a table on a terminal and JSON Lines for scripts."""
    return fmt or ("table" if sys.stdout.isatty() else "jsonl")


def emit(rows: list[dict[str, Any]], columns: list[str], fmt: str | None, title: str) -> None:
    """Print a listing the same way in every verb: a table for people, JSON Lines or CSV
    (with every field) for scripts."""
    fmt = list_format(fmt)
    if fmt == "table":
        print_table(rows, columns, title=title)
        return
    if fmt == "csv":
        sys.stdout.write("\ufeff")  # UTF-8 BOM: Excel then reads the Chinese right
    write_records(rows, fmt, for_terminal(sys.stdout), list(rows[0]) if rows else columns)


# Exit codes shared with `crawl` (README): 1 failure, 2 site unreachable, 3 home in use,
# 4 usage. Click's own usage errors exit 2, which would read as "unreachable" to a monitor.
EXIT_USAGE = 4


class ArchiveGroup(click.Group):
    def main(self, *args: Any, **kwargs: Any) -> Any:
        kwargs["standalone_mode"] = False
        try:
            return super().main(*args, **kwargs)
        except click.UsageError as error:
            # One line, as every error here: the usage text is one --help away.
            verb = error.ctx.command_path if error.ctx else "chalco-archive"
            click.echo(f"Error: {error.format_message()} (see `{verb} --help`)", err=True)
            sys.exit(EXIT_USAGE)
        except click.ClickException as error:
            error.show()
            sys.exit(error.exit_code)
        except click.Abort:
            click.echo("aborted", err=True)
            sys.exit(1)


@click.group(cls=ArchiveGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="chalco-archive")
@click.option(
    "--db",
    metavar="URL",
    callback=lambda _ctx, _param, value: value and database_url(value),
    help=f"Database as an SQLAlchemy URL, e.g. postgresql+psycopg://host/chalco [env {DB_ENV}; "
    "default: the home's SQLite file].",
)
@click.pass_context
def main(ctx: click.Context, db: str | None) -> None:
    """Crawl and archive the news of Chalco (中国铝业) and the 中铝网站群.

    \b
    Quick start, offline:   chalco-archive demo
    Crawl the live site:    chalco-archive crawl --home ~/chalco
    """
    if db:
        # Every verb, and the crawl's own process, open the archive through ArchiveHome,
        # which reads the variable; it is put back when the command ends.
        previous = os.environ.get(DB_ENV)
        os.environ[DB_ENV] = db
        ctx.call_on_close(lambda: _restore_env(DB_ENV, previous))


@main.command(context_settings={"ignore_unknown_options": False})
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
    "--workers-redis",
    metavar="URL",
    help="Crawl as one worker of a fleet sharing this Redis (needs --db postgresql…).",
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

    Exit codes: 0 ok, 1 partial (some URLs failed), 2 site unreachable, 3 home in use,
    4 usage error, 5 the home cannot be written, 6 the site answered with challenge pages,
    130/143 stopped by SIGINT/SIGTERM (the run is interrupted; the next crawl resumes).
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
    for option, value in (
        ("--workers-redis", workers_redis),
        ("--fleet", fleet),
        ("--worker", worker),
    ):
        if value:
            command += [option, value]
    exec_python_module("chalco_crawler.run", command)


@main.command()
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


@main.command()
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
        with reading(home) as (_home, session):
            count = write_parquet(iter_articles(session, **filters), Path(output))
    else:
        with reading(home) as (_home, session), output_stream(output, bom=(fmt == "csv")) as handle:
            count = write_records(iter_articles(session, **filters), fmt, handle, EXPORT_FIELDS)
    if output != "-":
        click.echo(f"exported {count} articles to {output}", err=True)


def database_url(value: str) -> str:
    try:
        make_url(value)
    except ArgumentError as error:
        raise click.BadParameter(
            f"{value!r} is not a database URL (e.g. postgresql+psycopg://host/chalco)"
        ) from error
    return value


def parse_time(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as error:
        raise click.BadParameter(f"{value!r} is not an ISO date or datetime") from error
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@main.command()
@click.argument("url")
@HOME_OPTION
@click.option("--at", "at", help="ISO datetime: the capture in effect then (naive = UTC).")
@click.option("--output", "-o", default="-", show_default=True, help="File, or - for stdout.")
@click.option("--headers", is_flag=True, help="Write the status line and headers first.")
@click.option(
    "--max-size",
    type=click.IntRange(min=0),
    help=f"Decode at most this many bytes [default {DEFAULT_MAX_DECODED}, the crawl's limit]; "
    "given, it also decodes a capture the crawl flagged oversize. 0: no limit.",
)
@one_line_errors
def snapshot(
    url: str, home: Path | None, at: str | None, output: str, headers: bool, max_size: int | None
) -> None:
    """Write a page exactly as it was received (payload after content decoding).

    A payload that decodes past --max-size (a decompression bomb) is not inflated: one line
    says so and where its bytes as received are, and the exit code is 1.

    \b
    Example:
      chalco-archive snapshot \\
        https://www.chalco.com.cn/xwdt/gsyw/202602/t20260204_163644.html -o page.html
    """
    with reading(home) as (archive_home, session):
        try:
            found = get_snapshot(session, archive_home, url, parse_time(at), max_size)
        except ContentOversize as error:
            hint = "" if max_size is not None else "; --max-size BYTES decodes it anyway"
            raise click.ClickException(f"{error}{hint}") from error
    # On a terminal the bytes as received would be acted on: their control bytes are shown.
    to_terminal = output == "-" and is_terminal(sys.stdout)
    with output_stream(output, binary=True) as handle:
        if headers:
            # As received: the status line and headers of this capture (a revisit's own), or
            # for a 304 those of the response whose body it confirmed.
            response = found.origin or found.response
            lines = [f"{response.protocol} {response.status_line}"]
            lines += [f"{name}: {value}" for name, value in response.headers]
            head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", "replace")
            handle.write(terminal_bytes(head) if to_terminal else head)
        handle.write(terminal_bytes(found.content) if to_terminal else found.content)
    if output != "-":
        click.echo(
            f"{len(found.content)} bytes, captured {found.capture.fetched_at.isoformat()}, "
            f"sha256 {found.capture.content_sha256}",
            err=True,
        )


@main.command()
@click.argument("url")
@HOME_OPTION
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@click.option("--version", "version", type=int, help="Show this version (default: the latest).")
@one_line_errors
def show(url: str, home: Path | None, fmt: str, version: int | None) -> None:
    """Show one archived article.

    \b
    Example:
      chalco-archive show https://www.chalco.com.cn/xwdt/gsyw/202602/t20260204_163644.html
    """
    with reading(home) as (_home, session):
        view = get_article(session, url, version)
        others = same_story(session, url)
    record = dict(view.record, same_story=others)
    if fmt == "json":
        echo(json.dumps(record, ensure_ascii=False, indent=2))
        return
    echo(record["title"] or "(no title)")
    echo(
        f"来源：{record['source'] or ''}  时间：{record['published'] or ''}"
        + (f"  作者：{record['author']}" if record["author"] else "")
    )
    echo(
        f"{record['url']}  [{', '.join(record['sections'])}]  "
        f"version {record['version']} of {len(view.versions)}, {record['status']}"
    )
    if view.problems:
        echo("flagged: " + "; ".join(view.problems))
    echo("")
    echo(record["body"] or "")
    for attachment in record["attachments"]:
        echo(f"附件 {attachment['name']}  {attachment['url']}  sha256 {attachment['sha256']}")
    for image in record["images"]:
        echo(f"图片 {image['url']}  sha256 {image['sha256']}")
    for other in others:
        how = "same docid" if other["same_docid"] else "same text"
        echo(f"same story on {other['site']} ({how}): {other['url']}")


@main.command()
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


@main.command()
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


@main.command()
@click.argument("url")
@HOME_OPTION
@LIST_FORMAT
@one_line_errors
def versions(url: str, home: Path | None, fmt: str | None) -> None:
    """List every version of an article with the captures behind it.

    \b
    Example:
      chalco-archive versions https://www.chalco.com.cn/xwdt/gsyw/202602/t20260204_163644.html
    """
    with reading(home) as (_home, session):
        rows = version_history(session, url)
    if list_format(fmt) == "table":
        for row in rows:
            row["captures"] = ", ".join(
                f"{c['fetched_at']} {c['status']} {c['record_type']}" for c in row["captures"]
            )
    columns = ["version", "cause", "content_sha256", "first_seen", "last_seen", "captures"]
    emit(rows, columns, fmt, url)


@main.command()
@click.argument("url")
@HOME_OPTION
@click.option("--from", "old", type=int, help="Older version number (default: the one before).")
@click.option("--to", "new", type=int, help="Newer version number (default: the latest).")
@one_line_errors
def diff(url: str, home: Path | None, old: int | None, new: int | None) -> None:
    """Show what changed in an article's text between two versions (a unified diff).

    \b
    Example:
      chalco-archive diff \\
        https://www.chalco.com.cn/xwdt/gsyw/202602/t20260204_163644.html --from 1 --to 2
    """
    with reading(home) as (_home, session):
        lines = diff_versions(session, url, old, new)
    if not lines:
        click.echo(
            "no difference in the text (is there more than one version? see `versions`)", err=True
        )
    for line in lines:
        echo(line)


@main.command(name="search")
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


@main.command()
@HOME_OPTION
@one_line_errors
def reindex(home: Path | None) -> None:
    """Rebuild the search index from every stored version (it is kept in step as versions
    are stored; this is for repairs and upgrades).

    \b
    Example:
      chalco-archive reindex
    """
    writer = ArchiveWriter(ArchiveHome.at(home))
    try:
        if writer.engine.dialect.name == "postgresql":
            count = reindex_postgresql(writer.connection)
        else:
            count = rebuild_index(writer.connection)
        writer.commit()
    finally:
        writer.close()
    click.echo(f"indexed {count} versions")


@main.command()
@click.argument("url")
@HOME_OPTION
@LIST_FORMAT
@one_line_errors
def captures(url: str, home: Path | None, fmt: str | None) -> None:
    """List every capture of a URL: time, status, digests and WARC location.

    \b
    Example:
      chalco-archive captures https://www.chalco.com.cn/xwdt/gsyw/202602/t20260204_163644.html
    """
    with reading(home) as (_home, session):
        rows = capture_list(session, url)
    if not rows:
        raise click.ClickException(f"no capture of {url}")
    columns = [
        "fetched_at",
        "status",
        "record_type",
        "content_sha256",
        "warc_file",
        "offset",
        "length",
    ]
    emit(rows, columns, fmt, url)


@main.command()
@HOME_OPTION
@click.option("--since", help="Audit only what was written after this ISO date or datetime.")
@click.option("--ledger-head", is_flag=True, help="Print the ledger's head hash and stop.")
@click.option(
    "--jobs",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Check this many WARC files at a time, each in a process of its own.",
)
@one_line_errors
def verify(home: Path | None, since: str | None, ledger_head: bool, jobs: int) -> None:
    """Audit the archive: WARC digests and framing, rows against records, every record
    indexed, the ledger's hash chain. Exits 1 on any problem.

    \b
    Example:
      chalco-archive verify
      chalco-archive verify --since 2026-11-01
      chalco-archive verify --jobs 4
      chalco-archive verify --ledger-head
    """
    with reading_session(home) as (archive_home, session):
        if ledger_head:
            click.echo(current_ledger_head(session))
            return
        console = Console(stderr=True)
        if console.is_terminal:
            from archive.evidence.verify_progress import (
                TerminalProgress,  # rich.progress: here only
            )

            with TerminalProgress(console) as progress:
                report = run_verify(session, archive_home, parse_time(since), progress, jobs)
        else:  # under cron: the verdict only
            report = run_verify(session, archive_home, parse_time(since), jobs=jobs)
    for problem in report.problems:
        echo(f"PROBLEM {problem.line()}")
    for note in report.notes:
        echo(f"note: {note}", err=True)
    verdict = "ok" if report.ok else f"{len(report.problems)} problem(s)"
    click.echo(
        f"{verdict}: {report.files} WARC file(s) ({report.bytes_read / 1e6:.1f} MB), "
        f"{report.records} records, {report.captures} captures, "
        f"{report.ledger_entries} ledger entries; ledger head {report.ledger_head}"
    )
    if not report.ok:
        sys.exit(1)


@main.command(name="migrate-db")
@HOME_OPTION
@click.option(
    "--to",
    "target",
    required=True,
    metavar="URL",
    callback=lambda _ctx, _param, value: database_url(value),
    help="The database to copy into, e.g. postgresql+psycopg://host/chalco (empty).",
)
@one_line_errors
def migrate_db(home: Path | None, target: str) -> None:
    """Copy the home's SQLite archive into another database, rows and WARC index, ids kept.

    The WARC files stay in the home; afterwards use the archive with `--db URL`.

    \b
    Example:
      chalco-archive migrate-db --to postgresql+psycopg://archivist@dbhost/chalco
      chalco-archive --db postgresql+psycopg://archivist@dbhost/chalco verify
    """
    source = ArchiveHome.at(home, f"sqlite:///{ArchiveHome.at(home).database_path}")
    report = migrate_database(source, target)
    total = sum(report.rows.values())
    details = ", ".join(f"{count} {name}" for name, count in report.rows.items() if count)
    click.echo(f"copied {total} rows to {target}: {details}")
    click.echo(
        f"the archive is now {report.target}: pass --db or set CHALCO_ARCHIVE_DB; commands"
        f" without them refuse this home's old SQLite file ({source.moved_marker.name})"
    )


@main.command()
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
    emit(
        rows,
        ["name", "title", "base_url", "news_roots", "extra_sections", "profile"],
        fmt,
        "site profiles",
    )


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--articles", default=60, show_default=True, type=int)
@click.option("--page-size", default=5, show_default=True, type=int)
def replica(host: str, port: int, articles: int, page_size: int) -> None:
    """Serve the local replica of the site (for tests and offline trials).

    \b
    Example:
      chalco-archive replica --port 8000 --articles 2000 --page-size 20
    """
    exec_python_module(
        "replica",
        [
            "--host",
            host,
            "--port",
            str(port),
            "--articles",
            str(articles),
            "--page-size",
            str(page_size),
        ],
    )


@main.command()
@click.option(
    "--home",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where to put the demo archive (default: a new temporary directory).",
)
def demo(home: Path | None) -> None:
    """Start the replica on a free port, crawl it into a fresh home, say what to try next.

    \b
    Example:
      chalco-archive demo
    """
    from replica.server import ReplicaServer  # the demo's own server, not needed elsewhere
    from replica.site.build import build_site

    target = home or Path(tempfile.mkdtemp(prefix="chalco-demo-"))
    with ReplicaServer(build_site()) as server:
        click.echo(f"replica serving at {server.base_url}", err=True)
        code = subprocess.call(
            [
                sys.executable,
                "-m",
                "chalco_crawler.run",
                "--home",
                str(target),
                "--base-url",
                server.base_url,
                "-s",
                "DOWNLOAD_DELAY=0",
                "-s",
                "AUTOTHROTTLE_ENABLED=False",
            ],
            env=dict(os.environ),
        )
    sample = server.base_url + "xwdt/gsyw/202602/t20260204_163644.html"
    click.echo(f"""
The demo archive is in {target} (the one failure above is the replica's deliberate 404).
Try:
  export {HOME_ENV}={target}
  chalco-archive stats
  chalco-archive show {sample}
  chalco-archive search 中铝 --since 2026-01
  chalco-archive export --format csv --output demo.csv
  chalco-archive snapshot {sample} --output page.html
  chalco-archive verify
  chalco-archive report --output demo.html
  chalco-archive browse          (datasette on http://127.0.0.1:8001/)
""")

    # The replica holds a deliberate 404, so "partial" is the expected outcome of the demo.
    # A crawl stopped by a signal ended by it: exit as a shell would report it (130, 143).
    sys.exit(0 if code in (0, 1) else 128 - code if code < 0 else code)


main.add_command(package_command())
main.add_command(browse)
main.add_command(report_command)
main.add_command(reextract)

if __name__ == "__main__":
    main()
