"""The `chalco-archive` command: the group, its --db option, and the registry of its verbs.

Each verb lives in a module of its own group (crawling, records, listings, search, exports,
evidence, maintenance, offline, reextract; report and browse in archive.read), imported only
when the verb runs, so `--help` and `--version` answer at once. Errors reach the user as one
line on stderr with a non-zero exit code (archive.cli.group).
"""

from __future__ import annotations

import os

import click

from archive.cli.group import ArchiveGroup, Verb
from archive.cli.shared import database_url
from archive.store.home import DB_ENV

# name -> where its command is, and the one line `--help` shows (the command's own short
# help, kept here so listing the verbs imports none; tests/test_startup.py keeps them equal).
VERBS: dict[str, Verb] = {
    "attest": Verb(
        "archive.cli.evidence",
        "attest",
        "Record the ledger's tree head as it stands and timestamp it now (RFC 3161).",
    ),
    "browse": Verb(
        "archive.read.browse",
        "browse",
        "Open the archive in datasette, read-only, until Ctrl-C: the tables and the analysts'"
        " views (latest_articles …) with their column descriptions, and a `search` query for"
        " exact substrings of titles and bodies.",
    ),
    "captures": Verb(
        "archive.cli.records",
        "captures",
        "List every capture of a URL: time, status, digests and WARC location.",
    ),
    "check-package": Verb(
        "archive.cli.evidence",
        "check_package",
        "Check a package offline, with no archive at hand: every record's digests and"
        " inclusion proof, the tree heads, their timestamp tokens against the trusted CAs, the"
        " signature.",
    ),
    "crawl": Verb("archive.cli.crawling", "crawl", "Crawl the news sections into the archive."),
    "demo": Verb(
        "archive.cli.offline",
        "demo",
        "Start the replica on a free port, crawl it into a fresh home, say what to try next.",
    ),
    "diff": Verb(
        "archive.cli.records",
        "diff",
        "Show what changed in an article's text between two versions (a unified diff).",
    ),
    "export": Verb(
        "archive.cli.exports",
        "export",
        "Export every article's latest version (JSON Lines, CSV for Excel, or Parquet).",
    ),
    "migrate-db": Verb(
        "archive.cli.maintenance",
        "migrate_db",
        "Copy the home's SQLite archive into another database, rows and WARC index, ids kept.",
    ),
    "package": Verb(
        "archive.cli.evidence",
        "package",
        "Package articles as a WACZ file (pages, attachments, images) to hand over or replay.",
    ),
    "probe": Verb(
        "archive.cli.crawling",
        "probe",
        "Check that a site profile still fits the site, before a crawl: a polite dry run.",
    ),
    "reextract": Verb(
        "archive.cli.reextract",
        "reextract",
        "Read the archived pages again with the current extraction and site profile; an article"
        " whose fields come out otherwise gets a new version (cause reextract).",
    ),
    "reindex": Verb(
        "archive.cli.maintenance",
        "reindex",
        "Rebuild the search index from every stored version (it is kept in step as versions"
        " are stored; this is for repairs and upgrades).",
    ),
    "repair": Verb(
        "archive.cli.repair",
        "repair",
        "Fetch again from the site every capture whose WARC record verify finds missing or"
        " damaged, store it whole, and put the loss on record (a ledger entry naming the lost"
        " record and its replacement).",
    ),
    "replica": Verb(
        "archive.cli.offline",
        "replica",
        "Serve the local replica of the site (for tests and offline trials).",
    ),
    "report": Verb(
        "archive.read.report",
        "report",
        "Write a self-contained HTML report: charts of articles per month and section, top"
        " sources, attachments, and the most recent articles.",
    ),
    "runs": Verb(
        "archive.cli.listings", "runs", "List crawl runs: mode, times, counts and exit status."
    ),
    "seal": Verb(
        "archive.cli.evidence",
        "seal",
        "Seal the WARC files closed before seals existed, so that verify checks them by their"
        " SHA-256 instead of reading every record.",
    ),
    "search": Verb(
        "archive.cli.search",
        "search_command",
        "Find the articles whose title or body contains every word of QUERY, exactly as typed"
        " (any length: 铝 and 中铝 work); ranked, title matches first.",
    ),
    "show": Verb("archive.cli.records", "show", "Show one archived article."),
    "sites": Verb(
        "archive.cli.crawling",
        "sites",
        "List the site profiles a crawl can name: bundled ones and the home's own (HOME/sites).",
    ),
    "snapshot": Verb(
        "archive.cli.records",
        "snapshot",
        "Write a page exactly as it was received (payload after content decoding).",
    ),
    "stats": Verb(
        "archive.cli.listings",
        "stats",
        "Count articles per section and month of publication.",
    ),
    "verify": Verb(
        "archive.cli.evidence",
        "verify",
        "Audit the archive: WARC digests and framing, rows against records, every record"
        " indexed, the ledger's hash chain and Merkle tree against every tree head and its"
        " timestamp token.",
    ),
    "versions": Verb(
        "archive.cli.records",
        "versions",
        "List every version of an article with the captures behind it.",
    ),
}


def _restore_env(name: str, value: str | None) -> None:
    if value is None:
        os.environ.pop(name, None)
    else:
        os.environ[name] = value


@click.group(
    cls=ArchiveGroup, verbs=VERBS, context_settings={"help_option_names": ["-h", "--help"]}
)
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
    Examples:
      chalco-archive demo                    # offline: the replica, crawled
      chalco-archive crawl --home ~/chalco   # the live site
      chalco-archive VERB --help             # a verb's options and examples
    """
    if db:
        # Every verb, and the crawl's own process, open the archive through ArchiveHome,
        # which reads the variable; it is put back when the command ends.
        previous = os.environ.get(DB_ENV)
        os.environ[DB_ENV] = db
        ctx.call_on_close(lambda: _restore_env(DB_ENV, previous))


if __name__ == "__main__":
    main()
