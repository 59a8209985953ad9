"""Crawl runs as `chalco-archive runs` lists them: mode, times, exit status and counts. The
runs of a fleet's workers that crawled together (one fleet run) are one row: its workers,
who ended how, and what was queued again from whom."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from archive.read.sql import Reader, in_list, reader_for
from archive.store.times import iso_time

if TYPE_CHECKING:
    from sqlalchemy import Connection
    from sqlalchemy.orm import Session

COUNTS = ("new", "updated", "unchanged", "gone", "failed", "dead")
# Worse first: a fleet run is as its worst worker (a worker gone counts as partial).
STATUS_ORDER = ("running", "failed", "interrupted", "partial", "ok")

# A fleet run's requests queued with no `done` row of their fingerprint (its frontier).
UNFINISHED = """
SELECT q.fleet_run_id AS fleet_run_id, COUNT(DISTINCT q.fingerprint) AS unfinished,
    SUM(CASE WHEN q.kind = 'walk' THEN 1 ELSE 0 END) AS walk
FROM fleet_frontier AS q
WHERE q.fleet_run_id IN {ids} AND q.state = 'queued' AND NOT EXISTS (
    SELECT 1 FROM fleet_frontier AS d WHERE d.fleet_run_id = q.fleet_run_id
    AND d.fingerprint = q.fingerprint AND d.state = 'done')
GROUP BY q.fleet_run_id
"""


def _run_row(run: dict[str, Any]) -> dict[str, Any]:
    summary = json.loads(run["summary_json"]) if run["summary_json"] else {}
    return {
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
        "_summary": summary,
    }


def list_runs(database: Reader | Session | Connection, limit: int = 20) -> list[dict[str, Any]]:
    """The newest crawl runs, newest first, with their counts; a fleet run is one row."""
    reader = reader_for(database)
    units = reader.rows(
        "SELECT MAX(id) AS newest, MAX(fleet_run_id) AS fleet_run_id FROM crawl_runs"
        " GROUP BY CASE WHEN fleet_run_id IS NULL THEN -id ELSE fleet_run_id END"
        " ORDER BY newest DESC LIMIT :limit",
        limit=limit,
    )
    lone = [u["newest"] for u in units if u["fleet_run_id"] is None]
    fleets = [u["fleet_run_id"] for u in units if u["fleet_run_id"] is not None]
    lone_sql, lone_params = in_list("run", lone)
    fleet_sql, fleet_params = in_list("fleet", fleets)
    runs = reader.rows(
        "SELECT id, mode, status, exit_code, started_at, finished_at, summary_json, base_url,"
        f" worker, fleet_run_id FROM crawl_runs WHERE id IN {lone_sql}"
        f" OR fleet_run_id IN {fleet_sql} ORDER BY id",
        **lone_params,
        **fleet_params,
    )
    by_fleet: dict[int, list[dict[str, Any]]] = {}
    rows: dict[int, dict[str, Any]] = {}
    for run in runs:
        if run["fleet_run_id"] is None:
            row = _run_row(run)
            del row["_summary"]
            rows[run["id"]] = row
        else:
            by_fleet.setdefault(run["fleet_run_id"], []).append(run)
    if fleets:
        for fleet_run in _fleet_runs(reader, fleets, fleet_sql, fleet_params):
            members = by_fleet.get(fleet_run["id"], [])
            if members:
                row = _fleet_row(fleet_run, members)
                rows[max(m["id"] for m in members)] = row
    return [rows[key] for key in sorted(rows, reverse=True)]


def _fleet_runs(
    reader: Reader, ids: list[int], sql: str, params: dict[str, Any]
) -> list[dict[str, Any]]:
    fleet_runs = reader.rows(
        "SELECT id, fleet, started_at, finished_at, complete, resumed_by FROM fleet_runs"
        f" WHERE id IN {sql}",
        **params,
    )
    unfinished = {
        row["fleet_run_id"]: row for row in reader.rows(UNFINISHED.format(ids=sql), **params)
    }
    for fleet_run in fleet_runs:
        counts = unfinished.get(fleet_run["id"], {})
        fleet_run["unfinished"] = int(counts.get("unfinished") or 0)
        fleet_run["unfinished_walk"] = int(counts.get("walk") or 0)
    return fleet_runs


def _worker_ending(run: dict[str, Any], fleet_over: bool) -> str:
    """How a worker ended: its run's status, or `gone` for a run left running after the
    fleet run was over (killed or cut off: its heartbeat lapsed)."""
    if run["status"] == "running" and fleet_over:
        return "gone"
    return str(run["status"])


def _fleet_row(fleet_run: dict[str, Any], members: list[dict[str, Any]]) -> dict[str, Any]:
    """One row for the runs of the workers of one fleet run."""
    over = fleet_run["finished_at"] is not None or fleet_run["resumed_by"] is not None
    workers: list[dict[str, Any]] = []
    requeued: dict[str, int] = {}
    statuses: list[str] = []
    row = _run_row(members[0])
    totals = dict.fromkeys(COUNTS, 0)
    dead_links: list[str] = []
    for run in members:
        each = _run_row(run)
        summary = each.pop("_summary")
        ended = _worker_ending(run, over)
        statuses.append("partial" if ended == "gone" else ended)
        fleet = summary.get("fleet") or {}
        for worker, count in (fleet.get("requeued_from") or {}).items():
            requeued[worker] = requeued.get(worker, 0) + count
        if fleet.get("returned"):
            requeued[run["worker"]] = requeued.get(run["worker"], 0) + fleet["returned"]
        workers.append(
            {
                "worker": run["worker"],
                "run": run["id"],
                "status": ended,
                "exit_code": run["exit_code"],
                "close_reason": summary.get("close_reason"),
                "complete": fleet.get("complete"),
                "requeued_from": fleet.get("requeued_from") or {},
                "returned": fleet.get("returned", 0),
                "recovered": fleet.get("recovered", 0),
                "carried_over": fleet.get("carried_over", 0),
                "redis_lost": fleet.get("redis_lost", False),
            }
        )
        for name in COUNTS:
            totals[name] += each[name] or 0
        dead_links += each["dead_links"] or []
    if fleet_run["unfinished"] and over:
        statuses.append("interrupted")  # work left for the next fleet run
    elif over:
        # Complete: a worker killed or stopped lost nothing (others did its share), but
        # the fleet run suffered it.
        statuses = ["partial" if s == "interrupted" else s for s in statuses]
    status = min(statuses, key=STATUS_ORDER.index) if statuses else "running"
    if status == "running" and over:
        status = "interrupted"
    codes = [m["exit_code"] for m in members if m["exit_code"] is not None]
    exit_code = 0 if status == "ok" else max(codes + [1]) if codes else None
    finished = [m["finished_at"] for m in members if m["finished_at"]]
    row.pop("_summary")
    row |= totals
    row |= {
        "id": members[0]["id"],
        "status": status,
        "exit_code": exit_code,
        "finished_at": iso_time(fleet_run["finished_at"] or (max(finished) if finished else None)),
        "dead_links": dead_links or None,
        "worker": ", ".join(f"{w['worker']}: {w['status']}" for w in workers),
        "fleet": fleet_run["fleet"],
        "fleet_run": fleet_run["id"],
        "complete": None if fleet_run["complete"] is None else bool(fleet_run["complete"]),
        "workers": workers,
        "requeued": requeued or None,
        "unfinished": fleet_run["unfinished"],
        "resumed_by": fleet_run["resumed_by"],
        "runs": [m["id"] for m in members],
    }
    return row
