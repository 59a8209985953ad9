"""Checking the ledger's Merkle tree: the root rebuilt from the entries at each recorded
head's size against the head, consecutive heads against each other (RFC 9162 consistency
proofs read from the stored nodes), each head's timestamp token against the head and the
trusted CAs, and any head the user holds from elsewhere (`verify --known-head`).

A history rewritten from the middle, every row and entry rehashed to match, still differs
from the heads recorded before the rewrite; heads rewritten to match no longer match their
timestamp tokens, nor the heads a package or a publication holds.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from archive.evidence.findings import Problem, VerifyReport
from archive.store import ledger_tree, merkle
from archive.store.ledger_tree import HeadRow, head_message

# Misplaced entries named one by one up to this many; the rest counted.
MAX_MISPLACED = 5


class TreeCheck:
    """What the ledger pass tells it as it rebuilds the tree, and the verdicts after.
    `session`: what archive.store.ledger_tree reads through (a reader, a session)."""

    def __init__(
        self,
        session: Any,
        known_heads: list[tuple[int, str]] | None = None,
        ca_bundle: Path | None = None,
    ):
        self.session = session
        self.heads: list[HeadRow] = ledger_tree.heads(session)
        self.known = list(known_heads or [])
        self.ca_bundle = ca_bundle
        self.roots: dict[int, bytes] = {}
        """The root rebuilt from the entries, at each size a head names."""
        self.misplaced_count = 0
        self.problems: list[Problem] = []

    def sizes(self) -> set[int]:
        return {head.tree_size for head in self.heads} | {size for size, _ in self.known}

    def at_size(self, size: int, root: bytes) -> None:
        self.roots[size] = root

    def misplaced(self, entry_id: int, position: int | None, expected: int) -> None:
        self.misplaced_count += 1
        if self.misplaced_count <= MAX_MISPLACED:
            self.problems.append(
                Problem(
                    f"ledger entry {entry_id} is out of place in the Merkle tree (position"
                    f" {position}, its place {expected}): an entry was removed or inserted"
                )
            )

    def finish(self, frontier: merkle.Frontier, report: VerifyReport) -> None:
        if self.misplaced_count > MAX_MISPLACED:
            self.problems.append(
                Problem(f"{self.misplaced_count} ledger entries out of place in the Merkle tree")
            )
        report.tree_size = frontier.size
        report.tree_root = frontier.root().hex()
        report.tree_heads = len(self.heads)
        matching = [head for head in self.heads if self._matches_entries(head, frontier.size)]
        self._check_consistency(matching)
        self._check_stored_nodes(matching)
        roots = self._trusted_roots(report)
        for head in self.heads:
            proven = self._check_token(head, roots)
            if proven is not None:
                report.timestamped_heads += 1
                if report.proven_at is None or proven > report.proven_at:
                    report.proven_at = proven
                    report.proven_size = head.tree_size
        for size, root in self.known:
            self._check_known(size, root, frontier.size)
        untimestamped = [head.id for head in self.heads if head.token is None]
        if untimestamped and len(untimestamped) < len(self.heads):
            report.notes.append(
                f"tree head(s) {_ids(untimestamped)} have no timestamp token (no authority"
                " named, or none reached at the time); the newer heads' tokens cover their"
                " entries"
            )
        report.problems.extend(self.problems)

    def _matches_entries(self, head: HeadRow, entries: int) -> bool:
        if head.tree_size > entries:
            self.problems.append(
                Problem(
                    f"tree head {head.id} (size {head.tree_size}, recorded"
                    f" {head.recorded_at.isoformat()}) names more entries than the ledger"
                    f" holds ({entries}): entries were removed"
                )
            )
            return False
        if self.roots.get(head.tree_size, merkle.EMPTY_ROOT).hex() != head.root_hash:
            self.problems.append(
                Problem(
                    f"tree head {head.id} (size {head.tree_size}, recorded"
                    f" {head.recorded_at.isoformat()}) does not match the ledger's entries:"
                    " the history before it was rewritten"
                )
            )
            return False
        return True

    def _check_consistency(self, heads: list[HeadRow]) -> None:
        """Each head against the one before it, by the proof a third party would be given."""
        by_size = sorted(heads, key=lambda head: (head.tree_size, head.id))
        for older, newer in zip(by_size, by_size[1:], strict=False):
            try:
                proof = ledger_tree.consistency_proof(
                    self.session, older.tree_size, newer.tree_size
                )
            except ledger_tree.MissingNodes as error:
                self.problems.append(
                    Problem(f"no consistency proof for tree head {newer.id}: {error}")
                )
                continue
            if not merkle.verify_consistency(
                older.tree_size,
                newer.tree_size,
                bytes.fromhex(older.root_hash),
                bytes.fromhex(newer.root_hash),
                proof,
            ):
                self.problems.append(
                    Problem(
                        f"tree heads {older.id} and {newer.id} are not consistent: the stored"
                        " tree does not prove the one extends the other"
                    )
                )

    def _check_stored_nodes(self, heads: list[HeadRow]) -> None:
        """The stored nodes give each head's root: proofs handed out from them will hold."""
        for head in heads:
            try:
                stored = ledger_tree.root_at(self.session, head.tree_size)
            except ledger_tree.MissingNodes as error:
                self.problems.append(Problem(f"tree head {head.id}: {error}"))
                continue
            if head.tree_size and stored.hex() != head.root_hash:
                self.problems.append(
                    Problem(
                        f"the stored Merkle tree disagrees with the entries at size"
                        f" {head.tree_size} (tree head {head.id}): its nodes were edited"
                    )
                )

    def _trusted_roots(self, report: VerifyReport) -> list[Any] | None:
        if not any(head.token is not None for head in self.heads):
            return None
        if self.ca_bundle is None:
            report.notes.append(
                "timestamp tokens checked against their heads, not against a trusted CA:"
                " pass --tsa-ca FILE or set CHALCO_TSA_CA_BUNDLE"
            )
            return None
        # Imported where a head has a token: most archives have none (start-up).
        from archive.evidence.timestamps import TokenInvalid, load_roots

        try:
            return load_roots(self.ca_bundle)
        except TokenInvalid as error:
            self.problems.append(Problem(str(error)))
            return None

    def _check_token(self, head: HeadRow, roots: list[Any] | None) -> datetime | None:
        if head.token is None:
            return None
        from archive.evidence.timestamps import TokenInvalid, check_token

        try:
            proven = check_token(head.token, head_message(head.tree_size, head.root_hash), roots)
        except TokenInvalid as error:
            self.problems.append(
                Problem(f"tree head {head.id} (size {head.tree_size}): its timestamp token {error}")
            )
            return None
        if head.timestamped_at is not None and proven != head.timestamped_at:
            self.problems.append(
                Problem(f"tree head {head.id}: its recorded time is not its token's")
            )
        return proven

    def _check_known(self, size: int, root: str, entries: int) -> None:
        if size > entries:
            self.problems.append(
                Problem(f"known head (size {size}) names more entries than the ledger holds")
            )
        elif self.roots.get(size, merkle.EMPTY_ROOT).hex() != root.lower():
            self.problems.append(
                Problem(
                    f"known head (size {size}, root {root}) does not match the ledger's"
                    " entries: the history before it was rewritten"
                )
            )


def _ids(ids: list[int]) -> str:
    shown = ", ".join(str(i) for i in ids[:5])
    return shown + (f" and {len(ids) - 5} more" if len(ids) > 5 else "")
