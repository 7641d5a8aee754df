"""ISO 7816-4 transport rules above a raw Connection: GET RESPONSE for 61xx, re-send
for 6Cxx, extended length where the connection carries it, command chaining otherwise."""

from __future__ import annotations

from card.apdu import SHORT_MAX_LC, SHORT_MAX_LE, CommandApdu, Response
from card.connection import Connection
from card.errors import MalformedResponseError, error_for_sw
from card.trace import ApduTracer

# A hostile or broken card could answer 61xx forever; 64 KiB of response is more than
# any JPKI object, so stop there.
MAX_RESPONSE_BYTES = 65536 + 256
MAX_GET_RESPONSE = 300


class CardChannel:
    """Sends CommandApdus over a Connection and returns whole Responses.

    `apdu_count` counts the raw APDUs sent, so tests and benchmarks can assert the cost
    of each operation."""

    def __init__(
        self,
        connection: Connection,
        *,
        extended_length: bool | None = None,
        tracer: ApduTracer | None = None,
    ) -> None:
        self.connection = connection
        if extended_length is None:
            extended_length = bool(getattr(connection, "extended_length", False))
        self.extended_length = extended_length
        self.tracer = tracer or ApduTracer()
        self.apdu_count = 0

    def _raw(self, apdu: bytes) -> tuple[bytes, int]:
        self.apdu_count += 1
        data, sw = self.connection.transmit(apdu)
        if not 0 <= sw <= 0xFFFF:
            raise MalformedResponseError(f"status word out of range: {sw}")
        if type(data) is not bytes:  # a Connection may hand back a bytearray or list
            data = bytes(data)
        self.tracer.exchange(apdu, data, sw)
        return data, sw

    def transmit(self, command: CommandApdu) -> Response:
        """Send one logical command; returns the complete response."""
        start = self.apdu_count
        le = command.le  # needs_extended(), inlined: this runs for every command
        if len(command.data) > SHORT_MAX_LC or (le is not None and le > SHORT_MAX_LE):
            if self.extended_length:
                apdu = command.encode(extended=True)
            else:
                command = self._send_chained_prefix(command)
                if command.le is not None and command.le > SHORT_MAX_LE:
                    command = command.with_le(SHORT_MAX_LE)
                apdu = command.encode(extended=False)
        else:
            apdu = command.encode(extended=False)
        # _raw(apdu), written out: this is the one exchange nearly every command makes.
        self.apdu_count += 1
        data, sw = self.connection.transmit(apdu)
        if not 0 <= sw <= 0xFFFF:
            raise MalformedResponseError(f"status word out of range: {sw}")
        if type(data) is not bytes:  # a Connection may hand back a bytearray or list
            data = bytes(data)
        self.tracer.exchange(apdu, data, sw)
        sw1 = sw >> 8
        if sw1 == 0x6C:
            # Wrong Le: the card tells the exact length; re-send once with it.
            exact = (sw & 0xFF) or 256
            data, sw = self._raw(command.with_le(exact).encode(extended=False))
            if sw >> 8 == 0x6C:
                raise MalformedResponseError("card answered 6Cxx twice for the same command")
            sw1 = sw >> 8
        if sw1 == 0x61:
            data, sw = self._collect_get_response(command.cla, data, sw)
        return Response(data, sw, self.apdu_count - start)

    def transmit_checked(self, command: CommandApdu, message: str | None = None) -> Response:
        """transmit, raising the most specific ApduError unless the SW is 9000."""
        response = self.transmit(command)
        if not response.ok:
            raise error_for_sw(response.data, response.sw, message)
        return response

    def _collect_get_response(self, cla: int, data: bytes, sw: int) -> tuple[bytes, int]:
        chunks = [data]
        total = len(data)
        rounds = 0
        while sw >> 8 == 0x61:
            rounds += 1
            if rounds > MAX_GET_RESPONSE or total > MAX_RESPONSE_BYTES:
                raise MalformedResponseError("card keeps answering 61xx; response too long")
            length = (sw & 0xFF) or 256
            get_response = CommandApdu(cla & 0x03, 0xC0, 0x00, 0x00, b"", length)
            more, sw = self._raw(get_response.encode(extended=False))
            chunks.append(more)
            total += len(more)
        return b"".join(chunks), sw

    def _send_chained_prefix(self, command: CommandApdu) -> CommandApdu:
        """Send all but the last block of long data with the chaining bit (CLA b5) and
        return the command that carries the last block."""
        data = command.data
        while len(data) > SHORT_MAX_LC:
            block, data = data[:SHORT_MAX_LC], data[SHORT_MAX_LC:]
            chained = CommandApdu(command.cla | 0x10, command.ins, command.p1, command.p2, block)
            _, sw = self._collect_get_response(command.cla, *self._raw(chained.encode()))
            if sw != 0x9000:
                raise error_for_sw(b"", sw, "command chaining refused")
        return CommandApdu(command.cla, command.ins, command.p1, command.p2, data, command.le)
