"""What the card's files hold, byte for byte: the JPKI applet here (certificates followed
by 0xFF filler, the token info), the other applets in their own modules (textap,
surface, common), all put together by `build_filesystem`."""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

from jpki.constants import (
    TOKEN_INFO_LENGTH,
    TOKEN_INFO_MYNUMBER_CARD,
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
    KeyFile,
    PinFile,
)
from simulators.card.issuer import CardIssuerKeys, rsa_key_object
from simulators.card.surface import surface_applet
from simulators.card.textap import card_info_applet, padded_size, with_filler
from simulators.issuing import IssuedCertificates
from simulators.personas import Persona

CERT_EF_MIN_SIZE = 2048


def certificate_ef(der: bytes) -> bytes:
    return with_filler(der, padded_size(len(der), CERT_EF_MIN_SIZE))


def token_info() -> bytes:
    """EF 0006: exactly 32 bytes, the label padded with spaces."""
    return TOKEN_INFO_MYNUMBER_CARD.encode("ascii").ljust(TOKEN_INFO_LENGTH, b" ")


def jpki_applet(certs: IssuedCertificates) -> Applet:
    applet = Applet(Aid.JPKI.value, "JPKI")
    applet.add(BinaryFile(JpkiFile.SIGN_CERT, certificate_ef(certs.sign_cert), PinKind.SIGN))
    applet.add(BinaryFile(JpkiFile.SIGN_CA_CERT, certificate_ef(certs.sign_ca_cert)))
    applet.add(BinaryFile(JpkiFile.AUTH_CERT, certificate_ef(certs.auth_cert)))
    applet.add(BinaryFile(JpkiFile.AUTH_CA_CERT, certificate_ef(certs.auth_ca_cert)))
    applet.add(BinaryFile(JpkiFile.TOKEN_INFO, token_info()))
    applet.add(KeyFile(JpkiFile.AUTH_KEY, KeyKind.AUTH, PinKind.AUTH))
    applet.add(PinFile(JpkiFile.AUTH_PIN, PinKind.AUTH))
    applet.add(KeyFile(JpkiFile.SIGN_KEY, KeyKind.SIGN, PinKind.SIGN))
    applet.add(PinFile(JpkiFile.SIGN_PIN, PinKind.SIGN))
    return applet


def build_filesystem(
    persona: Persona,
    certs: IssuedCertificates,
    issuer: CardIssuerKeys,
    card_keys: dict[CardKey, RSAPublicKey],
) -> FileSystem:
    """Every applet: JPKI, card-info (textap), card surface (surface), common card
    (common); the resident-registry applet answers SELECT but holds no files this card
    implements. `card_keys`: public halves of the card's own applet keys."""
    fs = FileSystem()
    fs.add(jpki_applet(certs))
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
