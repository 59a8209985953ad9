"""The models' tables as SQLAlchemy Core `Table`s, for code that writes or reads with Core.

The writer uses Core on one connection: the ORM's unit of work cost more than the crawl
itself on large runs (see BENCHMARKS.md).
"""

from __future__ import annotations

from sqlalchemy import Table

from archive.store.models import (
    Article,
    ArticleVersion,
    Capture,
    CaptureLoss,
    CrawlRun,
    File,
    FleetFrontierEntry,
    FleetRun,
    LedgerEntry,
    LedgerNode,
    Listing,
    TreeHead,
    VersionCapture,
    VersionFile,
    WarcFile,
)

ARTICLES: Table = Article.__table__  # type: ignore[assignment]
VERSIONS: Table = ArticleVersion.__table__  # type: ignore[assignment]
CAPTURES: Table = Capture.__table__  # type: ignore[assignment]
CAPTURE_LOSSES: Table = CaptureLoss.__table__  # type: ignore[assignment]
RUNS: Table = CrawlRun.__table__  # type: ignore[assignment]
FILES: Table = File.__table__  # type: ignore[assignment]
FLEET_RUNS: Table = FleetRun.__table__  # type: ignore[assignment]
FLEET_FRONTIER: Table = FleetFrontierEntry.__table__  # type: ignore[assignment]
LISTINGS: Table = Listing.__table__  # type: ignore[assignment]
VERSION_CAPTURES: Table = VersionCapture.__table__  # type: ignore[assignment]
VERSION_FILES: Table = VersionFile.__table__  # type: ignore[assignment]
WARC_FILES: Table = WarcFile.__table__  # type: ignore[assignment]
LEDGER: Table = LedgerEntry.__table__  # type: ignore[assignment]
LEDGER_NODES: Table = LedgerNode.__table__  # type: ignore[assignment]
LEDGER_HEADS: Table = TreeHead.__table__  # type: ignore[assignment]
