"""Crawl runs as `chalco-archive runs` lists them: mode, times, exit status and counts."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from archive.read.sql import Reader, reader_for
from archive.store.times import iso_time

if TYPE_CHECKING:
    from sqlalchemy import Connection
    from sqlalchemy.orm import Session


def list_runs(database: Reader | Session | Connection, limit: int = 20) -> list[dict[str, Any]]:
    """The newest crawl runs, newest first, with their counts."""
    rows = []
    for run in reader_for(database).rows(
        "SELECT id, mode, status, exit_code, started_at, finished_at, summary_json, base_url,"
        " worker FROM crawl_runs ORDER BY id DESC LIMIT :limit",
        limit=limit,
    ):
        summary = json.loads(run["summary_json"]) if run["summary_json"] else {}
        rows.append(
            {
                "id": run["id"],
                "mode": run["mode"],
                "status": run["status"],
                "exit_code": run["exit_code"],
                "started_at": iso_time(run["started_at"]),
                "finished_at": iso_time(run["finished_at"]),
                "new": summary.get("new"),
                "updated": summary.get("updated"),
                "unchanged": summary.get("unchanged"),
                "gone": summary.get("gone"),
                "failed": summary.get("failed"),
                # Links answering 404/410 (older runs counted them among the failures).
                "dead": summary.get("dead"),
                "dead_links": [d["url"] for d in summary.get("dead_links", [])] or None,
                "oversize": len(summary.get("oversize", [])) if "oversize" in summary else None,
                "base_url": run["base_url"],
                "worker": run["worker"],
            }
        )
    return rows
