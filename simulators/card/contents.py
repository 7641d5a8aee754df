"""What the card's files hold, byte for byte (jpki-card.md, real-card-notes.md): the
JPKI applet here (certificates followed by 0xFF filler, the 160-byte token info), the
card's identity (serial, municipality, expiry), and the other applets from their own
modules (textap, surface, common), all put together by `build_filesystem`. Values real cards carry
but the notes do not give (serials, municipality codes, key ids) are synthetic, derived
from the persona so that one persona's card always shows the same ones."""

from __future__ import annotations

import datetime as dt
import struct
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

from jpki.constants import (
    CERT_PRESENT,
    TOKEN_INFO_LENGTH,
    TOKEN_INFO_MYNUMBER_CARD,
    TOKEN_LABEL_LENGTH,
    Aid,
    JpkiFile,
    KeyKind,
    PinKind,
)
from simulators.card.common import common_applet
from simulators.card.filesystem import (
    Applet,
    BinaryFile,
    CardKey,
    FileSystem,
    InternalFile,
    KeyFile,
    PinFile,
    ReadAccess,
)
from simulators.card.issuer import CardIssuerKeys, rsa_key_object
from simulators.card.surface import surface_applet
from simulators.card.textap import FILLER, card_info_applet, padded_size, with_filler
from simulators.issuing import IssuedCertificates
from simulators.personas import Persona

CERT_EF_MIN_SIZE = 2048


def certificate_ef(der: bytes) -> bytes:
    return with_filler(der, padded_size(len(der), CERT_EF_MIN_SIZE))


# CK_TOKEN_INFO values of a physical card (real-card-notes.md §1; [obs] for the version
# slots, the rest as the notes' test models them).
TOKEN_MANUFACTURER = "0000000000000001"
TOKEN_MODEL = "E16R01NJ"
TOKEN_FLAGS = 0x040D  # RNG | LOGIN_REQUIRED | USER_PIN_INITIALIZED | TOKEN_INITIALIZED
TOKEN_SESSIONS = (1, 0, 1, 0)  # max sessions, sessions, max RW sessions, RW sessions
TOKEN_PIN_LENGTHS = (16, 6)  # max, min (the sign password's)
TOKEN_MEMORY_UNAVAILABLE = 0xFFFFFFFF
TOKEN_HARDWARE_VERSION = b"03"
TOKEN_FIRMWARE_VERSION = b"01"


def _text_field(text: str, size: int) -> bytes:
    raw = text.encode("ascii")
    if len(raw) > size:
        raise ValueError(f"{text!r} does not fit {size} bytes")
    return raw.ljust(size, b" ")


def token_info(serial: str) -> bytes:
    """EF 0006: a CK_TOKEN_INFO, every CK_ULONG a 32-bit big-endian word, 160 bytes, no
    TLV and no filler. The utcTime slot is 16 spaces: the flags do not claim a clock."""
    words = (TOKEN_FLAGS, *TOKEN_SESSIONS, *TOKEN_PIN_LENGTHS) + (TOKEN_MEMORY_UNAVAILABLE,) * 4
    record = (
        _text_field(TOKEN_INFO_MYNUMBER_CARD, TOKEN_LABEL_LENGTH)
        + _text_field(TOKEN_MANUFACTURER, 32)
        + _text_field(TOKEN_MODEL, 16)
        + _text_field(serial, 16)
        + struct.pack(">11I", *words)
        + TOKEN_HARDWARE_VERSION
        + TOKEN_FIRMWARE_VERSION
        + b" " * 16
    )
    assert len(record) == TOKEN_INFO_LENGTH
    return record


def certificate_availability(has_sign: bool = True, has_auth: bool = True) -> bytes:
    """EF 0008: byte 0 the sign certificate, byte 1 the auth certificate, `8F` when
    present [obs]; byte 2's meaning is unknown (00 on the measured card)."""
    return bytes((CERT_PRESENT if has_sign else 0x00, CERT_PRESENT if has_auth else 0x00, 0))


# --- the card's identity (synthetic, per persona) ------------------------------------


@dataclass(frozen=True)
class CardIdentity:
    """What identifies one card: the 15-digit card serial, the issuing municipality and
    the expiry date. Derived from the persona id and the issue date, so it is stable
    for a persona and consistent wherever the card shows it."""

    serial: str
    municipality: str
    expiry: dt.date

    @property
    def token_serial(self) -> str:
        return self.serial[-16:]


def card_identity(persona: Persona, issued_on: dt.date | None = None) -> CardIdentity:
    """The card's serial, municipality and expiry: the persona's (personas.toml), so the
    common AP record, the card face and the GET DATA objects all agree. `issued_on` is
    kept for callers; the expiry printed on the card is the persona's."""
    del issued_on
    return CardIdentity(persona.card_serial, persona.municipality_code, persona.card_expiry)


def jpki_applet(certs: IssuedCertificates, identity: CardIdentity) -> Applet:
    """The JPKI applet. A card without a signature certificate (holder under 15) has
    the sign CA certificate but no sign certificate, sign key or sign PIN EF (SELECT of
    those answers 6A82, as for any absent file), and EF 0008 says so."""
    applet = Applet(Aid.JPKI.value, "JPKI")
    if certs.sign_cert is not None:
        applet.add(
            BinaryFile(
                JpkiFile.SIGN_CERT, certificate_ef(certs.sign_cert), ReadAccess.after(PinKind.SIGN)
            )
        )
    applet.add(BinaryFile(JpkiFile.SIGN_CA_CERT, certificate_ef(certs.sign_ca_cert)))
    applet.add(BinaryFile(JpkiFile.AUTH_CERT, certificate_ef(certs.auth_cert)))
    applet.add(BinaryFile(JpkiFile.AUTH_CA_CERT, certificate_ef(certs.auth_ca_cert)))
    applet.add(BinaryFile(JpkiFile.TOKEN_INFO, token_info(identity.token_serial)))
    applet.add(
        BinaryFile(
            JpkiFile.CERT_AVAILABILITY,
            certificate_availability(has_sign=certs.sign_cert is not None),
        )
    )
    # Purpose unknown; no cardholder credential opens it [obs]. Its size is not known:
    # 16 filler bytes stand for its contents.
    applet.add(BinaryFile(JpkiFile.PROTECTED_0009, bytes([FILLER]) * 16, ReadAccess.protected()))
    applet.add(InternalFile(JpkiFile.TERMINAL_CA))
    applet.add(KeyFile(JpkiFile.AUTH_KEY, KeyKind.AUTH, PinKind.AUTH))
    applet.add(PinFile(JpkiFile.AUTH_PIN, PinKind.AUTH))
    if certs.sign_cert is not None:
        applet.add(KeyFile(JpkiFile.SIGN_KEY, KeyKind.SIGN, PinKind.SIGN))
        applet.add(PinFile(JpkiFile.SIGN_PIN, PinKind.SIGN))
    return applet


def build_filesystem(
    persona: Persona,
    certs: IssuedCertificates,
    issuer: CardIssuerKeys,
    card_keys: dict[CardKey, RSAPublicKey],
    identity: CardIdentity | None = None,
) -> FileSystem:
    """Every applet: JPKI, card-info (textap), card surface (surface), common card
    (common); the resident-registry applet answers SELECT but holds no files this card
    implements. `card_keys`: public halves of the card's own applet keys."""
    identity = identity or card_identity(persona)
    fs = FileSystem()
    fs.add(jpki_applet(certs, identity))
    fs.add(
        card_info_applet(
            persona,
            issuer.text,
            rsa_key_object(card_keys[CardKey.CARD_INFO_AP]),
            rsa_key_object(card_keys[CardKey.CARD_INFO_SESSION]),
        )
    )
    fs.add(surface_applet(persona, issuer.surface, rsa_key_object(card_keys[CardKey.SURFACE_CARD])))
    fs.add(common_applet(persona))
    fs.add(Applet(Aid.RESIDENT_REGISTRY.value, "resident registry"))
    return fs
