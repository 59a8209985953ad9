"""What an audit found: its problems, notes and counts, and how it reports progress."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from archive.store.ledger import GENESIS


@dataclass(frozen=True)
class Problem:
    """One thing found wrong, with where it is."""

    what: str
    file: str | None = None
    offset: int | None = None
    url: str | None = None
    capture_id: int | None = None
    """The capture whose bytes cannot be read back because of it (`repair` fetches it)."""

    def line(self) -> str:
        where = []
        if self.file:
            where.append(self.file + (f" @ {self.offset}" if self.offset is not None else ""))
        if self.url:
            where.append(self.url)
        return self.what + (f" [{'; '.join(where)}]" if where else "")


@dataclass
class VerifyReport:
    problems: list[Problem] = field(default_factory=list)
    files: int = 0
    records: int = 0
    captures: int = 0
    ledger_entries: int = 0
    bytes_read: int = 0
    ledger_head: str = GENESIS
    notes: list[str] = field(default_factory=list)
    """Things worth knowing that are not damage (bytes set aside after a killed crawl)."""
    files_read_by_warcio: int = 0
    """Files the fast pass did not vouch for (damaged, or not of the writer's shape)."""
    files_checked_by_seal: int = 0
    """Files whose SHA-256 and capture rows matched their seal: their records not read again
    (archive.evidence.warc_seal; `verify --deep` reads them)."""
    tree_size: int = 0
    """Entries under the ledger's Merkle tree, rebuilt from them."""
    tree_root: str = ""
    """That tree's root, hex (what `verify --known-head SIZE:ROOT` compares later)."""
    tree_heads: int = 0
    timestamped_heads: int = 0
    """Heads whose token holds (against the trusted CAs when a bundle is given)."""
    proven_at: datetime | None = None
    """The newest time a token proves, and the size of the head it proves."""
    proven_size: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems


class Progress:
    """What verify says of its progress as it goes: nothing, unless a terminal shows it."""

    def files(self, done: int, total: int, name: str | None = None) -> None:
        """`done` of `total` bytes of WARC files checked; `name` the file just checked."""

    def rows(self, done: int, total: int) -> None:
        """`done` of about `total` rows and ledger entries checked."""
