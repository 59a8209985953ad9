"""The proof a package carries (its member `evidence/proof.json`): for every record it holds,
the capture row the ledger covers, the ledger entry, and the entry's inclusion proof against
the earliest timestamped tree head that holds it; the heads with their RFC 3161 tokens, and
consistency proofs between consecutive heads. With it, archive.evidence.package_check
checks the package with no archive at hand.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.errors import ArchiveError
from archive.store import ledger_tree
from archive.store.ledger import COVERED_COLUMNS, FLAG_COLUMNS, canonical_value
from archive.store.ledger_tree import HeadRow
from archive.store.models import Capture
from archive.store.tables import LEDGER

PROOF_MEMBER = "evidence/proof.json"
PROOF_FORMAT = "chalco-archive-proof/1"
# What a checker needs to know of the rules, said in the proof itself.
RULES = {
    "tree": "RFC 9162 section 2.1 Merkle tree over the ledger's entries in order",
    "leaf": "SHA-256(0x00 || '<kind> <ref_id> <digest>' as ASCII)",
    "node": "SHA-256(0x01 || left || right)",
    "digest": "SHA-256 of the row's covered columns as JSON, keys sorted, no ASCII escaping,"
    " separators ', ' and ': ', times as UTC ISO 8601 with microseconds",
    "head_message": "'chalco-archive ledger tree head\\nsize <size>\\nroot <root hex>\\n'",
    "token": "RFC 3161 TimeStampResp (DER, base64) over the head message",
}


class UnprovenRecords(ArchiveError):
    """Records the ledger's tree does not yet hold under any head."""


def capture_row(capture: Capture) -> dict[str, Any]:
    """The covered columns of a capture as its ledger digest reads them."""
    row = {
        column: canonical_value(getattr(capture, column)) for column in COVERED_COLUMNS["capture"]
    }
    for column in FLAG_COLUMNS.get("capture", ()):
        if getattr(capture, column):
            row[column] = True
    return row


def _head_for(position: int, heads: Sequence[HeadRow]) -> HeadRow | None:
    """The earliest timestamped head holding the entry, else the earliest head at all:
    the earliest time a token proves is the best one can say of a record."""
    holding = [head for head in heads if head.tree_size > position]
    stamped = [head for head in holding if head.token is not None]
    chosen = stamped or holding
    return min(chosen, key=lambda head: (head.tree_size, head.id)) if chosen else None


def _head_json(head: HeadRow) -> dict[str, Any]:
    return {
        "id": head.id,
        "tree_size": head.tree_size,
        "root_hash": head.root_hash,
        "recorded_at": head.recorded_at.isoformat(),
        "token": None if head.token is None else base64.b64encode(head.token).decode("ascii"),
        "tsa_url": head.tsa_url,
        "timestamped_at": head.timestamped_at.isoformat() if head.timestamped_at else None,
    }


def build_proof(session: Session, captures: Sequence[Capture]) -> dict[str, Any]:
    """The proof of every capture packaged (UnprovenRecords when a head lacks)."""
    heads = [head for head in ledger_tree.heads(session) if head.tree_size > 0]
    entries: dict[int, Any] = {}
    ids = [capture.id for capture in captures]
    for start in range(0, len(ids), 500):
        for found in session.execute(
            select(LEDGER.c.ref_id, LEDGER.c.digest, LEDGER.c.position).where(
                LEDGER.c.kind == "capture", LEDGER.c.ref_id.in_(ids[start : start + 500])
            )
        ):
            entries[found.ref_id] = found
    records: list[tuple[Capture, Any, HeadRow]] = []
    unproven = []
    chosen: dict[int, HeadRow] = {}
    for capture in captures:
        entry = entries.get(capture.id)
        head = None if entry is None or entry.position is None else _head_for(entry.position, heads)
        if head is None:
            unproven.append(capture.url)
            continue
        chosen[head.id] = head
        records.append((capture, entry, head))
    if unproven:
        raise UnprovenRecords(
            f"{len(unproven)} record(s) are not yet under a tree head (e.g. {unproven[0]}):"
            " a crawl is running, or the archive has had no run since it was migrated; the"
            " next crawl's end records a head (`chalco-archive attest` records and timestamps"
            " one now), then package again"
        )
    proofs = ledger_tree.inclusion_proofs(
        session, [(entry.position, head.tree_size) for _, entry, head in records]
    )
    used = sorted(chosen.values(), key=lambda head: (head.tree_size, head.id))
    consistency = [
        {
            "first": older.tree_size,
            "second": newer.tree_size,
            "proof": [
                h.hex()
                for h in ledger_tree.consistency_proof(session, older.tree_size, newer.tree_size)
            ],
        }
        for older, newer in zip(used, used[1:], strict=False)
    ]
    return {
        "format": PROOF_FORMAT,
        "rules": RULES,
        "heads": [_head_json(head) for head in used],
        "consistency": consistency,
        "records": [
            {
                "record_id": capture.record_id,
                "url": capture.url,
                "row": capture_row(capture),
                "entry": {
                    "kind": "capture",
                    "ref_id": capture.id,
                    "digest": entry.digest,
                    "position": entry.position,
                },
                "head": head.tree_size,
                "proof": [h.hex() for h in proofs[entry.position, head.tree_size]],
            }
            for capture, entry, head in records
        ],
    }
