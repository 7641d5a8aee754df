"""What every applet session does: select, read a sized object, query and verify PINs."""

from __future__ import annotations

import functools

from card.apdu import CommandApdu, Response
from card.errors import (
    ApduError,
    InvalidPinError,
    MalformedResponseError,
    NotFoundError,
    PinBlockedError,
    PinNotSetError,
    error_for_sw,
)
from card.protocol import CardChannel
from card.sw import retries_from_sw
from card.tlv import TlvError, encoded_size
from jpki.constants import Aid, PinKind
from jpki.errors import NotAMyNumberCardError
from jpki.pin import PinStatus, encode_pin

SHORT_READ = 256
EXTENDED_READ = 65536
_BLOCKED_SW = (0x6983, 0x6984)
_NOT_SET_SW = 0x6A88  # no reference data: the PIN was never set (see PinNotSetError)


# Commands that never change are built once: CommandApdu is immutable, and building one
# costs a few microseconds, which shows against a fast reader (see bench_pcsc).
_PIN_STATUS = CommandApdu(0x00, 0x20, 0x00, 0x80)


@functools.lru_cache(maxsize=64)
def _select_applet_command(aid: bytes) -> CommandApdu:
    return CommandApdu(0x00, 0xA4, 0x04, 0x0C, aid)


@functools.lru_cache(maxsize=64)
def _select_file_command(file_id: int) -> CommandApdu:
    return CommandApdu(0x00, 0xA4, 0x02, 0x0C, file_id.to_bytes(2, "big"))


class AppletSession:
    """Base of the applet sessions. The constructor selects the applet.

    Not thread-safe: one session per card at a time (the service serialises per reader)."""

    aid: Aid

    def __init__(self, channel: CardChannel) -> None:
        self.channel = channel
        self.select_applet()

    # -- selection -------------------------------------------------------------------
    def select_applet(self) -> None:
        """SELECT by DF name. Re-selecting the current applet keeps verified PINs on
        real cards; selecting another applet ends them (see `logout`)."""
        response = self.channel.transmit(_select_applet_command(self.aid.value))
        if response.sw != 0x9000:
            if response.sw == 0x6A82:
                raise NotAMyNumberCardError(
                    f"the card has no {self.aid.name} applet: not an Individual Number Card"
                )
            raise error_for_sw(response.data, response.sw, f"SELECT {self.aid.name} applet")

    def logout(self) -> None:
        """End every verified PIN (`end_verified_state`), then select this applet
        again so the session stays usable."""
        end_verified_state(self.channel)
        self.select_applet()

    def select_file(self, file_id: int) -> None:
        response = self.channel.transmit(_select_file_command(file_id))
        if response.sw != 0x9000:
            raise error_for_sw(response.data, response.sw, f"SELECT EF {file_id:04X}")

    # -- reading ---------------------------------------------------------------------
    def read_binary(self, offset: int, length: int) -> bytes:
        if not 0 <= offset <= 0x7FFF:
            raise ValueError(f"READ BINARY offset out of range: {offset}")
        command = CommandApdu(0x00, 0xB0, offset >> 8, offset & 0xFF, b"", length)
        response = self._check(self.channel.transmit(command), f"READ BINARY at {offset}")
        if len(response.data) > length:
            raise MalformedResponseError(
                f"card returned {len(response.data)} bytes for Le={length}"
            )
        return response.data

    def read_object(self, file_id: int, *, max_size: int) -> bytes:
        """Select an EF and read the one BER-TLV object at its start, sized from its
        header: one extended READ BINARY when the connection carries it, else 256-byte
        reads. The filler after the object is never read past what the header says."""
        self.select_file(file_id)
        chunk = EXTENDED_READ if self.channel.extended_length else SHORT_READ
        data = bytearray(self.read_binary(0, chunk))
        size = self._object_size(bytes(data), file_id)
        if size > max_size:
            raise MalformedResponseError(
                f"EF {file_id:04X} claims an object of {size} bytes (limit {max_size})"
            )
        while len(data) < size:
            offset = len(data)
            if offset > 0x7FFF:
                raise MalformedResponseError(f"EF {file_id:04X}: object beyond offset 32767")
            try:
                more = self.read_binary(offset, min(SHORT_READ, size - offset))
            except ApduError as exc:
                if exc.sw != 0x6B00:
                    raise
                more = b""  # the header promised more than the file holds
            if not more:
                raise MalformedResponseError(
                    f"EF {file_id:04X} ended after {offset} of {size} bytes"
                )
            data += more
        return bytes(data[:size])

    @staticmethod
    def _object_size(prefix: bytes, file_id: int) -> int:
        try:
            size = encoded_size(prefix)
        except TlvError as exc:
            raise MalformedResponseError(f"EF {file_id:04X}: bad object header: {exc}") from exc
        if size is None:
            raise MalformedResponseError(f"EF {file_id:04X}: object header truncated")
        return size

    # -- PINs ------------------------------------------------------------------------
    def _pin_status(self, kind: PinKind) -> PinStatus:
        self.select_file(kind.file)
        response = self.channel.transmit(_PIN_STATUS)
        return _status_from_sw(kind, response)

    def _verify_pin(self, kind: PinKind, pin: str, *, check_status_first: bool) -> None:
        encoded = encode_pin(kind, pin)  # before any APDU: a malformed PIN costs nothing
        if check_status_first:
            status = self._pin_status(kind)
            if status.blocked:
                raise PinBlockedError(b"", 0x6984, f"the {kind.value} PIN is blocked")
            if not status.is_set:
                raise PinNotSetError(b"", _NOT_SET_SW, f"the {kind.value} PIN is not set yet")
        else:
            self.select_file(kind.file)
        # Sent exactly once. A failed VERIFY is never repeated by this code.
        response = self.channel.transmit(CommandApdu(0x00, 0x20, 0x00, 0x80, encoded))
        if response.ok:
            return
        if response.sw == _NOT_SET_SW:
            raise PinNotSetError(response.data, response.sw, f"the {kind.value} PIN is not set yet")
        remaining = retries_from_sw(response.sw)
        if remaining == 0 or response.sw in _BLOCKED_SW:
            raise PinBlockedError(response.data, response.sw, f"the {kind.value} PIN is blocked")
        if remaining is not None:
            raise InvalidPinError(
                response.data, response.sw, f"wrong {kind.value} PIN, {remaining} tries left"
            )
        raise error_for_sw(response.data, response.sw, f"VERIFY {kind.value} PIN")

    def _change_pin(self, kind: PinKind, current: str, new: str) -> None:
        new_encoded = encode_pin(kind, new)  # both formats checked before any APDU
        encode_pin(kind, current)
        self._verify_pin(kind, current, check_status_first=True)
        command = CommandApdu(0x00, 0x24, 0x01, 0x80, new_encoded)
        self._check(self.channel.transmit(command), f"CHANGE REFERENCE DATA {kind.value} PIN")

    def _check(self, response: Response, what: str) -> Response:
        if not response.ok:
            raise error_for_sw(response.data, response.sw, what)
        return response


def _status_from_sw(kind: PinKind, response: Response) -> PinStatus:
    if response.ok:
        return PinStatus(kind, None, verified=True, blocked=False)
    if response.sw in _BLOCKED_SW:
        return PinStatus(kind, 0, verified=False, blocked=True)
    if response.sw == _NOT_SET_SW:
        return PinStatus(kind, None, verified=False, blocked=False, is_set=False)
    remaining = retries_from_sw(response.sw)
    if remaining is not None:
        return PinStatus(kind, remaining, verified=False, blocked=remaining == 0)
    if response.sw == 0x6A82:
        raise NotFoundError(response.data, response.sw, f"no {kind.value} PIN on this card")
    raise ApduError(response.data, response.sw, f"PIN status of {kind.value}")


def end_verified_state(channel: CardChannel) -> None:
    """End every verified PIN on the card, whichever applet is selected: real cards keep
    a successful VERIFY until power-down, across reconnects and warm resets, so a
    terminal that leaves the card in the reader must log it out itself after each
    operation. Selecting the GlobalPlatform ISD restores the power-on state; a card
    without one is logged out by selecting two other applets in turn (selecting another
    applet clears the verified state of the one left)."""
    response = channel.transmit(_select_applet_command(Aid.ISSUER_SECURITY_DOMAIN.value))
    if response.sw == 0x9000:
        return
    for aid in (Aid.CARD_INFO, Aid.JPKI):
        channel.transmit(_select_applet_command(aid.value))
