"""Acknowledged losses in the audit: a capture whose record was lost and that `repair`
replaced with a capture fetched again from the site is a note, no longer a problem; so is
the damage of its WARC file, when every record of the file is either whole or such a loss.

The lost records stay lost (nothing archived is rewritten); what changes is that the loss
is on record, in the ledger, with where the bytes are now. A capture without a whole
replacement (the site no longer serves it) stays a problem.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from archive.evidence.findings import VerifyReport
from archive.evidence.raw_rows import RawRows
from archive.evidence.warc_check import record_whole
from archive.read.sql import in_list
from archive.store.home import ArchiveHome
from archive.store.times import read_time

# Problems of a file that no lost capture can account for.
NOT_OF_LOSSES = ("record not indexed", "WARC file not in the database")


@dataclass(frozen=True)
class Loss:
    """A lost capture and the capture that replaced it."""

    capture_id: int
    url: str
    found: str
    payload_sha256: str
    replacement_id: int
    replaced_at: datetime
    """When the replacement was fetched."""
    same_payload: bool
    """The replacement holds the very bytes lost (the page had not changed)."""

    def note(self) -> str:
        bytes_now = (
            "the same payload"
            if self.same_payload
            else "other bytes (the page changed since: the original payload is lost)"
        )
        return (
            f"acknowledged loss of capture {self.capture_id}, {self.url} ({self.found}):"
            f" replaced by capture {self.replacement_id}, fetched again on"
            f" {self.replaced_at.isoformat()} with {bytes_now}"
        )


LOSSES = (
    "SELECT l.capture_id, l.found, l.replacement_id, lost.url, lost.payload_sha256,"
    " replacement.fetched_at, replacement.payload_sha256 FROM capture_losses l"
    " JOIN captures lost ON lost.id = l.capture_id"
    " JOIN captures replacement ON replacement.id = l.replacement_id"
    " ORDER BY l.capture_id"
)


def losses_on_record(raw: RawRows) -> dict[int, Loss]:
    """Every acknowledged loss, by the id of the lost capture."""
    return {
        capture_id: Loss(
            capture_id,
            url,
            found,
            payload_sha256,
            replacement_id,
            read_time(fetched_at),
            payload_sha256 == replacement_sha256,
        )
        for (
            capture_id,
            found,
            replacement_id,
            url,
            payload_sha256,
            fetched_at,
            replacement_sha256,
        ) in raw.stream(LOSSES)
    }


def acknowledge_losses(raw: RawRows, home: ArchiveHome, report: VerifyReport) -> None:
    """Turn the problems that acknowledged losses account for into notes."""
    known = losses_on_record(raw)
    if not known:
        return
    damaged = {p.capture_id for p in report.problems if p.capture_id is not None}
    # A loss is made good only by a replacement that itself reads back whole.
    good = {cid: loss for cid, loss in known.items() if loss.replacement_id not in damaged}
    ids, id_params = in_list("lost", list(good))
    # A revisit whose payload was in a lost record reads it from the replacement, when that
    # holds the same bytes (as `snapshot` does).
    read_through = {
        capture_id
        for capture_id, refers_to, payload_sha256 in raw.stream(
            f"SELECT id, refers_to_id, payload_sha256 FROM captures WHERE refers_to_id IN {ids}",
            id_params,
        )
        if refers_to is not None
        and good[refers_to].same_payload
        and payload_sha256 == good[refers_to].payload_sha256
    }
    read_through &= {p.capture_id for p in report.problems} - set(good)
    kept = [
        p
        for p in report.problems
        if p.capture_id is None or (p.capture_id not in good and p.capture_id not in read_through)
    ]
    explained: set[str] = set()
    for name in sorted({p.file for p in kept if p.file and p.capture_id is None}):
        of_file = [p for p in kept if p.file == name and p.capture_id is None]
        if any(p.what in NOT_OF_LOSSES for p in of_file):
            continue
        lost_here = _damage_explained(raw, home, name, set(good))
        if lost_here:
            explained.add(name)
            report.notes.append(
                f"WARC file damaged only where its {lost_here} acknowledged loss(es) were,"
                f" every other record in it whole: {name}"
            )
    report.problems = [p for p in kept if p.capture_id is not None or p.file not in explained]
    report.notes.extend(loss.note() for loss in good.values())
    for capture_id in sorted(read_through):
        report.notes.append(
            f"capture {capture_id} is a revisit of a lost capture: its payload is read from"
            " that capture's replacement, which holds the same bytes"
        )


def _damage_explained(raw: RawRows, home: ArchiveHome, name: str, lost: set[int]) -> int:
    """How many acknowledged losses the file holds, if every byte of it as it was closed is
    a record that reads back whole or a record of such a loss; 0 otherwise."""
    warc_file = next(
        iter(raw.stream("SELECT id, size FROM warc_files WHERE name = :name", {"name": name})),
        None,
    )
    if warc_file is None or warc_file[1] is None:
        return 0  # still open, or never closed: nothing to compare with
    warc_file_id, closed_size = warc_file
    path = home.warc_dir / name
    spans: list[tuple[int, int, int, str | None, str | None]] = []
    for (
        capture_id,
        offset,
        length,
        request_offset,
        request_length,
        record_id,
        record_type,
        payload_sha256,
    ) in raw.stream(
        'SELECT id, "offset", "length", request_offset, request_length, record_id, record_type,'
        " payload_sha256 FROM captures WHERE warc_file_id = :id",
        {"id": warc_file_id},
    ):
        if request_offset is not None and request_length is not None:
            spans.append((request_offset, request_length, capture_id, None, None))
        payload = payload_sha256 if record_type == "response" else None
        spans.append((offset, length, capture_id, record_id, payload))
    if not spans or (path.exists() and path.stat().st_size > closed_size):
        return 0  # bytes added after it was closed: no loss accounts for them
    spans.sort()
    end = spans[0][0]  # the warcinfo record comes first
    lost_here = {capture_id for _, _, capture_id, _, _ in spans if capture_id in lost}
    if not record_whole(path, 0, end) and len(lost_here) < len({s[2] for s in spans}):
        return 0  # the file's own header is damaged, and not because the file is gone
    for offset, length, capture_id, record_id, payload in spans:
        if offset != end:
            return 0  # bytes between records that no capture accounts for
        end = offset + length
        if capture_id not in lost and not record_whole(path, offset, length, record_id, payload):
            return 0
    return len(lost_here) if end == closed_size and lost_here else 0
