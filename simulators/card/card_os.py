"""The card OS: dispatches a decoded command on its INS to a handler. Handlers return
response data or raise SwError; `execute` is the one place that turns either into
(data, SW).

Decisions where jpki-card.md leaves room (each a choice, documented here once):

- CLA: 00 for every command, 80 for COMPUTE DIGITAL SIGNATURE (80 2A) only. Any other
  CLA, and 00 2A or 80 with another INS, -> 6E00. Unknown INS -> 6D00 (checked after
  the CLA is one of 00/80).
- SELECT: P1=04 selects an applet by its exact AID (Lc 1-16, else 6700); an unknown
  AID -> 6A82 whatever P2 is (drivers probing other AIDs must see "not found"); a
  known AID needs P2=0C (no FCI), else 6A86. P1=02 P2=0C selects an EF of the current
  applet (Lc must be 2, else 6700); any other P1/P2 -> 6A86. Selecting an EF before
  any applet -> 6A82: after reset the current DF is the master file, which holds none
  of the applets' EFs. A failed SELECT leaves the selection as it was. Le on SELECT is
  ignored.
- Selecting an applet clears verified PINs; re-selecting the applet that is already
  current clears them too unless `reselect_clears_pins` is False (OpenSC logs out by
  re-selecting, so a real card must clear; the option exists for clients that want to
  test the opposite assumption).
- READ BINARY: P1 b8 (short EF identifier addressing) -> 6A86, the card does not
  support it. No Le, or a data field -> 6700. No current EF -> 6986. Key and PIN EFs
  -> 6981 (not a transparent file). PIN not verified -> 6982, checked before the offset
  so the EF size does not leak. Offset at or past the end -> 6B00; otherwise up to Le
  bytes, fewer at the end of the file, SW 9000.
- VERIFY (00 20 00 80): needs the current EF to be a PIN EF (else 6986). Blocked ->
  6984 with or without data. No data: 9000 if verified since the last selection, else
  63Cx. A PIN of the wrong format (length or characters) is compared like any other
  and counts as a wrong try (63Cx): the card has no separate format check on VERIFY,
  and a correct client never sends one, so it must validate before spending a try.
  A failed VERIFY also drops that PIN's verified state.
- CHANGE REFERENCE DATA (00 24 01 80): current EF must be a PIN EF (6986), not blocked
  (6984), verified in this selection (6982); a new PIN of the wrong format -> 6A80;
  success resets the retry counter and keeps the PIN verified.
- COMPUTE DIGITAL SIGNATURE (80 2A 00 80): current EF must be a key EF (6986), its PIN
  verified (6982); no data, data longer than the modulus size minus 11 (no room for
  PKCS#1 type-1 padding), or Le present and below the signature size -> 6700.
"""

from __future__ import annotations

from collections.abc import Callable

from card.apdu import CommandApdu
from jpki.constants import PinKind
from simulators.card.admin import IssuerAdmin
from simulators.card.errors import (
    SW_BAD_P1P2,
    SW_BLOCKED,
    SW_CLA,
    SW_INCOMPATIBLE_FILE,
    SW_INS,
    SW_NO_CURRENT_EF,
    SW_NOT_FOUND,
    SW_OFFSET,
    SW_OK,
    SW_SECURITY_STATUS,
    SW_WRONG_DATA,
    SW_WRONG_LENGTH,
    SwError,
    sw_wrong_pin,
)
from simulators.card.filesystem import (
    Applet,
    BinaryFile,
    ElementaryFile,
    FileSystem,
    KeyFile,
    PinFile,
)
from simulators.card.security import PinRecord, SecurityState, pin_format_ok

INS_VERIFY = 0x20
INS_CHANGE_REFERENCE_DATA = 0x24
INS_COMPUTE_DIGITAL_SIGNATURE = 0x2A
INS_SELECT = 0xA4
INS_READ_BINARY = 0xB0
INS_GET_RESPONSE = 0xC0

CLA_ISO = 0x00
CLA_PROPRIETARY = 0x80

MAX_AID_LENGTH = 16
PKCS1_TYPE1_OVERHEAD = 11  # 00 01, at least 8 bytes of FF, 00

Handler = Callable[[CommandApdu], bytes]


class CardOs:
    """Volatile selection state plus the handlers. Files and the security state are
    passed in; the OS owns only what a reset clears."""

    def __init__(
        self,
        filesystem: FileSystem,
        security: SecurityState,
        *,
        reselect_clears_pins: bool,
        issuer_key: bytes | None = None,
    ) -> None:
        self.filesystem = filesystem
        self.security = security
        self.reselect_clears_pins = reselect_clears_pins
        self.current_applet: Applet | None = None
        self.current_ef: ElementaryFile | None = None
        self._handlers: dict[int, tuple[int, Handler]] = {
            INS_SELECT: (CLA_ISO, self._select),
            INS_READ_BINARY: (CLA_ISO, self._read_binary),
            INS_VERIFY: (CLA_ISO, self._verify),
            INS_CHANGE_REFERENCE_DATA: (CLA_ISO, self._change_reference_data),
            INS_COMPUTE_DIGITAL_SIGNATURE: (CLA_PROPRIETARY, self._compute_signature),
        }
        # The issuer's commands (a model, see admin.py) join the dispatch table.
        self.admin = IssuerAdmin(self, issuer_key)
        self.admin.install(self._handlers)

    def __repr__(self) -> str:
        applet = self.current_applet.label if self.current_applet else None
        return f"CardOs(applet={applet!r}, ef={getattr(self.current_ef, 'fid', None)})"

    def reset(self) -> None:
        """Power-on or warm reset: nothing selected, no PIN verified."""
        self.current_applet = None
        self.current_ef = None
        self.security.clear_verified()
        self.admin.end()

    def execute(self, command: CommandApdu) -> tuple[bytes, int]:
        try:
            return self._dispatch(command), SW_OK
        except SwError as error:
            return b"", error.sw

    def _dispatch(self, command: CommandApdu) -> bytes:
        if command.cla not in (CLA_ISO, CLA_PROPRIETARY):
            raise SwError(SW_CLA)
        entry = self._handlers.get(command.ins)
        if entry is None:
            raise SwError(SW_INS)
        cla, handler = entry
        if command.cla != cla:
            raise SwError(SW_CLA)
        return handler(command)

    # --- SELECT ---------------------------------------------------------------------

    def _select(self, command: CommandApdu) -> bytes:
        if command.p1 == 0x04:
            self._select_applet(command.data, command.p2)
        elif command.p1 == 0x02 and command.p2 == 0x0C:
            self._select_ef(command.data)
        else:
            raise SwError(SW_BAD_P1P2)
        return b""

    def _select_applet(self, aid: bytes, p2: int) -> None:
        if not 1 <= len(aid) <= MAX_AID_LENGTH:
            raise SwError(SW_WRONG_LENGTH)
        applet = self.filesystem.applet(aid)
        # Unknown AIDs answer 6A82 whatever P2 says: OpenSC's other drivers probe with
        # P2=00 and must see "not here", not a parameter error.
        if applet is None:
            raise SwError(SW_NOT_FOUND)
        if p2 != 0x0C:
            raise SwError(SW_BAD_P1P2)
        if applet is not self.current_applet or self.reselect_clears_pins:
            self.security.clear_verified()
        self.admin.end()  # any SELECT by DF name ends the issuer's admin state
        self.current_applet = applet
        self.current_ef = None

    def _select_ef(self, fid_bytes: bytes) -> None:
        if len(fid_bytes) != 2:
            raise SwError(SW_WRONG_LENGTH)
        if self.current_applet is None:
            raise SwError(SW_NOT_FOUND)
        ef = self.current_applet.files.get(int.from_bytes(fid_bytes, "big"))
        if ef is None:
            raise SwError(SW_NOT_FOUND)
        self.current_ef = ef

    # --- READ BINARY ----------------------------------------------------------------

    def _read_binary(self, command: CommandApdu) -> bytes:
        if command.p1 & 0x80:
            raise SwError(SW_BAD_P1P2)
        if command.data or command.le is None:
            raise SwError(SW_WRONG_LENGTH)
        ef = self.current_ef
        if ef is None:
            raise SwError(SW_NO_CURRENT_EF)
        if not isinstance(ef, BinaryFile):
            raise SwError(SW_INCOMPATIBLE_FILE)
        if ef.read_pin is not None and not self.security.is_verified(ef.read_pin):
            raise SwError(SW_SECURITY_STATUS)
        offset = (command.p1 << 8) | command.p2
        if offset >= len(ef.data):
            raise SwError(SW_OFFSET)
        return ef.data[offset : offset + command.le]

    # --- PINs -----------------------------------------------------------------------

    def _current_pin(self) -> tuple[PinKind, PinRecord]:
        ef = self.current_ef
        if not isinstance(ef, PinFile):
            raise SwError(SW_NO_CURRENT_EF)
        return ef.pin, self.security.pins[ef.pin]

    def _verify(self, command: CommandApdu) -> bytes:
        if command.p1 != 0x00 or command.p2 != 0x80:
            raise SwError(SW_BAD_P1P2)
        if command.le is not None:
            raise SwError(SW_WRONG_LENGTH)
        kind, record = self._current_pin()
        if record.blocked:
            raise SwError(SW_BLOCKED)
        if not command.data:  # status query: spends nothing
            if kind in self.security.verified:
                return b""
            raise SwError(sw_wrong_pin(record.tries_left))
        # Format is not checked separately: a malformed PIN simply does not match.
        if pin_format_ok(kind, command.data) and record.matches(command.data):
            record.tries_left = record.max_tries
            self.security.verified.add(kind)
            return b""
        record.tries_left -= 1
        self.security.verified.discard(kind)
        raise SwError(sw_wrong_pin(record.tries_left))

    def _change_reference_data(self, command: CommandApdu) -> bytes:
        if command.p1 != 0x01 or command.p2 != 0x80:
            raise SwError(SW_BAD_P1P2)
        if not command.data or command.le is not None:
            raise SwError(SW_WRONG_LENGTH)
        kind, record = self._current_pin()
        if record.blocked:
            raise SwError(SW_BLOCKED)
        if not self.security.is_verified(kind):
            raise SwError(SW_SECURITY_STATUS)
        if not pin_format_ok(kind, command.data):
            raise SwError(SW_WRONG_DATA)
        record.replace(command.data)
        return b""

    # --- COMPUTE DIGITAL SIGNATURE --------------------------------------------------

    def _compute_signature(self, command: CommandApdu) -> bytes:
        if command.p1 != 0x00 or command.p2 != 0x80:
            raise SwError(SW_BAD_P1P2)
        ef = self.current_ef
        if not isinstance(ef, KeyFile):
            raise SwError(SW_NO_CURRENT_EF)
        if not self.security.is_verified(ef.use_pin):
            raise SwError(SW_SECURITY_STATUS)
        size = (self.security.keys.key_size(ef.key) + 7) // 8
        data = command.data
        if not data or len(data) > size - PKCS1_TYPE1_OVERHEAD:
            raise SwError(SW_WRONG_LENGTH)
        if command.le is not None and command.le < size:
            raise SwError(SW_WRONG_LENGTH)
        # EMSA-PKCS1-v1_5 type 1 over the bytes exactly as given (the host's DigestInfo).
        encoded = b"\x00\x01" + b"\xff" * (size - 3 - len(data)) + b"\x00" + data
        return self.security.keys.raw_sign(ef.key, encoded)
