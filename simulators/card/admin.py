"""The card's administrative (issuer) commands: a MODEL, not the real card's protocol.

A real Individual Number Card generates its JPKI keys, receives its certificates and has
its PINs set and reset through a channel protected by the issuer's keys; J-LIS does not
publish that channel. The software card models it with standard ISO 7816-4/-8 commands
behind an issuer authentication (wire format: jpki/admin_protocol.py). Everything a
user-side client can do is unchanged: these handlers only add commands.

Rules (each a decision, documented once here and in docs/decisions.md, issue 15):

- GET CHALLENGE is the real card's command (card_os.py); the model keeps the last
  challenge it answered for EXTERNAL AUTHENTICATE.
- EXTERNAL AUTHENTICATE `00 82 00 81 Lc sig`: P1 != 00 -> 6A86; P2 != 81 (the issuer
  key reference) -> 6A88; no applet selected -> 6985; card made without an issuer key
  -> 6A88; no data or Le -> 6700; no challenge of at least 8 bytes pending -> 6985; a
  signature that does not verify -> 6300. The pending challenge is used up by every
  attempt, good or bad, so a signature never authenticates twice. Success: the admin
  state for the selected applet.
- The admin state (and everything staged in it) ends at power-down, reset and at every
  SELECT by DF name, including re-selecting the same applet (stricter than the user
  PINs' rule: an issuer session never re-selects). SELECT of an EF keeps it.
- Without the admin state, every admin command (46, D6, 44, 2C, and 24 on a PIN not yet
  set is a separate case, below) answers 6982. They are not hidden behind 6D00: the
  model's card knows them, the caller is simply not authorised, and a real card's
  answer to these INS bytes is not known. No user-side command reaches them.
- GENERATE ASYMMETRIC KEY PAIR `00 46 80 00 Lc {84 01 ref, 80 nonce}`: P1-P2 other than
  8000 -> 6A86; not in the JPKI applet or unknown key reference -> 6A88; a malformed
  data field or a nonce outside 16-64 bytes -> 6A80. A new RSA-2048 key goes into the
  staging slot (replacing an earlier staged one); the live key is untouched. The answer
  is always the whole public key and proof of possession, whatever Le says (the T=0
  framer hands it out with 61xx). P1=81 with only `84 01 ref` answers the LIVE key's
  public key (7F49), nothing else (used to reconcile a card with the registry).
- UPDATE BINARY `00 D6 off off Lc data` (15-bit offset; P1 b8 set -> 6A86): no current EF
  -> 6986; not a transparent EF -> 6981; an EF other than the four certificate EFs ->
  6982 (the issuer writes certificates, nothing else); offset + length past the EF's
  size -> 6B00. Writes the EF's staged image (which starts as all filler), never the
  live EF.
- ACTIVATE FILE `00 44 00 00`: nothing staged -> 6985; a staged key without a staged
  certificate for it in its EF, or a staged end-entity certificate that is not DER, or
  certifies another key, or has no staged key beside it -> 6985 and nothing changes.
  Otherwise every staged key and image becomes live in one step (the card OS runs one
  command at a time, so no reader can see half of it); the verified PINs of the
  replaced keys are dropped, the admin state stays.
- CHANGE REFERENCE DATA `00 24 01 80 Lc PIN` on a PIN not yet set: with the admin state
  it sets the PIN (format as the card's rule, else 6A80; counter at maximum); without it
  6A88. On a PIN that is set, 24 is the user command, unchanged.
- VERIFY on a PIN not yet set (status query or with data, P2 80 or 80|sfi) -> 6A88
  (referenced data not found: there is no reference data to compare with), and no
  counter moves. Distinct from 6984 so that a client can say "set your PIN at the
  counter" instead of "blocked".
- RESET RETRY COUNTER `00 2C 02 80 Lc PIN` (new value and full counter) or
  `00 2C 03 80` (counter only); P2 80|sfi names the PIN by short id like VERIFY: P1
  other than 02/03 or P2 without b8 -> 6A86; a P2 naming no PIN is answered as VERIFY
  answers it; 02 without data or 03 with data -> 6700; a new PIN of the wrong format
  -> 6A80; 03 on a PIN not yet set -> 6985. The PIN's verified state is dropped.
- No command ever returns private key material.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils

from card.apdu import CommandApdu
from card.tlv import TlvError, encode_tlv, encoded_size, iter_tlvs
from jpki.admin_protocol import (
    ECDSA_P256_SIGNATURE_LENGTH,
    GENERATE_P1,
    INS_ACTIVATE_FILE,
    INS_EXTERNAL_AUTHENTICATE,
    INS_GENERATE_KEY_PAIR,
    INS_GET_CHALLENGE,
    INS_RESET_RETRY_COUNTER,
    INS_UPDATE_BINARY,
    ISSUER_KEY_REFERENCE,
    KEY_REFERENCES,
    MIN_CHALLENGE_LENGTH,
    POP_NONCE_MAX,
    POP_NONCE_MIN,
    READ_PUBLIC_KEY_P1,
    RRC_COUNTER_ONLY,
    RRC_NEW_VALUE,
    TAG_KEY_REFERENCE,
    TAG_POP_NONCE,
    TAG_POP_SIGNATURE,
    encode_public_key,
    issuer_auth_message,
    pop_message,
)
from jpki.constants import Aid, JpkiFile, KeyKind, PinKind
from simulators.card.errors import (
    SW_BAD_P1P2,
    SW_CONDITIONS,
    SW_INCOMPATIBLE_FILE,
    SW_NO_CURRENT_EF,
    SW_OFFSET,
    SW_SECURITY_STATUS,
    SW_WRONG_DATA,
    SW_WRONG_LENGTH,
    SwError,
)
from simulators.card.filesystem import Applet, BinaryFile
from simulators.card.security import PinRecord, pin_format_ok

if TYPE_CHECKING:
    from simulators.card.card_os import CardOs

SW_AUTHENTICATION_FAILED = 0x6300
SW_REFERENCE_NOT_FOUND = 0x6A88
CLA_ISO = 0x00
INS_VERIFY = 0x20
INS_CHANGE_REFERENCE_DATA = 0x24
RSA_EXPONENT = 65537
RSA_BITS = 2048
FILLER = 0xFF

# The EFs an issuer may write, and which key each end-entity certificate certifies.
CERTIFICATE_EFS: dict[int, KeyKind | None] = {
    JpkiFile.AUTH_CERT: KeyKind.AUTH,
    JpkiFile.SIGN_CERT: KeyKind.SIGN,
    JpkiFile.AUTH_CA_CERT: None,
    JpkiFile.SIGN_CA_CERT: None,
}

Handler = Callable[[CommandApdu], bytes]


@dataclass
class _Staging:
    """What an admin session prepared and ACTIVATE makes live. Volatile: a card pulled
    before ACTIVATE keeps exactly its old keys and certificates."""

    keys: dict[KeyKind, rsa.RSAPrivateKey] = field(default_factory=dict)
    images: dict[int, bytearray] = field(default_factory=dict)

    def __repr__(self) -> str:
        return f"_Staging(keys={sorted(self.keys)}, images={sorted(self.images)})"


class IssuerAdmin:
    """The admin side of the card OS: issuer authentication state and its commands.

    `install` registers the new INS handlers into the card OS's dispatch table and layers
    the "PIN not yet set" rule over VERIFY and CHANGE REFERENCE DATA, leaving the user
    handlers themselves untouched."""

    def __init__(self, card_os: CardOs, issuer_key: bytes | None) -> None:
        self._os = card_os
        self._issuer_key: ec.EllipticCurvePublicKey | None = None
        if issuer_key is not None:
            loaded = serialization.load_der_public_key(issuer_key)
            if not isinstance(loaded, ec.EllipticCurvePublicKey) or not isinstance(
                loaded.curve, ec.SECP256R1
            ):
                raise ValueError("the issuer key must be an EC P-256 public key")
            self._issuer_key = loaded
        self._challenge: bytes | None = None
        self._applet: Applet | None = None  # the applet the admin state was opened in
        self._staging = _Staging()

    def __repr__(self) -> str:
        return f"IssuerAdmin(authenticated={self._applet is not None})"

    # --- wiring ----------------------------------------------------------------------

    def install(self, card_os: CardOs) -> None:
        handlers = card_os.handlers
        user_verify = handlers[(CLA_ISO, INS_VERIFY)]
        user_change = handlers[(CLA_ISO, INS_CHANGE_REFERENCE_DATA)]
        user_challenge = handlers[(CLA_ISO, INS_GET_CHALLENGE)]
        card_os.register(CLA_ISO, INS_VERIFY, lambda c: self._verify(c, user_verify))
        card_os.register(
            CLA_ISO,
            INS_CHANGE_REFERENCE_DATA,
            lambda c: self._change_reference_data(c, user_change),
        )
        # GET CHALLENGE is the real card's command (card_os); the model only keeps the
        # challenge it answered for EXTERNAL AUTHENTICATE.
        card_os.register(
            CLA_ISO, INS_GET_CHALLENGE, lambda c: self._remember_challenge(user_challenge(c))
        )
        card_os.register(CLA_ISO, INS_EXTERNAL_AUTHENTICATE, self._external_authenticate)
        card_os.register(CLA_ISO, INS_GENERATE_KEY_PAIR, self._generate)
        card_os.register(CLA_ISO, INS_UPDATE_BINARY, self._update_binary)
        card_os.register(CLA_ISO, INS_ACTIVATE_FILE, self._activate)
        card_os.register(CLA_ISO, INS_RESET_RETRY_COUNTER, self._reset_retry_counter)

    def end(self) -> None:
        """Power-down, reset or applet SELECT: the admin state and all staging end."""
        self._challenge = None
        self._applet = None
        self._staging = _Staging()

    @property
    def authenticated(self) -> bool:
        applet = self._applet
        return applet is not None and applet is self._os.current_applet

    def _require_admin(self) -> Applet:
        if not self.authenticated or self._applet is None:
            raise SwError(SW_SECURITY_STATUS)
        return self._applet

    # --- issuer authentication -------------------------------------------------------

    def _remember_challenge(self, challenge: bytes) -> bytes:
        self._challenge = challenge
        return challenge

    def _external_authenticate(self, command: CommandApdu) -> bytes:
        if command.p1 != 0x00:
            raise SwError(SW_BAD_P1P2)
        if command.p2 != ISSUER_KEY_REFERENCE:
            raise SwError(SW_REFERENCE_NOT_FOUND)
        if self._os.current_applet is None:
            raise SwError(SW_CONDITIONS)
        if self._issuer_key is None:
            raise SwError(SW_REFERENCE_NOT_FOUND)
        if not command.data or command.le is not None:
            raise SwError(SW_WRONG_LENGTH)
        challenge, self._challenge = self._challenge, None  # one attempt per challenge
        if challenge is None or len(challenge) < MIN_CHALLENGE_LENGTH:
            raise SwError(SW_CONDITIONS)
        self._applet = None
        if len(command.data) != ECDSA_P256_SIGNATURE_LENGTH:
            raise SwError(SW_AUTHENTICATION_FAILED)
        half = ECDSA_P256_SIGNATURE_LENGTH // 2
        r = int.from_bytes(command.data[:half], "big")
        s = int.from_bytes(command.data[half:], "big")
        try:
            self._issuer_key.verify(
                utils.encode_dss_signature(r, s),
                issuer_auth_message(challenge),
                ec.ECDSA(hashes.SHA256()),
            )
        except (InvalidSignature, ValueError):
            raise SwError(SW_AUTHENTICATION_FAILED) from None
        self._applet = self._os.current_applet
        self._staging = _Staging()
        return b""

    # --- keys and certificates -------------------------------------------------------

    def _generate(self, command: CommandApdu) -> bytes:
        if command.p1 not in (GENERATE_P1, READ_PUBLIC_KEY_P1) or command.p2 != 0x00:
            raise SwError(SW_BAD_P1P2)
        applet = self._require_admin()
        if applet.aid != Aid.JPKI.value:
            raise SwError(SW_REFERENCE_NOT_FOUND)
        try:
            fields = {tlv.tag: tlv.value for tlv in iter_tlvs(command.data)}
        except TlvError:
            raise SwError(SW_WRONG_DATA) from None
        reference = fields.get(TAG_KEY_REFERENCE)
        if reference is None or len(reference) != 1:
            raise SwError(SW_WRONG_DATA)
        kind = KEY_REFERENCES.get(reference[0])
        if command.p1 == READ_PUBLIC_KEY_P1:
            # The live key's public half (ISO 7816-8 P1=81), for reconciling the card
            # with the registry without any PIN.
            if set(fields) != {TAG_KEY_REFERENCE}:
                raise SwError(SW_WRONG_DATA)
            if kind is None:
                raise SwError(SW_REFERENCE_NOT_FOUND)
            numbers = self._os.security.keys.public_key(kind).public_numbers()
            return encode_public_key(numbers.n, numbers.e)
        nonce = fields.get(TAG_POP_NONCE)
        if nonce is None or set(fields) != {TAG_KEY_REFERENCE, TAG_POP_NONCE}:
            raise SwError(SW_WRONG_DATA)
        if kind is None:
            raise SwError(SW_REFERENCE_NOT_FOUND)
        if not POP_NONCE_MIN <= len(nonce) <= POP_NONCE_MAX:
            raise SwError(SW_WRONG_DATA)
        key = rsa.generate_private_key(RSA_EXPONENT, RSA_BITS)
        numbers = key.public_key().public_numbers()
        public_tlv = encode_public_key(numbers.n, numbers.e)
        digest = hashlib.sha256(pop_message(public_tlv, nonce)).digest()
        signature = key.sign(digest, padding.PKCS1v15(), utils.Prehashed(hashes.SHA256()))
        self._staging.keys[kind] = key
        return public_tlv + encode_tlv(TAG_POP_SIGNATURE, signature)

    def _update_binary(self, command: CommandApdu) -> bytes:
        if command.p1 & 0x80:
            raise SwError(SW_BAD_P1P2)
        if not command.data or command.le is not None:
            raise SwError(SW_WRONG_LENGTH)
        self._require_admin()
        ef = self._os.current_ef
        if ef is None:
            raise SwError(SW_NO_CURRENT_EF)
        if not isinstance(ef, BinaryFile):
            raise SwError(SW_INCOMPATIBLE_FILE)
        if (
            ef.fid not in CERTIFICATE_EFS
            or self._os.current_applet is None
            or (self._os.current_applet.aid != Aid.JPKI.value)
        ):
            raise SwError(SW_SECURITY_STATUS)
        offset = (command.p1 << 8) | command.p2
        if offset + len(command.data) > len(ef.data):
            raise SwError(SW_OFFSET)
        image = self._staging.images.get(ef.fid)
        if image is None:
            image = self._staging.images[ef.fid] = bytearray([FILLER]) * len(ef.data)
        image[offset : offset + len(command.data)] = command.data
        return b""

    def _activate(self, command: CommandApdu) -> bytes:
        if command.p1 != 0x00 or command.p2 != 0x00:
            raise SwError(SW_BAD_P1P2)
        if command.data or command.le is not None:
            raise SwError(SW_WRONG_LENGTH)
        applet = self._require_admin()
        staging = self._staging
        if not staging.keys and not staging.images:
            raise SwError(SW_CONDITIONS)
        # Check everything before changing anything: a refused ACTIVATE changes nothing.
        for fid, kind in CERTIFICATE_EFS.items():
            image = staging.images.get(fid)
            if kind is None:
                if image is not None and _der_prefix(bytes(image)) is None:
                    raise SwError(SW_CONDITIONS)
                continue
            key = staging.keys.get(kind)
            if (image is None) != (key is None):
                raise SwError(SW_CONDITIONS)
            if image is None or key is None:
                continue
            if _certified_key(bytes(image)) != key.public_key().public_numbers():
                raise SwError(SW_CONDITIONS)
        # Commit: plain assignments, no failure possible from here on.
        security = self._os.security
        for kind, key in staging.keys.items():
            security.keys.install(kind, key)
            security.verified.discard(kind.pin)
        for fid, image in staging.images.items():
            ef = applet.files[fid]
            assert isinstance(ef, BinaryFile)
            ef.data = bytes(image)
        self._staging = _Staging()
        return b""

    # --- PINs ------------------------------------------------------------------------

    def _unset_pin(self, p2: int) -> tuple[PinKind, PinRecord] | None:
        """The PIN P2 names (80: the current EF, 80|sfi: by short id), when it is not
        set; None when it is set or P2 names no PIN (the user handler answers that)."""
        try:
            kind, record = self._os._pin_by_reference(p2)
        except SwError:
            return None
        return None if record.is_set else (kind, record)

    def _verify(self, command: CommandApdu, user: Handler) -> bytes:
        # Only a well-formed VERIFY of an unset PIN differs; the user handler answers
        # everything else exactly as before.
        well_formed = command.p1 == 0x00 and command.p2 & 0x80 and command.le is None
        if well_formed and self._unset_pin(command.p2) is not None:
            raise SwError(SW_REFERENCE_NOT_FOUND)
        return user(command)

    def _change_reference_data(self, command: CommandApdu, user: Handler) -> bytes:
        if command.p1 == 0x01 and command.p2 == 0x80 and command.data and command.le is None:
            unset = self._unset_pin(command.p2)
            if unset is not None:
                if not self.authenticated:
                    raise SwError(SW_REFERENCE_NOT_FOUND)
                kind, record = unset
                if not pin_format_ok(kind, command.data):
                    raise SwError(SW_WRONG_DATA)
                record.replace(command.data)
                return b""
        return user(command)

    def _reset_retry_counter(self, command: CommandApdu) -> bytes:
        if command.p1 not in (RRC_NEW_VALUE, RRC_COUNTER_ONLY) or not command.p2 & 0x80:
            raise SwError(SW_BAD_P1P2)
        if command.le is not None:
            raise SwError(SW_WRONG_LENGTH)
        self._require_admin()
        kind, record = self._os._pin_by_reference(command.p2)
        if command.p1 == RRC_NEW_VALUE:
            if not command.data:
                raise SwError(SW_WRONG_LENGTH)
            if not pin_format_ok(kind, command.data):
                raise SwError(SW_WRONG_DATA)
            record.replace(command.data)
        else:
            if command.data:
                raise SwError(SW_WRONG_LENGTH)
            if not record.is_set:
                raise SwError(SW_CONDITIONS)
            record.tries_left = record.max_tries
        self._os.security.verified.discard(kind)
        return b""


def _der_prefix(image: bytes) -> bytes | None:
    """The DER object at the start of a staged image, or None."""
    try:
        size = encoded_size(image[:8])
    except TlvError:
        return None
    if size is None or size > len(image) or image[0] != 0x30:
        return None
    return image[:size]


def _certified_key(image: bytes) -> rsa.RSAPublicNumbers | None:
    der = _der_prefix(image)
    if der is None:
        return None
    try:
        key = x509.load_der_x509_certificate(der).public_key()
    except ValueError:
        return None
    return key.public_numbers() if isinstance(key, rsa.RSAPublicKey) else None
