"""APDU trace logging below DEBUG, with secrets and personal data redacted.

Enable with `logging.getLogger("card.apdu").setLevel(card.trace.TRACE)`."""

from __future__ import annotations

import logging

TRACE = 5
logging.addLevelName(TRACE, "TRACE")
logger = logging.getLogger("card.apdu")

# VERIFY, CHANGE REFERENCE DATA, RESET RETRY COUNTER carry PINs in their data field.
_PIN_INS = frozenset({0x20, 0x24, 0x2C})
# Applets whose files hold the My Number and the basic 4 facts (card-info input helper,
# card surface, resident registry) share this AID prefix; their READ BINARY answers are
# personal data and never reach a trace.
PERSONAL_DATA_AID_PREFIX = bytes.fromhex("D392100031")
# The JPKI applet's signature certificate (EF 0001) carries the basic 4 facts in its
# subjectAltName, so reads of that one file are personal data too.
PERSONAL_DATA_FILES = frozenset({(bytes.fromhex("D392F000260100000001"), 0x0001)})


class ApduTracer:
    """Formats exchanges for the trace log; remembers the selected applet so that
    personal data read from it is redacted."""

    def __init__(self, log: logging.Logger = logger) -> None:
        self._log = log
        self._applet = b""
        self._file: int | None = None

    def command_text(self, apdu: bytes) -> str:
        if len(apdu) > 5 and apdu[1] in _PIN_INS:
            return f"{apdu[:4].hex(' ').upper()} <{len(apdu) - 5} bytes redacted>"  # the PIN bytes
        return apdu.hex(" ").upper()

    @property
    def reading_personal_data(self) -> bool:
        return self._applet.startswith(PERSONAL_DATA_AID_PREFIX) or (
            (self._applet, self._file) in PERSONAL_DATA_FILES
        )

    def response_text(self, command: bytes, data: bytes, sw: int) -> str:
        if data and len(command) > 1 and command[1] == 0xB0 and self.reading_personal_data:
            return f"<{len(data)} bytes of personal data redacted> {sw:04X}"
        return f"{data.hex(' ').upper()} {sw:04X}".lstrip()

    def _observe_select(self, command: bytes) -> None:
        body = command[5 : 5 + command[4]]
        if command[2] == 0x04:  # SELECT by DF name: a new applet, no EF selected yet
            self._applet, self._file = body, None
        elif command[2] == 0x02 and len(body) == 2:  # SELECT EF by file id
            self._file = int.from_bytes(body, "big")

    def exchange(self, command: bytes, data: bytes, sw: int) -> None:
        # Called for every APDU, traced or not: the selection must be known when the
        # trace is switched on later, or personal data read then would not be redacted.
        # Only a successful SELECT (INS A4) with a body changes it, so that is all the
        # untraced path looks at.
        if sw == 0x9000 and len(command) > 4 and command[1] == 0xA4:
            self._observe_select(command)
        if self._log.isEnabledFor(TRACE):
            self._log.log(TRACE, "> %s", self.command_text(command))
            self._log.log(TRACE, "< %s", self.response_text(command, data, sw))
