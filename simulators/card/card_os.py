"""The card OS: dispatches a decoded command on (CLA class, INS) to a handler. Handlers
return response data or raise SwError; `execute` is the one place that turns either
into (data, SW). To add a command, add one entry to `CardOs.handlers` (see `register`).

What real cards do is in docs real-card-notes.md (tags [obs] measured, [src] stated);
each behaviour below follows it, and where the notes are silent the choice is named
here once (docs/decisions.md, issue 11, has the list).

- CLA: b8-b5 0000 (ISO) or 1000 (proprietary), logical channel in b2-b1, secure
  messaging in b4-b3. Any other CLA, or the chaining bit -> 6E00. A channel other than 0
  -> 6881 [obs]; MANAGE CHANNEL -> 6881 as well (there is no other channel to open).
  Secure messaging bits in an applet without a session -> 69FC [obs: CLA 08 on a read
  in JPKI]. Unknown INS -> 6D00; a known INS in the wrong class -> 6E00.
- SELECT: P1=04 by AID (Lc 1-16, else 6700), or by a leading part of one (at least the
  5-byte RID, the first match) [src]: unknown AID -> 6A82 whatever P2 is
  (drivers probing other AIDs must see "not found"); a known AID needs P2=0C (no FCI),
  else 6A86. The GlobalPlatform ISD AID restores the power-on state (MF current, no PIN
  verified) [obs]. P1=00 without data (SELECT MF): 6A86 with the MF current, 9000 with
  nothing changed with an applet current [obs]; P1=00 naming 3F00 -> 6A82 [obs]; other
  P1=00 forms -> 6A86. P1=02 P2=0C selects an EF of the current DF (Lc 2, else 6700);
  the MF holds only the internal EF 001E [obs]. A failed SELECT changes nothing.
- Security status: selecting another applet clears verified PINs [obs]; re-selecting the
  current applet keeps them [src] and so does a warm reset [obs]; an unpower clears
  them [obs]. Options (simulators.card.options) turn on the opposite behaviours.
- READ BINARY: P1 b8=0: 15-bit offset in the current EF; P1 b8=1: short EF id in b5-b1
  (P1 b7-b6 must be 0, else 6A86), 8-bit offset in P2, and the EF becomes current
  [src]. No Le, or a data field -> 6700. No current EF -> 6986; a key, PIN or internal
  EF -> 6981 [obs for MF 001E]; read rule not met -> 6982, checked before the offset so
  the size does not leak; offset at or past the end -> 6B00; otherwise up to Le bytes.
- VERIFY (00 20 00 P2): P2=80 the current PIN EF (else 6986); P2=80|sfi the PIN EF by
  short id, no SELECT needed, current EF unchanged [src]; a short id that names no PIN
  -> 6A88. Blocked: with data 6984 [obs], the empty status query 63C0 [obs]. No data:
  9000 if verified, else 63Cx. A PIN of the wrong format is compared like any other
  and counts as a wrong try: the card has no separate format check, so a client must
  validate before spending a try. A failed VERIFY drops that PIN's verified state.
- CHANGE REFERENCE DATA (00 24 01 80): current EF a PIN EF (6986), not blocked (6984),
  verified (6982); a new PIN of the wrong format -> 6A80; success resets the counter.
- COMPUTE DIGITAL SIGNATURE (80 2A P1 P2) [obs]: P1 00-05 pick the scheme (SCHEMES),
  other P1 -> 6A86. P2=80 the current key EF (else 6986), P2=80|sfi the key by short id
  without a SELECT (no key there -> 6A88), other P2 -> 6A86. The key's PIN verified
  (6982). Input: none -> 6700; longer than the scheme allows -> 6700; not the 32 bytes a
  pre-hashed scheme needs -> 6985 (the notes give "6985 or 6700" without saying which).
  Le present and below the signature size -> 6700.
- INTERNAL AUTHENTICATE (00 88 00 P2): a key behind a PIN -> 6982 [obs]; the common
  AP's EF 0019 key (KeyFile.internal_auth) answers with sha256WithRSA (PKCS#1 v1.5)
  over the 1-255 data bytes as sent, no credential [obs]; any other key without a PIN
  -> 6985 (the surface AP's keys [obs]); no key by that reference -> 6A88.
- COMPUTE DIGITAL SIGNATURE with P2=00 signs with the current applet's own default key
  (Applet.default_key: the card-info and card-surface APs' keys, no credential [obs]).
- READ RECORD (00 B2 <record> 04 Le): the current EF must be a record EF (6981; none:
  6986), its read rule met (6982); records count from 1, a missing one -> 6A83 (the
  common AP's EF 0001/0002 [obs]).
- GET CHALLENGE (00 84 00 00 Le) [obs]: Le bytes (1-256) from the OS random source, at
  the MF and in any applet; P1-P2 not 00 -> 6A86; extended form -> 6985; no Le or data
  -> 6700.
- GET DATA (00 CA tag) [obs]: the card-level objects answer with the MF current (5F51,
  the ATR, in applets too); an absent object -> 6A88. An object over 256 bytes needs an
  extended Le (short Le -> 6700) [obs]; a short object with a smaller Le -> 6Cxx.
- SET SESSION KEY (80 AE) in JPKI and 住基 -> 6982 [obs], in the surface and common APs
  66F1 [obs]; `80 FC` (the iPhone profile's command) -> 6700 on a physical card [obs].
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum

from card.apdu import SHORT_MAX_LE, CommandApdu
from jpki.constants import Aid, PinKind
from simulators.card.admin import IssuerAdmin
from simulators.card.errors import (
    SW_BAD_P1P2,
    SW_BLOCKED,
    SW_CLA,
    SW_CONDITIONS,
    SW_INCOMPATIBLE_FILE,
    SW_INS,
    SW_INTERNAL,
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
    InternalFile,
    KeyFile,
    PinFile,
    RecordFile,
)
from simulators.card.options import CardOptions
from simulators.card.security import PinRecord, SecurityState, pin_format_ok

INS_VERIFY = 0x20
INS_CHANGE_REFERENCE_DATA = 0x24
INS_COMPUTE_DIGITAL_SIGNATURE = 0x2A
INS_MANAGE_CHANNEL = 0x70
INS_GET_CHALLENGE = 0x84
INS_INTERNAL_AUTHENTICATE = 0x88
INS_SELECT = 0xA4
INS_SET_SESSION_KEY = 0xAE
INS_READ_BINARY = 0xB0
INS_READ_RECORD = 0xB2
INS_GET_RESPONSE = 0xC0
INS_GET_DATA = 0xCA
INS_IPHONE_PROFILE = 0xFC

CLA_ISO = 0x00
CLA_PROPRIETARY = 0x80

SW_CHANNEL_NOT_SUPPORTED = 0x6881
SW_SM_NOT_ACTIVE = 0x69FC
SW_REFERENCE_NOT_FOUND = 0x6A88
SW_NO_SESSION_KEY = 0x66F1
SW_RECORD_NOT_FOUND = 0x6A83

MAX_AID_LENGTH = 16
MIN_AID_PREFIX = 5  # a registered application provider id (RID)
PKCS1_TYPE1_OVERHEAD = 11  # 00 01, at least 8 bytes of FF, 00
SHA256_SIZE = 32
MAX_HASHED_INPUT = 255  # the card-side hashing schemes take one short APDU of data
SHORT_ID_MAX = 0x1E
FID_MF = 0x3F00
MF_INTERNAL_EF = 0x001E
TAG_ATR = 0x5F51
TAG_LOWER_CV = 0x7F21
SHA256_DIGESTINFO_PREFIX = bytes.fromhex("3031300d060960864801650304020105000420")

# Commands that carry no response data: in T=0 their case-1 form is `CLA INS P1 P2 00`
# (ISO 7816-3 P3=00), which must not be read as "Le=256" (transport.T0Framer).
NO_RESPONSE_INS = frozenset({INS_VERIFY, INS_CHANGE_REFERENCE_DATA, INS_SELECT})

# SET SESSION KEY where no secure messaging is reachable: which refusal each applet
# gives [obs]. Applets not named (and the MF) answer 6982.
SESSION_KEY_REFUSAL: dict[bytes, int] = {
    Aid.JPKI.value: SW_SECURITY_STATUS,
    Aid.RESIDENT_REGISTRY.value: SW_SECURITY_STATUS,
    Aid.CARD_SURFACE.value: SW_NO_SESSION_KEY,
    Aid.COMMON.value: SW_NO_SESSION_KEY,
}

Handler = Callable[[CommandApdu], bytes]


class SignatureScheme(IntEnum):
    """P1 of COMPUTE DIGITAL SIGNATURE: three paddings, with or without card hashing."""

    PKCS1_AS_SENT = 0x00  # PKCS#1 v1.5 over the data as sent (a DigestInfo)
    PKCS1_SHA256_BARE = 0x01  # card hashes, signs the bare hash
    PKCS1_PREHASHED = 0x02  # host sends the SHA-256 hash, card wraps it in a DigestInfo
    PKCS1_SHA256 = 0x03  # card hashes and wraps
    PSS_PREHASHED = 0x04  # PSS over the host's SHA-256 hash
    PSS_SHA256 = 0x05  # card hashes, then PSS


_PREHASHED = frozenset({SignatureScheme.PKCS1_PREHASHED, SignatureScheme.PSS_PREHASHED})


@dataclass(frozen=True)
class MasterFile:
    """The MF as real cards show it: no readable EF, only the internal 001E [obs]."""

    files: dict[int, ElementaryFile]


MF = MasterFile({MF_INTERNAL_EF: InternalFile(MF_INTERNAL_EF)})


class CardOs:
    """Volatile selection state plus the handlers. Files and the security state are
    passed in; the OS owns only what a reset clears."""

    def __init__(
        self,
        filesystem: FileSystem,
        security: SecurityState,
        *,
        options: CardOptions | None = None,
        mf_objects: dict[int, bytes] | None = None,
        atr: Callable[[], bytes] | None = None,
        issuer_key: bytes | None = None,
    ) -> None:
        self.filesystem = filesystem
        self.security = security
        self.options = options or CardOptions()
        self.mf_objects = mf_objects if mf_objects is not None else {}
        self._atr = atr
        self.current_applet: Applet | None = None  # None: the MF is the current DF
        self.current_ef: ElementaryFile | None = None
        self.extended = False  # whether the command being executed used extended length
        self._fail_next = False
        self.handlers: dict[tuple[int, int], Handler] = {}
        self.register(CLA_ISO, INS_SELECT, self._select)
        self.register(CLA_ISO, INS_READ_BINARY, self._read_binary)
        self.register(CLA_ISO, INS_READ_RECORD, self._read_record)
        self.register(CLA_ISO, INS_VERIFY, self._verify)
        self.register(CLA_ISO, INS_CHANGE_REFERENCE_DATA, self._change_reference_data)
        self.register(CLA_ISO, INS_GET_CHALLENGE, self._get_challenge)
        self.register(CLA_ISO, INS_GET_DATA, self._get_data)
        self.register(CLA_ISO, INS_INTERNAL_AUTHENTICATE, self._internal_authenticate)
        self.register(CLA_ISO, INS_MANAGE_CHANNEL, self._manage_channel)
        self.register(CLA_PROPRIETARY, INS_COMPUTE_DIGITAL_SIGNATURE, self._compute_signature)
        self.register(CLA_PROPRIETARY, INS_SET_SESSION_KEY, self._set_session_key)
        self.register(CLA_PROPRIETARY, INS_IPHONE_PROFILE, self._iphone_profile)
        # The issuer's commands (a MODEL, see admin.py) join the dispatch table.
        self.admin = IssuerAdmin(self, issuer_key)
        self.admin.install(self)

    def register(self, cla: int, ins: int, handler: Handler) -> None:
        """Add a command: `cla` is CLA_ISO or CLA_PROPRIETARY (channel and SM bits are
        decoded before dispatch)."""
        self.handlers[(cla, ins)] = handler

    def __repr__(self) -> str:
        applet = self.current_applet.label if self.current_applet else "MF"
        return f"CardOs(df={applet!r}, ef={getattr(self.current_ef, 'fid', None)})"

    @property
    def reselect_clears_pins(self) -> bool:
        return self.options.reselect_clears_pins

    def power_on(self) -> None:
        """Cold reset (after an unpower): MF current, no PIN verified."""
        self.current_applet = None
        self.current_ef = None
        self.security.clear_verified()
        self._fail_next = self.options.first_command_after_power_fails
        self.admin.end()

    def warm_reset(self) -> None:
        """Warm reset: MF current again; verified PINs stay [obs] unless the option says
        a warm reset clears them."""
        self.current_applet = None
        self.current_ef = None
        if self.options.warm_reset_clears_pins:
            self.security.clear_verified()
        self.admin.end()  # the issuer's admin state never outlives a reset

    reset = power_on

    def execute(self, command: CommandApdu, *, extended: bool = False) -> tuple[bytes, int]:
        if self._fail_next:
            self._fail_next = False
            return b"", SW_INTERNAL
        self.extended = extended
        try:
            return self._dispatch(command), SW_OK
        except SwError as error:
            return b"", error.sw

    def _dispatch(self, command: CommandApdu) -> bytes:
        cla = command.cla
        group = cla & 0xE0
        if 0x40 <= cla <= 0x7F:
            # Further interindustry classes: logical channels 4-19.
            raise SwError(SW_CHANNEL_NOT_SUPPORTED)
        if group not in (0x00, 0x80) or cla & 0x10:
            raise SwError(SW_CLA)  # RFU classes, 0xFF, and the chaining bit
        if cla & 0x03:
            raise SwError(SW_CHANNEL_NOT_SUPPORTED)  # only channel 0 [obs]
        base = cla & 0x80
        handler = self.handlers.get((base, command.ins))
        if handler is None:
            other = self.handlers.get((base ^ 0x80, command.ins))
            raise SwError(SW_CLA if other is not None else SW_INS)
        if cla & 0x0C:
            return self.secure_messaging(command, handler)
        return handler(command)

    def secure_messaging(self, command: CommandApdu, handler: Handler) -> bytes:
        """A command with the SM bits in CLA. No applet here opens a session, so every
        such command answers 69FC ("SM not active"); an applet with secure messaging
        overrides this."""
        raise SwError(SW_SM_NOT_ACTIVE)

    # --- helpers --------------------------------------------------------------------

    def _current_files(self) -> dict[int, ElementaryFile]:
        return self.current_applet.files if self.current_applet is not None else MF.files

    def _by_short_id(self, reference: int) -> ElementaryFile | None:
        """The EF whose short id is the low five bits of P1/P2 (80|sfi)."""
        sfi = reference & 0x1F
        if not 1 <= sfi <= SHORT_ID_MAX:
            return None
        return self._current_files().get(sfi)

    # --- SELECT ---------------------------------------------------------------------

    def _select(self, command: CommandApdu) -> bytes:
        if command.p1 == 0x04:
            self._select_applet(command.data, command.p2)
        elif command.p1 == 0x02 and command.p2 == 0x0C:
            self._select_ef(command.data)
        elif command.p1 == 0x00:
            self._select_mf(command.data, command.p2)
        else:
            raise SwError(SW_BAD_P1P2)
        return b""

    def _select_applet(self, aid: bytes, p2: int) -> None:
        if not 1 <= len(aid) <= MAX_AID_LENGTH:
            raise SwError(SW_WRONG_LENGTH)
        if aid == Aid.ISSUER_SECURITY_DOMAIN.value:
            if p2 != 0x0C:
                raise SwError(SW_BAD_P1P2)
            self.current_applet = None  # the power-on state [obs]
            self.current_ef = None
            self.security.clear_verified()
            return
        applet = self.filesystem.applet(aid) or self._applet_by_prefix(aid)
        # Unknown AIDs answer 6A82 whatever P2 says: OpenSC's other drivers probe with
        # P2=00 and must see "not here", not a parameter error.
        if applet is None:
            raise SwError(SW_NOT_FOUND)
        if p2 != 0x0C:
            raise SwError(SW_BAD_P1P2)
        self.security.enter_applet(applet.aid, reselect_clears=self.options.reselect_clears_pins)
        self.admin.end()  # any SELECT by DF name ends the issuer's admin state
        self.current_applet = applet
        self.current_ef = None

    def _applet_by_prefix(self, prefix: bytes) -> Applet | None:
        """Selection by a leading part of an AID is legal [src, JICSAP 4.2(1)]: the
        first applet whose AID starts with it. At least the 5-byte RID, so that no
        other driver's probe of a short AID lands here. (P2=02, "next occurrence", is
        not implemented: the notes record no result for it.)"""
        if len(prefix) < MIN_AID_PREFIX:
            return None
        for applet in self.filesystem.applets.values():
            if applet.aid.startswith(prefix):
                return applet
        return None

    def _select_mf(self, data: bytes, p2: int) -> None:
        if data == FID_MF.to_bytes(2, "big"):
            raise SwError(SW_NOT_FOUND)  # 3F00 is not selectable [obs]
        if data or p2 not in (0x00, 0x0C):
            raise SwError(SW_BAD_P1P2)
        if self.current_applet is None:
            raise SwError(SW_BAD_P1P2)  # after a reset [obs]
        # With an applet current: 9000, and the current DF stays where it was [obs].

    def _select_ef(self, fid_bytes: bytes) -> None:
        if len(fid_bytes) != 2:
            raise SwError(SW_WRONG_LENGTH)
        ef = self._current_files().get(int.from_bytes(fid_bytes, "big"))
        if ef is None:
            raise SwError(SW_NOT_FOUND)
        self.current_ef = ef

    # --- READ BINARY ----------------------------------------------------------------

    def _read_binary(self, command: CommandApdu) -> bytes:
        if command.data or command.le is None:
            raise SwError(SW_WRONG_LENGTH)
        if command.p1 & 0x80:
            if command.p1 & 0x60:
                raise SwError(SW_BAD_P1P2)
            found = self._by_short_id(command.p1)
            if found is None:
                raise SwError(SW_NOT_FOUND)
            self.current_ef = found
            offset = command.p2
        else:
            offset = (command.p1 << 8) | command.p2
        ef = self.current_ef
        if ef is None:
            raise SwError(SW_NO_CURRENT_EF)
        if not isinstance(ef, BinaryFile):
            raise SwError(SW_INCOMPATIBLE_FILE)
        if not ef.access.allows(self.security.is_verified):
            raise SwError(SW_SECURITY_STATUS)
        if offset >= len(ef.data):
            raise SwError(SW_OFFSET)
        return ef.data[offset : offset + command.le]

    def _read_record(self, command: CommandApdu) -> bytes:
        if command.p2 != 0x04 or command.p1 == 0x00:
            raise SwError(SW_BAD_P1P2)
        if command.data or command.le is None:
            raise SwError(SW_WRONG_LENGTH)
        ef = self.current_ef
        if ef is None:
            raise SwError(SW_NO_CURRENT_EF)
        if not isinstance(ef, RecordFile):
            raise SwError(SW_INCOMPATIBLE_FILE)
        if not ef.access.allows(self.security.is_verified):
            raise SwError(SW_SECURITY_STATUS)
        if command.p1 > len(ef.records):
            raise SwError(SW_RECORD_NOT_FOUND)
        return ef.records[command.p1 - 1][: command.le]

    # --- PINs -----------------------------------------------------------------------

    def _pin_by_reference(self, p2: int) -> tuple[PinKind, PinRecord]:
        if p2 == 0x80:
            ef = self.current_ef
            if not isinstance(ef, PinFile):
                raise SwError(SW_NO_CURRENT_EF)
        elif p2 & 0xE0 == 0x80:
            found = self._by_short_id(p2)
            if not isinstance(found, PinFile):
                raise SwError(SW_REFERENCE_NOT_FOUND)
            ef = found
        else:
            raise SwError(SW_BAD_P1P2)
        return ef.pin, self.security.pins[ef.pin]

    def _verify(self, command: CommandApdu) -> bytes:
        if command.p1 != 0x00 or not command.p2 & 0x80:
            raise SwError(SW_BAD_P1P2)
        if command.le is not None:
            raise SwError(SW_WRONG_LENGTH)
        kind, record = self._pin_by_reference(command.p2)
        if not command.data:  # status query: spends nothing
            if record.blocked:
                # Real cards answer 63C0 here, 6984 only to a VERIFY with data [obs].
                raise SwError(
                    SW_BLOCKED if self.options.blocked_status_answers_6984 else sw_wrong_pin(0)
                )
            if kind in self.security.verified and not self.options.status_query_ignores_verified:
                return b""
            raise SwError(sw_wrong_pin(record.tries_left))
        if record.blocked:
            raise SwError(SW_BLOCKED)
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
        kind, record = self._pin_by_reference(command.p2)
        if record.blocked:
            raise SwError(SW_BLOCKED)
        if not self.security.is_verified(kind):
            raise SwError(SW_SECURITY_STATUS)
        if not pin_format_ok(kind, command.data):
            raise SwError(SW_WRONG_DATA)
        record.replace(command.data)
        return b""

    # --- keys -----------------------------------------------------------------------

    def _key_by_reference(self, p2: int) -> KeyFile:
        if p2 == 0x00:  # the current applet's own key (80 2A 00 00)
            applet = self.current_applet
            default = applet.default_key if applet is not None else None
            found = applet.files.get(default) if applet is not None and default else None
            if not isinstance(found, KeyFile):
                raise SwError(SW_REFERENCE_NOT_FOUND)
            return found
        if p2 == 0x80:
            ef = self.current_ef
            if not isinstance(ef, KeyFile):
                raise SwError(SW_NO_CURRENT_EF)
            return ef
        if p2 & 0xE0 == 0x80:
            found = self._by_short_id(p2)
            if not isinstance(found, KeyFile):
                raise SwError(SW_REFERENCE_NOT_FOUND)
            return found
        raise SwError(SW_BAD_P1P2)

    def _compute_signature(self, command: CommandApdu) -> bytes:
        try:
            scheme = SignatureScheme(command.p1)
        except ValueError:
            raise SwError(SW_BAD_P1P2) from None
        ef = self._key_by_reference(command.p2)
        if ef.use_pin is not None and not self.security.is_verified(ef.use_pin):
            raise SwError(SW_SECURITY_STATUS)
        keys = self.security.keys
        size = (keys.key_size(ef.key) + 7) // 8
        data = command.data
        if not data:
            raise SwError(SW_WRONG_LENGTH)
        if scheme in _PREHASHED and len(data) != SHA256_SIZE:
            raise SwError(SW_CONDITIONS)
        as_sent = scheme is SignatureScheme.PKCS1_AS_SENT
        limit = size - PKCS1_TYPE1_OVERHEAD if as_sent else MAX_HASHED_INPUT
        if len(data) > limit:
            raise SwError(SW_WRONG_LENGTH)
        if command.le is not None and command.le < size:
            raise SwError(SW_WRONG_LENGTH)
        if scheme in (SignatureScheme.PSS_PREHASHED, SignatureScheme.PSS_SHA256):
            digest = data if scheme is SignatureScheme.PSS_PREHASHED else _sha256(data)
            return keys.sign_pss_sha256(ef.key, digest)
        if scheme is SignatureScheme.PKCS1_AS_SENT:
            payload = data
        elif scheme is SignatureScheme.PKCS1_SHA256_BARE:
            payload = _sha256(data)
        elif scheme is SignatureScheme.PKCS1_PREHASHED:
            payload = SHA256_DIGESTINFO_PREFIX + data
        else:
            payload = SHA256_DIGESTINFO_PREFIX + _sha256(data)
        # EMSA-PKCS1-v1_5 type 1 over the payload exactly as built.
        encoded = b"\x00\x01" + b"\xff" * (size - 3 - len(payload)) + b"\x00" + payload
        return keys.raw_sign(ef.key, encoded)

    def _internal_authenticate(self, command: CommandApdu) -> bytes:
        if command.p1 != 0x00:
            raise SwError(SW_BAD_P1P2)
        if command.p2 == 0x00:
            raise SwError(SW_BAD_P1P2)
        ef = self._key_by_reference(command.p2)
        if ef.use_pin is not None:
            raise SwError(SW_SECURITY_STATUS)  # keys behind a PIN [obs], verified or not
        if not ef.internal_auth:
            raise SwError(SW_CONDITIONS)
        if not 1 <= len(command.data) <= MAX_HASHED_INPUT:
            raise SwError(SW_WRONG_LENGTH)
        keys = self.security.keys
        size = (keys.key_size(ef.key) + 7) // 8
        payload = SHA256_DIGESTINFO_PREFIX + _sha256(command.data)
        encoded = b"\x00\x01" + b"\xff" * (size - 3 - len(payload)) + b"\x00" + payload
        return keys.raw_sign(ef.key, encoded)

    def _set_session_key(self, command: CommandApdu) -> bytes:
        aid = self.current_applet.aid if self.current_applet is not None else b""
        raise SwError(SESSION_KEY_REFUSAL.get(aid, SW_SECURITY_STATUS))

    def _iphone_profile(self, command: CommandApdu) -> bytes:
        raise SwError(SW_WRONG_LENGTH)  # a physical card's answer to 80 FC [obs]

    def _manage_channel(self, command: CommandApdu) -> bytes:
        raise SwError(SW_CHANNEL_NOT_SUPPORTED)

    # --- card-level objects -----------------------------------------------------------

    def _get_challenge(self, command: CommandApdu) -> bytes:
        if command.p1 != 0x00 or command.p2 != 0x00:
            raise SwError(SW_BAD_P1P2)
        if self.extended:
            raise SwError(SW_CONDITIONS)  # [obs]
        if command.data or command.le is None:
            raise SwError(SW_WRONG_LENGTH)
        return os.urandom(command.le)

    def _get_data(self, command: CommandApdu) -> bytes:
        if command.data or command.le is None:
            raise SwError(SW_WRONG_LENGTH)
        tag = (command.p1 << 8) | command.p2
        options = self.options
        at_mf = self.current_applet is None
        value: bytes | None = None
        if tag == TAG_ATR and self._atr is not None:
            if not (at_mf and options.atr_object_only_in_applets):
                value = self._atr()[1:]  # the ATR without TS
        elif at_mf and not (tag == TAG_LOWER_CV and options.no_lower_cv_certificate):
            value = self.mf_objects.get(tag)
        # Otherwise None: the MF-level objects answer only with the MF current.
        if value is None:
            raise SwError(SW_REFERENCE_NOT_FOUND)
        if len(value) > SHORT_MAX_LE and not self.extended:
            raise SwError(SW_WRONG_LENGTH)  # [obs]: needs an extended Le
        if command.le < len(value):
            if self.extended:
                raise SwError(SW_WRONG_LENGTH)
            raise SwError(0x6C00 | (len(value) & 0xFF))
        return value


def _sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()
