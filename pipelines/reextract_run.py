"""Run `reextract` over an archive home: progress on a terminal, a summary and an exit code.

`chalco-archive reextract` runs this module in its own process (`python -m
pipelines.reextract_run`), which keeps the archive package free of the extraction code.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from types import FrameType
from typing import Any, NoReturn

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from archive.errors import ArchiveError, ArchiveLocked, ArchiveMoved, StorageFailed
from archive.store.db import open_reader
from archive.store.home import ArchiveHome
from archive.store.tables import ARTICLES
from archive.store.writer import ArchiveWriter
from chalco_crawler.profile import PROFILE_DIR_NAME, SiteProfile, load_profile
from pipelines.reextract import CHUNK, FIELDS, ReextractSummary, reextract

# Exit codes, as `crawl`'s where they mean the same (README).
EXIT_OK = 0
EXIT_FAILED = 1
EXIT_LOCKED = 3
EXIT_USAGE = 4
EXIT_STORAGE = 5


class UsageError(Exception):
    """A wrong option or an archive this run cannot read (one line, exit 4)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = _Parser(prog="chalco-archive reextract", description=__doc__)
    parser.add_argument("--home", help="archive home directory")
    parser.add_argument(
        "--site",
        action="append",
        default=[],
        help="only this site's articles, read with this profile (name or TOML file; repeatable)",
    )
    parser.add_argument(
        "--since", help="only pages captured at or after this ISO date or datetime (naive: UTC)"
    )
    parser.add_argument("--dry-run", action="store_true", help="count what would change")
    parser.add_argument("--examples", type=int, default=3, help="examples per field (dry run)")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.add_argument(
        "--batch", type=int, default=CHUNK, help="pages compared and written per transaction"
    )
    return parser.parse_args(argv)


def parse_since(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as error:
        raise UsageError(f"--since takes an ISO date or datetime, not {value!r}") from error
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def archived_sites(home: ArchiveHome) -> dict[str, int]:
    """Site → how many articles the archive holds of it."""
    engine = open_reader(home)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                select(ARTICLES.c.site, func.count()).group_by(ARTICLES.c.site)
            ).all()
    finally:
        engine.dispose()
    return {site: count for site, count in sorted(rows)}


def choose_profiles(home: ArchiveHome, names: list[str]) -> dict[str, SiteProfile]:
    """Site → the profile its pages are read with: the ones named (by name or file), else
    each archived site's own (HOME/sites first, then the bundled ones)."""
    directories = [str(home.root / PROFILE_DIR_NAME)]
    sites = archived_sites(home)
    chosen: dict[str, SiteProfile] = {}
    try:
        for name in names:
            profile = load_profile(name, directories)
            chosen[profile.name] = profile
        if names:
            return chosen
        for site in sites:
            chosen[site] = load_profile(site, directories)
    except LookupError as error:
        raise UsageError(
            f"{error.args[0]}; archived sites: {', '.join(sites) or 'none'}"
            f" (give --site with a profile name or a .toml file)"
        ) from error
    except ValueError as error:
        raise UsageError(str(error)) from error
    return chosen


class Stopper:
    """SIGINT or SIGTERM: finish the page in hand, commit, and stop; a second one stops at
    once (the uncommitted batch is undone, and the next run writes it)."""

    def __init__(self) -> None:
        self.asked = False
        self._previous = {
            sig: signal.signal(sig, self._handle) for sig in (signal.SIGINT, signal.SIGTERM)
        }

    def _handle(self, signum: int, _frame: FrameType | None) -> None:
        if self.asked:
            raise KeyboardInterrupt
        self.asked = True

    def __call__(self) -> bool:
        return self.asked

    def restore(self) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)


def run(
    home: ArchiveHome,
    profiles: dict[str, SiteProfile],
    args: argparse.Namespace,
    errors: Console,
    stopper: Stopper,
) -> ReextractSummary:
    since = parse_since(args.since)
    bar = Progress(
        TextColumn("re-extracting"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("· {task.fields[changed]} changed · {task.fields[failed]} failed"),
        TimeRemainingColumn(),
        console=errors,
        disable=not errors.is_terminal,
    )
    task = bar.add_task("pages", total=None, changed=0, failed=0)

    def progress(done: int, total: int, summary: ReextractSummary) -> None:
        if done % 50 == 0 or done == total:
            changed, failed = summary.changed, len(summary.failures)
            bar.update(task, completed=done, total=total, changed=changed, failed=failed)

    with bar:
        if args.dry_run:
            engine = open_reader(home)
            try:
                with engine.connect() as connection:
                    return reextract(
                        home,
                        connection,
                        profiles,
                        since=since,
                        examples=args.examples,
                        batch=max(1, args.batch),
                        progress=progress,
                        stop=stopper,
                    )
            finally:
                engine.dispose()
        writer = ArchiveWriter(home)
        finished = False
        try:
            summary = reextract(
                home,
                writer.connection,
                profiles,
                writer=writer,
                since=since,
                examples=args.examples,
                batch=max(1, args.batch),
                progress=progress,
                stop=stopper,
            )
            finished = True
            return summary
        finally:
            if not finished and writer.failed is None:
                # Stopped mid-write: the batch may hold half a version; undo it, not commit.
                writer.failed = "stopped"
            writer.close()


def print_summary(
    summary: ReextractSummary, console: Console, home: ArchiveHome, stopped: bool
) -> None:
    fields = ", ".join(f"{name} {summary.fields[name]}" for name in FIELDS if summary.fields[name])
    if summary.dry_run:
        console.print(
            f"dry run: {summary.changed} of {summary.considered} articles would get a new"
            f" version (cause reextract); {summary.read} pages read, {summary.known} already"
            f" read by this extraction, {len(summary.failures)} failed; nothing written"
            f" in {home.root}",
            markup=False,
        )
        if summary.changed:
            table = Table(title="fields that would change")
            table.add_column("field")
            table.add_column("articles", justify="right")
            for name in FIELDS:
                if summary.fields[name]:
                    table.add_row(name, str(summary.fields[name]))
            console.print(table)
            for name in FIELDS:
                for example in summary.examples.get(name, []):
                    where = f" line {example['line']}" if "line" in example else ""
                    console.print(f"{name}{where}: {example['url']}", markup=False)
                    console.print(f"  - {example['old']}", markup=False)
                    console.print(f"  + {example['new']}", markup=False)
    else:
        console.print(
            f"{'stopped' if stopped else 'ok' if not summary.failures else 'partial'}:"
            f" reextract, {summary.written} new versions (cause reextract) of"
            f" {summary.considered} articles; {summary.read} pages read, {summary.known}"
            f" already read by this extraction, {len(summary.failures)} failed"
            f" ({summary.seconds:.1f} s) in {home.root}",
            markup=False,
        )
        if fields:
            console.print(f"  fields changed: {fields}", markup=False)
        if stopped:
            console.print(
                "  stopped by a signal: what was written is committed; run it again to go on",
                markup=False,
            )
    if summary.new_files:
        console.print(
            f"  {len(summary.new_files)} attachments or images named now were never fetched"
            f" (reextract reads no network): `crawl --full` fetches them",
            markup=False,
        )
    for failure in summary.failures:
        console.print(f"  failed {failure['url']}: {failure['reason']}", markup=False)


def main(argv: Sequence[str] | None = None) -> int:
    console = Console(highlight=False, soft_wrap=True)
    errors = Console(stderr=True, highlight=False, soft_wrap=True)
    stopper = Stopper()
    try:
        args = parse_args(argv)
        home = ArchiveHome.at(args.home)
        profiles = choose_profiles(home, args.site)
        summary = run(home, profiles, args, errors, stopper)
    except UsageError as error:
        errors.print(f"Error: {error}", markup=False)
        return EXIT_USAGE
    except ArchiveLocked as error:
        errors.print(f"Error: {error}", markup=False)
        return EXIT_LOCKED
    except ArchiveMoved as error:
        errors.print(f"Error: {error}", markup=False)
        return EXIT_USAGE
    except StorageFailed as error:
        errors.print(f"Error: {error}", markup=False)
        return EXIT_STORAGE
    except ArchiveError as error:
        errors.print(f"Error: {error}", markup=False)
        return EXIT_FAILED
    except OSError as error:
        errors.print(f"Error: cannot use the archive: {error}", markup=False)
        return EXIT_STORAGE
    except SQLAlchemyError as error:
        reason = str(getattr(error, "orig", None) or error).splitlines()[0]
        errors.print(f"Error: cannot use the database: {reason}", markup=False)
        return EXIT_FAILED
    except KeyboardInterrupt:
        errors.print("stopped at once: the uncommitted batch was undone", markup=False)
        return EXIT_FAILED
    finally:
        stopper.restore()
    if args.json:
        record: dict[str, Any] = summary.as_dict()
        record["stopped"] = stopper.asked
        console.print_json(json.dumps(record, ensure_ascii=False))
    else:
        print_summary(summary, console, home, stopper.asked)
    return EXIT_FAILED if summary.failures or stopper.asked else EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
