"""card.connection.Connection over an in-process SoftwareCard."""

from __future__ import annotations

from card.errors import CardRemovedError, NoCardError
from simulators.card.software_card import SoftwareCard


class SoftwareCardConnection:
    """A reader with the software card in it. Carries extended APDUs unless the card is
    in T=0 mode. Counts nothing itself: card.protocol.CardChannel counts APDUs.

    `remove()` pulls the card (later transmits raise CardRemovedError until `insert()`,
    which powers it up again, clearing selection and verified PINs)."""

    def __init__(self, card: SoftwareCard) -> None:
        self.card = card
        self._present = True
        self.transmitted = 0
        self._pull_at: tuple[int, bool] | None = None
        if not card.powered:
            card.power_on()

    def __repr__(self) -> str:
        return f"SoftwareCardConnection({self.card!r}, present={self._present})"

    @property
    def extended_length(self) -> bool:
        return not self.card.t0

    @property
    def atr(self) -> bytes:
        if not self._present:
            raise NoCardError("no card in the software reader")
        return self.card.atr

    def transmit(self, apdu: bytes) -> tuple[bytes, int]:
        if not self._present:
            raise CardRemovedError("the software card was removed")
        self.transmitted += 1
        pull = self._pull_at
        if pull is not None and self.transmitted == pull[0] and not pull[1]:
            self.remove()
            raise CardRemovedError("the software card was pulled before this command")
        response = self.card.process(apdu)
        if pull is not None and self.transmitted == pull[0]:
            self.remove()
            raise CardRemovedError("the software card was pulled before it could answer")
        return response[:-2], int.from_bytes(response[-2:], "big")

    def pull_at(self, index: int, *, after_processing: bool = False) -> None:
        """Fault injection: pull the card at the `index`-th transmit from now (1-based):
        before the card sees that command, or with `after_processing` once the card
        has run it but before its answer reaches the host (the worst moment for a
        command that changes the card)."""
        if index < 1:
            raise ValueError("APDU index starts at 1")
        self._pull_at = (self.transmitted + index, after_processing)

    def remove(self) -> None:
        self._present = False
        self.card.power_off()

    def insert(self) -> bytes:
        """Put the card back: it powers up fresh. Returns the ATR."""
        self._present = True
        return self.card.power_on()
