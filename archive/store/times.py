"""How the archive stores an aware datetime: ISO 8601 text in UTC with its zone
(`2026-02-03T07:15:00.123456+00:00`), and back. Imports no database library, so that the read
verbs' plain SQL compares and returns times exactly as the models do."""

from __future__ import annotations

from datetime import UTC, datetime


def stored_time(value: datetime) -> str:
    """The text stored for an aware datetime; a naive one is refused, not guessed at."""
    if value.tzinfo is None:
        raise ValueError("naive datetime given to the archive; times must carry a zone")
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def read_time(value: str) -> datetime:
    """The aware datetime of a stored text."""
    return datetime.fromisoformat(value)


def iso_time(stored: str | None) -> str | None:
    """A stored time as the read verbs give it: `datetime.isoformat()` of its value (so
    whole seconds show no microseconds), None for none."""
    return read_time(stored).isoformat() if stored else None
