"""The issuer's side of the card: an admin session that generates keys on the card,
writes certificates, sets PINs on a new card and resets locked or forgotten PINs.

THIS IS A MODEL (jpki/admin_protocol.py): J-LIS does not publish the real card's issuer
channel. The session needs the issuer's answer to the card's challenge, which the
issuing side (here the test PKI) computes; the host never holds the issuer key, and
no private key of the card ever reaches the host (the card answers public keys only).

Write order of a key replacement (`replace_keys`), chosen so that a card pulled at any
point keeps either all of its old keys and certificates or all of the new ones:
  1. GENERATE each new key into the card's staging slot (the live key is untouched);
  2. the issuer certifies each public key after checking the proof of possession;
  3. UPDATE BINARY writes each certificate into the EF's staged image;
  4. ACTIVATE FILE makes every staged key and certificate live in one command; the card
     refuses it unless every staged key has its certificate and vice versa.
Staging is volatile on the card: a pull before step 4 drops it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa

from card.apdu import SHORT_MAX_LC, CommandApdu, Response
from card.errors import CardError, MalformedResponseError
from card.protocol import CardChannel
from card.tlv import TlvError
from jpki.admin_protocol import (
    CHALLENGE_LENGTH,
    GENERATE_P1,
    INS_ACTIVATE_FILE,
    INS_EXTERNAL_AUTHENTICATE,
    INS_GENERATE_KEY_PAIR,
    INS_GET_CHALLENGE,
    INS_RESET_RETRY_COUNTER,
    INS_UPDATE_BINARY,
    ISSUER_KEY_REFERENCE,
    READ_PUBLIC_KEY_P1,
    RRC_COUNTER_ONLY,
    RRC_NEW_VALUE,
    decode_generate_response,
    decode_public_key,
    generate_command_data,
    read_public_key_command_data,
)
from jpki.applet import AppletSession
from jpki.constants import Aid, CertKind, KeyKind, PinKind
from jpki.pin import PinStatus, encode_pin

# GENERATE's answer: 7F49 (about 270 bytes) and a 256-byte signature.
GENERATE_LE = 65536
MAX_CERTIFICATE_SIZE = 8192


class IssuanceCardError(CardError):
    """Base of the admin session's errors."""

    code = "CARD_ADMIN_ERROR"


class IssuerAuthenticationError(IssuanceCardError):
    """The card did not accept the issuer's authentication (wrong key, or a card made
    without an issuer key)."""

    code = "ISSUER_AUTH_FAILED"


class AdminCommandError(IssuanceCardError):
    """The card refused an admin command; `sw` says why."""

    code = "CARD_ADMIN_REFUSED"

    def __init__(self, what: str, sw: int) -> None:
        super().__init__(f"{what}: SW={sw:04X}")
        self.sw = sw


class PinAlreadySetError(IssuanceCardError):
    """Setting a PIN that is set already: that is a reset (or the holder's own change)."""

    code = "PIN_ALREADY_SET"


class PinMismatchError(IssuanceCardError, ValueError):
    """The two entries of a new PIN differ. Raised before anything is sent."""

    code = "PIN_MISMATCH"


class ActivationRefusedError(IssuanceCardError):
    """ACTIVATE refused: staged keys and certificates do not belong together."""

    code = "ACTIVATION_REFUSED"


class KeyCertificationError(IssuanceCardError):
    """The issued certificate does not certify the key the card generated, or the
    card's proof of possession is malformed."""

    code = "KEY_CERTIFICATION_FAILED"


# The issuing side's answer to a card challenge (EXTERNAL AUTHENTICATE's data).
ChallengeAnswerer = Callable[[bytes], bytes]


@dataclass(frozen=True)
class GeneratedKey:
    """A key the card generated in its staging slot: the public half, and GENERATE's
    whole answer (public key + proof of possession over `nonce`) for the issuer."""

    kind: KeyKind
    public_key: rsa.RSAPublicKey
    answer: bytes
    nonce: bytes


class KeyCertifier(Protocol):
    """The issuing side for one counter operation: a fresh proof-of-possession nonce per
    key, and the certificate for a generated key (bound to the resident it serves)."""

    def nonce(self) -> bytes: ...

    def certify(self, generated: GeneratedKey) -> bytes:
        """The new certificate's DER."""
        ...


def confirm_new_pin(kind: PinKind, first: str, second: str) -> str:
    """A new PIN typed twice: both entries equal and in the card's format; returns the
    PIN as it will be sent (the sign PIN upper-cased)."""
    encoded = encode_pin(kind, first).decode("ascii")
    if encode_pin(kind, second).decode("ascii") != encoded:
        raise PinMismatchError(f"the two entries of the new {kind.value} PIN differ")
    return encoded


class IssuerSession(AppletSession):
    """An admin session in one applet (JPKI for keys, certificates and its two PINs; the
    card-info applet for its PIN). Creating it selects the applet and authenticates the
    issuer; the admin state ends with the next applet SELECT or power-down."""

    def __init__(self, channel: CardChannel, applet: Aid, answer_challenge: ChallengeAnswerer):
        self.aid = applet
        super().__init__(channel)
        self._authenticate(answer_challenge)

    def _authenticate(self, answer_challenge: ChallengeAnswerer) -> None:
        response = self.channel.transmit(
            CommandApdu(0x00, INS_GET_CHALLENGE, 0x00, 0x00, b"", CHALLENGE_LENGTH)
        )
        self._check(response, "GET CHALLENGE")
        if len(response.data) != CHALLENGE_LENGTH:
            raise MalformedResponseError(f"challenge of {len(response.data)} bytes")
        answer = answer_challenge(response.data)
        response = self.channel.transmit(
            CommandApdu(0x00, INS_EXTERNAL_AUTHENTICATE, 0x00, ISSUER_KEY_REFERENCE, answer)
        )
        if response.sw in (0x6300, 0x6A88):
            raise IssuerAuthenticationError(
                "the card did not accept the issuer's authentication"
                + (" (the card has no issuer key)" if response.sw == 0x6A88 else "")
            )
        self._check(response, "EXTERNAL AUTHENTICATE")

    def _admin(self, command: CommandApdu, what: str) -> Response:
        response = self.channel.transmit(command)
        if not response.ok:
            raise AdminCommandError(what, response.sw)
        return response

    # -- keys and certificates -------------------------------------------------------
    def generate_key(self, kind: KeyKind, nonce: bytes) -> GeneratedKey:
        """A new RSA-2048 key in the card's staging slot for `kind`."""
        self._require(Aid.JPKI)
        le = GENERATE_LE if self.channel.extended_length else 256
        command = CommandApdu(
            0x00, INS_GENERATE_KEY_PAIR, GENERATE_P1, 0x00, generate_command_data(kind, nonce), le
        )
        answer = self._admin(command, f"GENERATE {kind.value} key").data
        try:
            _, modulus, exponent, _ = decode_generate_response(answer)
            public_key = rsa.RSAPublicNumbers(exponent, modulus).public_key()
        except (TlvError, ValueError) as exc:
            raise KeyCertificationError(f"the card's key generation answer: {exc}") from None
        return GeneratedKey(kind, public_key, answer, nonce)

    def live_public_key(self, kind: KeyKind) -> rsa.RSAPublicKey:
        """The public half of the key the card uses now (GENERATE with P1=81)."""
        self._require(Aid.JPKI)
        le = GENERATE_LE if self.channel.extended_length else 256
        command = CommandApdu(
            0x00,
            INS_GENERATE_KEY_PAIR,
            READ_PUBLIC_KEY_P1,
            0x00,
            read_public_key_command_data(kind),
            le,
        )
        answer = self._admin(command, f"read the {kind.value} public key").data
        try:
            modulus, exponent = decode_public_key(answer)
            return rsa.RSAPublicNumbers(exponent, modulus).public_key()
        except (TlvError, ValueError) as exc:
            raise MalformedResponseError(f"the card's {kind.value} public key: {exc}") from None

    def write_certificate(self, kind: CertKind, der: bytes) -> None:
        """Write a certificate into its EF's staged image (live after ACTIVATE). One
        extended UPDATE BINARY when the reader carries it, else 255-byte pieces."""
        self._require(Aid.JPKI)
        if not der or der[0] != 0x30 or len(der) > MAX_CERTIFICATE_SIZE:
            raise ValueError("not a DER certificate of a plausible size")
        self.select_file(kind.file)
        piece = len(der) if self.channel.extended_length else SHORT_MAX_LC
        for offset in range(0, len(der), piece):
            chunk = der[offset : offset + piece]
            command = CommandApdu(0x00, INS_UPDATE_BINARY, offset >> 8, offset & 0xFF, chunk)
            self._admin(command, f"UPDATE BINARY {kind.value} certificate at {offset}")

    def activate(self) -> None:
        """Make every staged key and certificate live, at once."""
        self._require(Aid.JPKI)
        response = self.channel.transmit(CommandApdu(0x00, INS_ACTIVATE_FILE, 0x00, 0x00))
        if response.sw == 0x6985:
            raise ActivationRefusedError("the card refused to activate the staged keys")
        if not response.ok:
            raise AdminCommandError("ACTIVATE FILE", response.sw)

    # -- PINs -------------------------------------------------------------------------
    def pin_status(self, kind: PinKind) -> PinStatus:
        self._require(kind.aid)
        return self._pin_status(kind)

    def set_pin(self, kind: PinKind, new_pin: str) -> None:
        """Set a PIN that is not set yet (a new card at the issuance counter)."""
        self._require(kind.aid)
        encoded = encode_pin(kind, new_pin)
        if self._pin_status(kind).is_set:
            raise PinAlreadySetError(f"the {kind.value} PIN is already set")
        self._admin(CommandApdu(0x00, 0x24, 0x01, 0x80, encoded), f"set the {kind.value} PIN")

    def reset_pin(self, kind: PinKind, new_pin: str | None) -> None:
        """RESET RETRY COUNTER: a new value and a full counter, or (`new_pin` None) only
        the counter, for a holder who still knows the PIN."""
        self._require(kind.aid)
        if new_pin is None:
            self.select_file(kind.file)
            command = CommandApdu(0x00, INS_RESET_RETRY_COUNTER, RRC_COUNTER_ONLY, 0x80)
        else:
            encoded = encode_pin(kind, new_pin)
            self.select_file(kind.file)
            command = CommandApdu(0x00, INS_RESET_RETRY_COUNTER, RRC_NEW_VALUE, 0x80, encoded)
        self._admin(command, f"reset the {kind.value} PIN")

    def _require(self, applet: Aid) -> None:
        if self.aid is not applet:
            raise ValueError(f"this admin session is in the {self.aid.name} applet")


def replace_keys(
    session: IssuerSession, kinds: Iterable[KeyKind], certifier: KeyCertifier
) -> dict[KeyKind, bytes]:
    """Put new keys and certificates on the card, in the order the module docstring
    gives (all keys generated, all certified, all written, then one ACTIVATE). Returns
    the new certificates by key kind. Any failure before ACTIVATE leaves the card with
    its old keys and certificates."""
    kinds = list(dict.fromkeys(kinds))
    if not kinds:
        raise ValueError("no key to replace")
    generated = [session.generate_key(kind, certifier.nonce()) for kind in kinds]
    certificates: dict[KeyKind, bytes] = {}
    for key in generated:
        der = certifier.certify(key)
        try:
            certified = x509.load_der_x509_certificate(der).public_key()
        except ValueError as exc:
            raise KeyCertificationError(
                f"the issuer's {key.kind.value} certificate: {exc}"
            ) from None
        if certified != key.public_key:
            raise KeyCertificationError(
                f"the issuer's {key.kind.value} certificate is not for the card's new key"
            )
        certificates[key.kind] = der
    for kind, der in certificates.items():
        session.write_certificate(CertKind(kind.value), der)
    session.activate()
    return certificates


__all__ = [
    "ActivationRefusedError",
    "AdminCommandError",
    "ChallengeAnswerer",
    "GeneratedKey",
    "IssuanceCardError",
    "IssuerAuthenticationError",
    "IssuerSession",
    "KeyCertificationError",
    "KeyCertifier",
    "PinAlreadySetError",
    "PinMismatchError",
    "confirm_new_pin",
    "replace_keys",
]
