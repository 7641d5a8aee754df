"""The one clock: the current instant in UTC, and instants normalised to UTC. Callers
take a `Clock` argument (tests move time by passing their own)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """Now, as an aware UTC datetime."""
    return datetime.now(UTC)


def as_utc(at: datetime | None) -> datetime:
    """`at` as an aware UTC datetime; None means now; a naive datetime is taken as UTC."""
    if at is None:
        return utc_now()
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
