"""Command and response APDUs (ISO 7816-4 cases 1-4, short and extended length)."""

from __future__ import annotations

from dataclasses import dataclass, field

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

    def __post_init__(self) -> None:
        for name in ("cla", "ins", "p1", "p2"):
            value = getattr(self, name)
            if not 0 <= value <= 0xFF:
                raise ValueError(f"{name} must be one byte, got {value}")
        if len(self.data) > EXTENDED_MAX_LC:
            raise ValueError(f"data too long for any APDU: {len(self.data)} bytes")
        if self.le is not None and not 0 < self.le <= EXTENDED_MAX_LE:
            raise ValueError(f"Le must be 1..65536, got {self.le}")

    @property
    def header(self) -> bytes:
        return bytes((self.cla, self.ins, self.p1, self.p2))

    def needs_extended(self) -> bool:
        return len(self.data) > SHORT_MAX_LC or (self.le is not None and self.le > SHORT_MAX_LE)

    def encode(self, *, extended: bool | None = None) -> bytes:
        """Encode; `extended=None` picks short length when it fits."""
        use_extended = self.needs_extended() if extended is None else extended
        if not use_extended and self.needs_extended():
            raise ValueError("APDU does not fit short length encoding")
        out = bytearray(self.header)
        if not use_extended:
            if self.data:
                out.append(len(self.data))
                out += self.data
            if self.le is not None:
                out.append(self.le & 0xFF)  # 256 -> 00
            return bytes(out)
        if self.data:
            out += b"\x00" + len(self.data).to_bytes(2, "big")
            out += self.data
            if self.le is not None:
                out += (self.le & 0xFFFF).to_bytes(2, "big")  # 65536 -> 0000
        elif self.le is not None:
            out += b"\x00" + (self.le & 0xFFFF).to_bytes(2, "big")
        return bytes(out)

    def with_le(self, le: int | None) -> CommandApdu:
        return CommandApdu(self.cla, self.ins, self.p1, self.p2, self.data, le)

    @classmethod
    def decode(cls, raw: bytes) -> CommandApdu:
        """Decode any case 1-4 APDU, short or extended (used by the software card)."""
        command, _ = decode_command(raw)
        return command


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


def parse_response(raw: bytes) -> Response:
    """Split raw response bytes into data and SW1SW2."""
    if len(raw) < 2:
        raise MalformedResponseError(f"response of {len(raw)} bytes has no status word")
    return Response(bytes(raw[:-2]), int.from_bytes(raw[-2:], "big"))
