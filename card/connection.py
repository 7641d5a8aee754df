"""The one narrow seam between protocol code and a transport."""

from __future__ import annotations

from typing import Protocol, runtime_checkable


@runtime_checkable
class Connection(Protocol):
    """Anything that moves one raw command APDU to a card and back.

    `transmit` returns (data, SW1SW2). Implementations: card.pcsc (pyscard), the in-process
    software card, the vpcd bridge's client side. ISO 7816 transport rules (61xx, 6Cxx,
    chaining, extended length) are NOT handled here but in card.protocol.CardChannel, so
    that every transport runs the same protocol code.

    An implementation may set `extended_length = True` when it carries extended APDUs."""

    def transmit(self, apdu: bytes) -> tuple[bytes, int]: ...
