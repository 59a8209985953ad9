"""The verbs that stand behind the archive as evidence: `verify` (the audit, the ledger's
head) and `package` (articles as a WACZ file to hand over)."""

from __future__ import annotations

import sys
from contextlib import nullcontext
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import click

from archive.cli.shared import (
    HOME_OPTION,
    one_line_errors,
    parse_time,
    reading,
    reading_session,
)
from archive.evidence.findings import VerifyReport
from archive.safe_text import echo

HEX = frozenset("0123456789abcdef")
TSA_CA_OPTION = click.option(
    "--tsa-ca",
    envvar="CHALCO_TSA_CA_BUNDLE",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="PEM file of the CAs timestamp tokens must chain to [env CHALCO_TSA_CA_BUNDLE].",
)


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
@click.option(
    "--known-head",
    "known_heads",
    multiple=True,
    metavar="SIZE:ROOT",
    help="A tree head held elsewhere (published, or from a package): the ledger must match it.",
)
@click.option(
    "--deep",
    is_flag=True,
    help="Read every record again, sealed files too: slower, and checks how each record was"
    " made, not only that it is unchanged since.",
)
@TSA_CA_OPTION
@one_line_errors
def verify(
    home: Path | None,
    since: str | None,
    ledger_head: bool,
    jobs: int,
    known_heads: tuple[str, ...],
    deep: bool,
    tsa_ca: Path | None,
) -> None:
    """Audit the archive: WARC digests and framing, rows against records, every record
    indexed, the ledger's hash chain and Merkle tree against every tree head and its
    timestamp token. Exits 1 on any problem. A file sealed when it was closed is checked
    by its SHA-256 and its seal; `--deep` reads its records again all the same.

    \b
    Example:
      chalco-archive verify
      chalco-archive verify --since 2026-11-01
      chalco-archive verify --jobs 4
      chalco-archive verify --deep
      chalco-archive verify --ledger-head
      chalco-archive verify --tsa-ca tsa-ca.pem --known-head 10364:5f0c…
    """
    from archive.evidence.verify import ledger_head as current_ledger_head
    from archive.evidence.verify import verify as run_verify

    heads = [_known_head(value) for value in known_heads]
    # Plain sqlite3 on SQLite: verify loads no SQLAlchemy there (archive.evidence.raw_rows).
    with reading(home) as (archive_home, session):
        if ledger_head:
            click.echo(current_ledger_head(session))
            return
        # rich only where a terminal may show progress (it costs a tenth of a second).
        console = None
        if sys.stderr.isatty():
            from rich.console import Console

            console = Console(stderr=True)
        showing: Any = nullcontext(None)  # under cron: the verdict only
        if console is not None and console.is_terminal:
            from archive.evidence.verify_progress import (
                TerminalProgress,  # rich.progress: here only
            )

            showing = TerminalProgress(console)
        with showing as progress:
            report = run_verify(
                session,
                archive_home,
                parse_time(since),
                progress,
                jobs,
                known_heads=heads,
                ca_bundle=tsa_ca,
                deep=deep,
            )
    for problem in report.problems:
        echo(f"PROBLEM {problem.line()}")
    for note in report.notes:
        echo(f"note: {note}", err=True)
    verdict = "ok" if report.ok else f"{len(report.problems)} problem(s)"
    sealed = report.files_checked_by_seal
    by_seal = f", {sealed} by its seal" if sealed == 1 else f", {sealed} by their seals"
    click.echo(
        f"{verdict}: {report.files} WARC file(s) ({report.bytes_read / 1e6:.1f} MB"
        f"{by_seal if sealed else ''}), "
        f"{report.records} records, {report.captures} captures, "
        f"{report.ledger_entries} ledger entries; ledger head {report.ledger_head};"
        f" tree size {report.tree_size} root {report.tree_root}, {report.tree_heads} tree"
        f" head(s), {report.timestamped_heads} timestamped{_proven(report)}"
    )
    if not report.ok:
        sys.exit(1)


def _proven(report: VerifyReport) -> str:
    if report.proven_at is None:
        return ""
    return f" (the first {report.proven_size} entries proven by {report.proven_at.isoformat()})"


def _known_head(value: str) -> tuple[int, str]:
    size, _, root = value.partition(":")
    if not size.isdigit() or len(root) != 64 or not all(c in HEX for c in root.lower()):
        raise click.BadParameter(f"{value!r}: a head is SIZE:ROOT (the root: 64 hex digits)")
    return int(size), root.lower()


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
@click.option(
    "--signing-key",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="EC P-256 private key (PEM) to sign with; default: a key made for this package.",
)
@click.option(
    "--signing-cert",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="With --signing-key: its certificate chain (PEM), to sign as its domain.",
)
@one_line_errors
def package(
    home: Path | None,
    urls: tuple[str, ...],
    since: str | None,
    until: str | None,
    output: Path,
    title: str | None,
    signing_key: Path | None,
    signing_cert: Path | None,
) -> None:
    """Package articles as a WACZ file (pages, attachments, images) to hand over or replay.

    The records are copied byte for byte from the archive's WARC files. With --url: the
    newest capture of each article and the files its latest version names. With
    --since/--until: every article version first seen in that window, with its files.
    Open the file in ReplayWeb.page, or add it to a pywb collection. Every record comes
    with its ledger entry and inclusion proof against a timestamped tree head, and the
    package is signed (WACZ signing spec): `check-package` checks it with no archive.

    \b
    Example:
      chalco-archive package --output notice.wacz \\
        --url https://www.chalco.com.cn/tzzgx/thygg/202601/t20260116_163031.html
      chalco-archive package --since 2026-01-01 --until 2026-01-31 -o january.wacz
    """
    if not urls and since is None and until is None:
        raise click.UsageError("name the articles (--url) or a time window (--since/--until)")
    if signing_cert is not None and signing_key is None:
        raise click.UsageError("--signing-cert needs its --signing-key")
    from archive.evidence.package import build_package
    from archive.evidence.package_signing import load_signer

    signer = load_signer(signing_key, signing_cert) if signing_key is not None else None
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
            signer=signer,
        )
    for url in summary.missing:
        echo(f"note: never fetched, not in the package: {url}", err=True)
    for url in summary.oversize:
        echo(
            f"note: oversize (decodes past the crawl's size limit), packaged as received,"
            f" never inflated: {url}",
            err=True,
        )
    if summary.untimestamped:
        echo(
            f"note: {summary.untimestamped} of the {summary.heads} tree head(s) its proofs lead"
            " to have no timestamp token: run `chalco-archive attest` first to prove when",
            err=True,
        )
    click.echo(
        f"{summary.pages} pages, {summary.records} records, {summary.bytes} bytes "
        f"to {summary.output}; sha256 {summary.sha256}; signed by key {summary.signer}"
    )


@click.command()
@HOME_OPTION
@click.option(
    "--tsa-url",
    envvar="CHALCO_TSA_URL",
    help="The RFC 3161 time-stamping authority [env CHALCO_TSA_URL].",
)
@TSA_CA_OPTION
@one_line_errors
def attest(home: Path | None, tsa_url: str | None, tsa_ca: Path | None) -> None:
    """Record the ledger's tree head as it stands and timestamp it now (RFC 3161).

    A crawl does the same at its end when TSA_URL is set; this is for an archive whose last
    run could not reach the authority, or before handing over a package. Exits 1 when the
    authority cannot be reached or its token does not hold.

    \b
    Example:
      chalco-archive attest --tsa-url https://tsa.example/tsr --tsa-ca tsa-ca.pem
      CHALCO_TSA_URL=https://tsa.example/tsr chalco-archive attest
    """
    from archive.evidence.timestamps import TsaConfig, timestamp_head
    from archive.store.home import ArchiveHome, require_archive
    from archive.store.writer import ArchiveWriter

    config = TsaConfig.from_values(tsa_url, tsa_ca)
    if config is None:
        raise click.UsageError("name the authority: --tsa-url URL or CHALCO_TSA_URL")
    archive_home = ArchiveHome.at(home)
    require_archive(archive_home)
    writer = ArchiveWriter(archive_home)
    try:
        head = writer.record_tree_head()
        said = "timestamped" if head.token is None else "already timestamped"
        proven_at = timestamp_head(writer, head, config)
        assert proven_at is not None
    finally:
        writer.close()
    click.echo(
        f"tree head {head.id}: size {head.tree_size}, root {head.root_hash}; {said}, the"
        f" entries under it proven by {proven_at.isoformat()}"
    )


@click.command()
@HOME_OPTION
@one_line_errors
def seal(home: Path | None) -> None:
    """Seal the WARC files closed before seals existed, so that verify checks them by their
    SHA-256 instead of reading every record.

    Each file is read once, as a crawl reads a file it closes, and sealed only when its
    bytes are still those recorded when it was closed and every record in it checks out; a
    file that is not is named and left as it is (verify reads it record by record). Safe to
    run again: sealed files are not read. Exits 1 when a file is missing or damaged beyond
    the losses `repair` put on record.

    \b
    Example:
      chalco-archive seal
    """
    from archive.store.home import ArchiveHome, require_archive
    from archive.store.writer import ArchiveWriter

    archive_home = ArchiveHome.at(home)
    require_archive(archive_home)

    def told(outcome: Any) -> None:
        if outcome.damaged:
            echo(f"PROBLEM not sealed: {outcome.name}: {outcome.unsealed_because}")
        elif outcome.unsealed_because is not None:
            echo(f"note: not sealed: {outcome.name}: {outcome.unsealed_because}", err=True)
        else:
            echo(f"sealed {outcome.name} ({outcome.size / 1e6:.1f} MB)", err=True)

    writer = ArchiveWriter(archive_home)
    try:
        outcomes = writer.seal_closed_files(told)
        if any(outcome.unsealed_because is None for outcome in outcomes):
            writer.record_tree_head()  # the seals' entries under a head of their own
    finally:
        writer.close()
    sealed = sum(outcome.unsealed_because is None for outcome in outcomes)
    damaged = sum(outcome.damaged for outcome in outcomes)
    left = len(outcomes) - sealed
    click.echo(f"{'ok' if not damaged else 'not all sealed'}: {sealed} file(s) sealed, {left} not")
    if damaged:
        sys.exit(1)


@click.command("check-package")
@click.argument("wacz", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@TSA_CA_OPTION
@click.option(
    "--signer-key",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="The public key (or certificate, PEM) the package must be signed by.",
)
@one_line_errors
def check_package(wacz: Path, tsa_ca: Path | None, signer_key: Path | None) -> None:
    """Check a package offline, with no archive at hand: every record's digests and
    inclusion proof, the tree heads, their timestamp tokens against the trusted CAs, the
    signature.

    One line per finding; exits 0 only when all hold, 1 otherwise.

    \b
    Example:
      chalco-archive check-package notice.wacz --tsa-ca tsa-ca.pem
      chalco-archive check-package notice.wacz --tsa-ca tsa-ca.pem --signer-key archive.pub
    """
    from archive.evidence.package_check import check_package as run_check
    from archive.evidence.package_signing import load_public_key

    trusted = load_public_key(signer_key) if signer_key is not None else None
    report = run_check(wacz, tsa_ca, trusted)
    for line in report.lines:
        echo(line)
    for note in report.notes:
        echo(f"note: {note}", err=True)
    verdict = "ok" if report.holds else f"{report.problems} problem(s)"
    click.echo(
        f"{verdict}: {report.proven} of {report.records} records proven; signed by"
        f" {report.signer or 'nobody'}"
    )
    if not report.holds:
        sys.exit(1)
