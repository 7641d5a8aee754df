"""`--card FILE`: a software card's state file used in process. Its state (PIN counters)
is written back afterwards, so it keeps a locked PIN like a plastic card."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from card.protocol import CardChannel
from simulators.card import CardStateError, SoftwareCard, SoftwareCardConnection


@contextmanager
def card_file_channel(path: Path) -> Iterator[CardChannel]:
    """Raises CardStateError (CARD_FILE) when the file is missing or not a card."""
    try:
        card = SoftwareCard.load(path)
    except OSError as exc:
        raise CardStateError(f"{path}: {exc.strerror or exc}") from exc
    try:
        yield CardChannel(SoftwareCardConnection(card))
    finally:
        card.save(path)
