"""The verbs that stand behind the archive as evidence: `verify` (the audit, the ledger's
head) and `package` (articles as a WACZ file to hand over)."""

from __future__ import annotations

import sys
from datetime import date, timedelta
from pathlib import Path

import click
from rich.console import Console

from archive.cli.shared import HOME_OPTION, one_line_errors, parse_time, reading_session
from archive.evidence.package import build_package
from archive.evidence.verify import ledger_head as current_ledger_head
from archive.evidence.verify import verify as run_verify
from archive.safe_text import echo


@click.command()
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


def _is_date(value: str) -> bool:
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


@click.command("package")
@HOME_OPTION
@click.option("--url", "urls", multiple=True, help="Article URL (repeatable).")
@click.option("--since", help="Versions first seen at or after this ISO date or datetime.")
@click.option("--until", help="…and before this one; a date includes that day. Naive = UTC.")
@click.option(
    "--output",
    "-o",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The .wacz file to write.",
)
@click.option("--title", help="The package's title (datapackage.json and the page list).")
@one_line_errors
def package(
    home: Path | None,
    urls: tuple[str, ...],
    since: str | None,
    until: str | None,
    output: Path,
    title: str | None,
) -> None:
    """Package articles as a WACZ file (pages, attachments, images) to hand over or replay.

    The records are copied byte for byte from the archive's WARC files. With --url: the
    newest capture of each article and the files its latest version names. With
    --since/--until: every article version first seen in that window, with its files.
    Open the file in ReplayWeb.page, or add it to a pywb collection.

    \b
    Example:
      chalco-archive package --output notice.wacz \\
        --url https://www.chalco.com.cn/tzzgx/thygg/202601/t20260116_163031.html
      chalco-archive package --since 2026-01-01 --until 2026-01-31 -o january.wacz
    """
    if not urls and since is None and until is None:
        raise click.UsageError("name the articles (--url) or a time window (--since/--until)")
    end = parse_time(until)
    if until is not None and end is not None and _is_date(until):
        end += timedelta(days=1)
    with reading_session(home) as (archive_home, session):
        summary = build_package(
            session,
            archive_home,
            output,
            urls=list(urls) or None,
            since=parse_time(since),
            until=end,
            title=title,
        )
    for url in summary.missing:
        echo(f"note: never fetched, not in the package: {url}", err=True)
    for url in summary.oversize:
        echo(
            f"note: oversize (decodes past the crawl's size limit), packaged as received,"
            f" never inflated: {url}",
            err=True,
        )
    click.echo(
        f"{summary.pages} pages, {summary.records} records, {summary.bytes} bytes "
        f"to {summary.output}; sha256 {summary.sha256}"
    )
