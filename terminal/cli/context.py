"""What the global options select: a software card file or a PC/SC reader."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from card.protocol import CardChannel
from terminal.cli.output import fail


@dataclass
class CliState:
    card_path: Path | None = None
    reader: str | None = None

    @contextmanager
    def channel(self, *, as_json: bool = False) -> Iterator[CardChannel]:
        """A channel to the selected card. A software card's state (PIN counters) is
        written back afterwards, so it keeps a locked PIN like a plastic card."""
        from card.protocol import CardChannel

        if self.card_path is not None and self.reader is not None:
            fail(
                "give either --card or --reader, not both",
                code="USAGE",
                as_json=as_json,
            )
        if self.card_path is not None:
            from terminal.dev.cli.card_file import card_file_channel  # the software card

            with card_file_channel(self.card_path) as channel:
                yield channel
            return
        if self.reader is not None:
            from card.pcsc import open_reader
            from jpki.applet import end_verified_state

            connection = open_reader(self.reader)
            channel = CardChannel(connection)
            try:
                yield channel
            finally:
                # The card stays in the reader and would keep its verified PINs until
                # power-down: log it out before another program gets the reader.
                with contextlib.suppress(Exception):
                    end_verified_state(channel)
                connection.close()
            return
        fail(
            "no card selected: give --card FILE (software card) or --reader NAME",
            code="USAGE",
            as_json=as_json,
        )
