"""Software readers: slots into which tests, the demo and the simulator controls insert
software cards (simulators.card.SoftwareCard) and pull them out again. The product's
reader manager drives them through its CardHolderSlot protocol and never imports this."""

from __future__ import annotations

from typing import Any

from card.connection import Connection
from card.errors import NoCardError
from simulators.card import SoftwareCardConnection
from terminal.service.readers import Reader, ReaderManager

SOFTWARE_READER_NAME = "Software Reader {index}"


class SoftwareSlot:
    """A software reader: a slot into which tests, the demo and the simulator controls
    insert software cards (simulators.card.SoftwareCard) and pull them out again."""

    kind = "software"

    def __init__(self) -> None:
        self._connection: Any | None = None
        self.card: Any | None = None
        self.label: str | None = None

    def card_present(self) -> bool:
        return self._connection is not None

    def insert(self, card: Any, label: str | None = None) -> None:
        self.card = card
        self.label = label
        self._connection = SoftwareCardConnection(card)

    def remove(self) -> None:
        """Pull the card: an operation in flight fails with CardRemovedError."""
        connection, self._connection = self._connection, None
        self.card = None
        self.label = None
        if connection is not None:
            connection.remove()

    def connect(self) -> Connection:
        connection = self._connection
        if connection is None:
            raise NoCardError("no card in the software reader")
        return connection  # type: ignore[no-any-return]

    def disconnect(self, connection: Connection) -> None:
        """Software cards stay inserted between operations."""


def add_software_reader(manager: ReaderManager, name: str) -> Reader:
    """A new, empty software reader named `name`."""
    return manager.add(name, SoftwareSlot())
