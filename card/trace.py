"""APDU trace logging below DEBUG, with secrets and personal data redacted.

Enable with `logging.getLogger("card.apdu").setLevel(card.trace.TRACE)`.

Redaction goes by what the data is, not by which command carries it: the tracer follows
the card's selection (applet and EF) and, while a personal-data file is selected, every
response byte is redacted, whether it came back to READ BINARY, to GET RESPONSE after
61xx (T=0), to a re-sent command after 6Cxx, or to anything else. A selection it cannot
follow (SELECT by path, by a partial AID, a read through a short EF identifier) counts
as personal until a selection it understands replaces it."""

from __future__ import annotations

import logging

TRACE = 5
logging.addLevelName(TRACE, "TRACE")
logger = logging.getLogger("card.apdu")

# VERIFY, CHANGE REFERENCE DATA, RESET RETRY COUNTER carry PINs in their data field.
_PIN_INS = frozenset({0x20, 0x24, 0x2C})
_SELECT = 0xA4
_GET_RESPONSE = 0xC0
# READ BINARY / READ RECORD (both parities): P1 b8 set (binary) or P2 b4..b8 (record)
# names a file by short EF identifier, an implicit selection the tracer cannot map.
_READ_BINARY_INS = frozenset({0xB0, 0xB1})
_READ_RECORD_INS = frozenset({0xB2, 0xB3})
# Applets whose files hold the My Number and the basic 4 facts (card-info input helper,
# card surface, resident registry) share this AID prefix; their answers are personal
# data and never reach a trace.
PERSONAL_DATA_AID_PREFIX = bytes.fromhex("D392100031")
# The JPKI applet's signature certificate (EF 0001) carries the basic 4 facts in its
# subjectAltName, so data from that one file is personal data too.
PERSONAL_DATA_FILES = frozenset({(bytes.fromhex("D392F000260100000001"), 0x0001)})
_MASTER_FILE = 0x3F00


class _Unknown:
    """A selection the tracer could not follow."""

    def __repr__(self) -> str:
        return "<unknown selection>"


UNKNOWN = _Unknown()


class ApduTracer:
    """Formats exchanges for the trace log; follows the card's selection so that
    personal data coming back from it is redacted."""

    def __init__(self, log: logging.Logger = logger) -> None:
        self._log = log
        self._applet: bytes | _Unknown = b""
        self._file: int | _Unknown | None = None
        # GET RESPONSE hands out the answer of the command before it: remember whose.
        self._answering = 0x00

    def command_text(self, apdu: bytes) -> str:
        if len(apdu) > 5 and apdu[1] in _PIN_INS:
            return f"{apdu[:4].hex(' ').upper()} <{len(apdu) - 5} bytes redacted>"  # the PIN bytes
        return apdu.hex(" ").upper()

    @property
    def reading_personal_data(self) -> bool:
        applet, file = self._applet, self._file
        if isinstance(applet, _Unknown) or isinstance(file, _Unknown):
            return True
        return applet.startswith(PERSONAL_DATA_AID_PREFIX) or (applet, file) in PERSONAL_DATA_FILES

    def response_text(self, command: bytes, data: bytes, sw: int) -> str:
        # A SELECT's own answer (FCI) describes the file just selected, not its content,
        # whether it comes at once or through GET RESPONSE.
        if data and self.reading_personal_data and self._answering != _SELECT:
            return f"<{len(data)} bytes of personal data redacted> {sw:04X}"
        return f"{data.hex(' ').upper()} {sw:04X}".lstrip()

    def _observe_select(self, command: bytes) -> None:
        p1 = command[2]
        body = command[5 : 5 + command[4]] if len(command) > 5 else b""
        if p1 == 0x04:  # SELECT by DF name: a new applet, no EF selected yet
            prefix = PERSONAL_DATA_AID_PREFIX
            if len(body) < len(prefix) and prefix.startswith(body):
                # A partial name the card may complete to a personal-data applet.
                self._applet, self._file = UNKNOWN, None
            else:
                self._applet, self._file = body, None
        elif p1 in (0x00, 0x02) and len(body) == 2:  # by file identifier
            file_id = int.from_bytes(body, "big")
            if file_id == _MASTER_FILE:
                self._applet, self._file = b"", None
            else:
                self._file = file_id
        elif p1 == 0x00 and not body:  # SELECT MF
            self._applet, self._file = b"", None
        else:  # by path, child/parent DF, anything else: cannot be followed
            self._applet, self._file = UNKNOWN, None

    def _observe(self, command: bytes, sw: int) -> None:
        ins = command[1]
        accepted = sw == 0x9000 or sw >> 8 in (0x61, 0x62, 0x63)
        if ins == _SELECT:
            if accepted:
                self._observe_select(command)
        elif len(command) > 3 and (
            (ins in _READ_BINARY_INS and command[2] & 0x80)
            or (ins in _READ_RECORD_INS and command[3] >> 3)
        ):
            self._file = UNKNOWN  # an EF named by short identifier is now selected

    def exchange(self, command: bytes, data: bytes, sw: int) -> None:
        # Called for every APDU, traced or not: the selection must be known when the
        # trace is switched on later, or personal data read then would not be redacted.
        # Selection changes are judged before the answer is formatted, so the FCI of a
        # SELECT is shown and the content of a personal file never is.
        if len(command) > 3:
            if command[1] != _GET_RESPONSE:
                self._answering = command[1]
            self._observe(command, sw)
        else:
            self._answering = 0x00
        if self._log.isEnabledFor(TRACE):
            self._log.log(TRACE, "> %s", self.command_text(command))
            self._log.log(TRACE, "< %s", self.response_text(command, data, sw))
