"""The verbs that show what the archive holds of one URL: `show` (the article), `versions`
and `diff` (how it changed), `captures` and `snapshot` (each fetch, and its bytes)."""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

import click

from archive.cli.shared import (
    HOME_OPTION,
    LIST_FORMAT,
    emit,
    list_format,
    one_line_errors,
    output_stream,
    parse_time,
    reading,
)
from archive.cli.tables import Column
from archive.errors import ContentOversize
from archive.read.articles import get_article
from archive.read.captures import captures as capture_list
from archive.read.captures import get_snapshot
from archive.read.versions import diff_versions, same_story, version_history
from archive.safe_text import echo, is_terminal, terminal_bytes
from archive.store.decoding import DEFAULT_MAX_DECODED


@click.command()
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


@click.command()
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
    columns: list[str | Column] = [
        "version",
        "cause",
        "content_sha256",
        "first_seen",
        "last_seen",
        "captures",
    ]
    if list_format(fmt) == "table":
        # The captures' times are `captures URL`'s to show whole: here, how many and what.
        for row in rows:
            kinds = Counter(f"{c['status']} {c['record_type']}" for c in row["captures"])
            row["captures"] = ", ".join(f"{count} × {kind}" for kind, count in kinds.items())
        columns = [
            Column("version", "number"),
            Column("cause", "label"),
            Column("content_sha256", "id"),
            Column("first_seen", "time"),
            Column("last_seen", "time"),
            Column("captures", "prose"),
        ]
    emit(rows, columns, fmt, url)


@click.command()
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


@click.command()
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
        Column("fetched_at", "time"),
        Column("status", "number"),
        Column("record_type", "label"),
        Column("content_sha256", "id"),
        Column("warc_file", "id"),
        Column("offset", "number"),
        Column("length", "number"),
    ]
    emit(rows, columns, fmt, url)


@click.command()
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
    says so and where its bytes as received are, and the exit code is 1. A capture whose
    record was lost and replaced by `repair` is served from its replacement, with a note
    saying the original capture was lost.

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
    if found.lost is not None:
        lost = found.lost
        echo(
            f"note: the original capture of {url} ({lost.lost_fetched_at.isoformat()}) was"
            f" lost ({lost.found}); this is its replacement, fetched again from the site on"
            f" {found.capture.fetched_at.isoformat()} by repair",
            err=True,
        )
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
