"""How the card frames responses for its transmission protocol.

T=1 (the real card's protocol): a command's response data comes back at once.

T=0 (`t0=True`, to exercise the host's 61xx / 6Cxx handling): the protocol cannot
carry both Lc and Le, so
- a command with data (case 3/4) is executed with Le dropped, as a reader's T=0 mapping
  does; if it produced data the card answers `61 xx` and hands the data out through
  GET RESPONSE (`00 C0 00 00 xx`), in pieces of at most 256 bytes, the last piece
  carrying the command's own status word;
- a command with only Le (case 2) whose result is not exactly Le bytes long is answered
  `6C xx` (the available length) and nothing else; the host re-sends with Le = xx.
  The command has already run at that point: only READ BINARY is case 2 here, and it
  changes nothing, so running it twice is harmless;
- a command that returns no data sent as `CLA INS P1 P2 00` is case 1 (ISO 7816-3 sends
  case 1 with P3=00; OpenSC sends the PIN status query that way), not "Le=256";
- extended-length APDUs do not exist in T=0 -> 6700;
- GET RESPONSE with nothing pending -> 6985; with Le above what is pending -> 6Cxx;
  any other command discards what is pending.
In T=1 mode GET RESPONSE reaches the card OS, which does not know it (6D00).
"""

from __future__ import annotations

from card.apdu import SHORT_MAX_LE, CommandApdu
from simulators.card.card_os import CLA_ISO, INS_GET_RESPONSE, NO_RESPONSE_INS, CardOs
from simulators.card.errors import SW_BAD_P1P2, SW_CONDITIONS, SW_OK, SW_WRONG_LENGTH


def _sw(sw: int) -> bytes:
    return sw.to_bytes(2, "big")


def _more(length: int) -> bytes:
    return bytes((0x61, min(length, SHORT_MAX_LE) & 0xFF))


def _exact_le(length: int) -> bytes:
    return bytes((0x6C, length & 0xFF))


class T1Framer:
    def __init__(self, card_os: CardOs) -> None:
        self.card_os = card_os

    def reset(self) -> None:
        """Nothing to clear: T=1 keeps no response between commands."""

    def exchange(self, command: CommandApdu, extended: bool) -> bytes:
        data, sw = self.card_os.execute(command, extended=extended)
        return data + _sw(sw)


class T0Framer:
    def __init__(self, card_os: CardOs) -> None:
        self.card_os = card_os
        self._pending: tuple[bytes, int] | None = None

    def reset(self) -> None:
        self._pending = None

    def exchange(self, command: CommandApdu, extended: bool) -> bytes:
        if command.cla == CLA_ISO and command.ins == INS_GET_RESPONSE and not extended:
            return self._get_response(command)
        self._pending = None
        if extended:
            return _sw(SW_WRONG_LENGTH)
        if not command.data and command.le == SHORT_MAX_LE and command.ins in NO_RESPONSE_INS:
            command = command.with_le(None)  # P3=00 of a case-1 command
        if command.data:
            data, sw = self.card_os.execute(command.with_le(None))
            if not data:
                return _sw(sw)
            self._pending = (data, sw)
            return _more(len(data))
        data, sw = self.card_os.execute(command)
        if command.le is not None and sw == SW_OK and data and len(data) != command.le:
            return _exact_le(len(data))
        return data + _sw(sw)

    def _get_response(self, command: CommandApdu) -> bytes:
        if self._pending is None:
            return _sw(SW_CONDITIONS)
        if command.p1 != 0x00 or command.p2 != 0x00:
            return _sw(SW_BAD_P1P2)
        if command.data or command.le is None:
            return _sw(SW_WRONG_LENGTH)
        data, sw = self._pending
        if command.le > len(data):
            return _exact_le(len(data))
        chunk, rest = data[: command.le], data[command.le :]
        if rest:
            self._pending = (rest, sw)
            return chunk + _more(len(rest))
        self._pending = None
        return chunk + _sw(sw)
