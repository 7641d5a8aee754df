"""Command and response APDUs (ISO 7816-4 cases 1-4, short and extended length)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from card.errors import MalformedApduError, MalformedResponseError

SHORT_MAX_LC = 255
SHORT_MAX_LE = 256
EXTENDED_MAX_LC = 65535
EXTENDED_MAX_LE = 65536


@dataclass(frozen=True, slots=True)
class CommandApdu:
    """A command APDU.

    `le` is the number of response bytes expected: None means no Le field; 256 is
    encoded as short `00`, 65536 as extended `0000`."""

    cla: int
    ins: int
    p1: int
    p2: int
    data: bytes = b""
    le: int | None = None

    # Written out rather than generated: a frozen dataclass's own __init__ goes through
    # object.__setattr__ per field, and a command is built for every APDU. The slot
    # descriptors (bound below the class) set the fields directly, about 3x faster;
    # the instances stay frozen.
    def __init__(
        self, cla: int, ins: int, p1: int, p2: int, data: bytes = b"", le: int | None = None
    ) -> None:
        # One OR of the four header bytes tells "all in 0..255" (a negative or >255 value
        # leaves bits above b8 set); the per-field message is built only on failure.
        if (cla | ins | p1 | p2) >> 8:
            for name, value in (("cla", cla), ("ins", ins), ("p1", p1), ("p2", p2)):
                if not 0 <= value <= 0xFF:
                    raise ValueError(f"{name} must be one byte, got {value}")
        if len(data) > EXTENDED_MAX_LC:
            raise ValueError(f"data too long for any APDU: {len(data)} bytes")
        if le is not None and not 0 < le <= EXTENDED_MAX_LE:
            raise ValueError(f"Le must be 1..65536, got {le}")
        _set_cla(self, cla)
        _set_ins(self, ins)
        _set_p1(self, p1)
        _set_p2(self, p2)
        _set_data(self, data)
        _set_le(self, le)

    @property
    def header(self) -> bytes:
        return bytes((self.cla, self.ins, self.p1, self.p2))

    def needs_extended(self) -> bool:
        le = self.le
        return len(self.data) > SHORT_MAX_LC or (le is not None and le > SHORT_MAX_LE)

    def encode(self, *, extended: bool | None = None) -> bytes:
        """Encode; `extended=None` picks short length when it fits."""
        data, le = self.data, self.le
        lc = len(data)
        fits_short = lc <= SHORT_MAX_LC and (le is None or le <= SHORT_MAX_LE)
        if extended is None:
            extended = not fits_short
        if not extended:
            if not fits_short:
                raise ValueError("APDU does not fit short length encoding")
            # The short form, built in one go: it is what nearly every APDU uses.
            if lc:
                head = bytes((self.cla, self.ins, self.p1, self.p2, lc)) + data
                return head if le is None else head + bytes((le & 0xFF,))  # 256 -> 00
            if le is None:
                return bytes((self.cla, self.ins, self.p1, self.p2))
            return bytes((self.cla, self.ins, self.p1, self.p2, le & 0xFF))
        out = bytearray(self.header)
        if data:
            out += b"\x00" + lc.to_bytes(2, "big")
            out += data
            if le is not None:
                out += (le & 0xFFFF).to_bytes(2, "big")  # 65536 -> 0000
        elif le is not None:
            out += b"\x00" + (le & 0xFFFF).to_bytes(2, "big")
        return bytes(out)

    def with_le(self, le: int | None) -> CommandApdu:
        return CommandApdu(self.cla, self.ins, self.p1, self.p2, self.data, le)

    @classmethod
    def decode(cls, raw: bytes) -> CommandApdu:
        """Decode any case 1-4 APDU, short or extended (used by the software card)."""
        command, _ = decode_command(raw)
        return command


def _slot_setter(cls: type, name: str) -> Callable[[Any, Any], None]:
    setter: Callable[[Any, Any], None] = cls.__dict__[name].__set__
    return setter


_set_cla = _slot_setter(CommandApdu, "cla")
_set_ins = _slot_setter(CommandApdu, "ins")
_set_p1 = _slot_setter(CommandApdu, "p1")
_set_p2 = _slot_setter(CommandApdu, "p2")
_set_data = _slot_setter(CommandApdu, "data")
_set_le = _slot_setter(CommandApdu, "le")


def decode_command(raw: bytes) -> tuple[CommandApdu, bool]:
    """Decode a command APDU; returns it and whether extended length was used."""
    raw = bytes(raw)
    if len(raw) < 4:
        raise MalformedApduError(f"APDU shorter than its header: {len(raw)} bytes")
    cla, ins, p1, p2 = raw[0], raw[1], raw[2], raw[3]
    body = raw[4:]
    if not body:  # case 1
        return CommandApdu(cla, ins, p1, p2), False
    if len(body) == 1:  # case 2 short
        return CommandApdu(cla, ins, p1, p2, b"", body[0] or 256), False
    if body[0] != 0:  # short Lc
        lc = body[0]
        if len(body) == 1 + lc:  # case 3 short
            return CommandApdu(cla, ins, p1, p2, body[1:], None), False
        if len(body) == 2 + lc:  # case 4 short
            return CommandApdu(cla, ins, p1, p2, body[1 : 1 + lc], body[-1] or 256), False
        raise MalformedApduError(f"Lc={lc} does not match {len(body) - 1} bytes of body")
    # extended: body starts with 00
    if len(body) == 3:  # case 2 extended
        le = int.from_bytes(body[1:3], "big") or 65536
        return CommandApdu(cla, ins, p1, p2, b"", le), True
    if len(body) < 3:
        raise MalformedApduError("truncated extended length")
    lc = int.from_bytes(body[1:3], "big")
    if lc == 0:
        raise MalformedApduError("extended Lc of zero")
    if len(body) == 3 + lc:  # case 3 extended
        return CommandApdu(cla, ins, p1, p2, body[3:], None), True
    if len(body) == 5 + lc:  # case 4 extended
        le = int.from_bytes(body[-2:], "big") or 65536
        return CommandApdu(cla, ins, p1, p2, body[3 : 3 + lc], le), True
    raise MalformedApduError(f"extended Lc={lc} does not match {len(body) - 3} bytes of body")


@dataclass(frozen=True, slots=True)
class Response:
    """A response APDU split into data and status word."""

    data: bytes
    sw: int
    apdus: int = field(default=1, compare=False)  # APDUs the protocol layer used

    def __init__(self, data: bytes, sw: int, apdus: int = 1) -> None:
        # Direct slot stores, as in CommandApdu: one Response per logical command.
        _set_response_data(self, data)
        _set_sw(self, sw)
        _set_apdus(self, apdus)

    @property
    def ok(self) -> bool:
        return self.sw == 0x9000

    @property
    def sw1(self) -> int:
        return self.sw >> 8

    @property
    def sw2(self) -> int:
        return self.sw & 0xFF

    def encode(self) -> bytes:
        return self.data + self.sw.to_bytes(2, "big")


_set_response_data = _slot_setter(Response, "data")
_set_sw = _slot_setter(Response, "sw")
_set_apdus = _slot_setter(Response, "apdus")


def parse_response(raw: bytes) -> Response:
    """Split raw response bytes into data and SW1SW2."""
    if len(raw) < 2:
        raise MalformedResponseError(f"response of {len(raw)} bytes has no status word")
    return Response(bytes(raw[:-2]), int.from_bytes(raw[-2:], "big"))
