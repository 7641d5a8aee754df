"""Identifiers of the Individual Number Card's applets, files and PINs (jpki-card.md)."""

from __future__ import annotations

from enum import Enum, IntEnum, StrEnum


class Aid(bytes, Enum):
    """Applet identifiers, selected with `00 A4 04 0C 0A <AID>`."""

    JPKI = bytes.fromhex("D392F000260100000001")
    CARD_INFO = bytes.fromhex("D3921000310001010408")  # 券面事項入力補助 AP
    CARD_SURFACE = bytes.fromhex("D3921000310001010402")  # 券面事項確認 AP
    RESIDENT_REGISTRY = bytes.fromhex("D3921000310001010401")  # 住基 AP
    # GlobalPlatform Issuer Security Domain: selecting it restores the power-on state.
    ISSUER_SECURITY_DOMAIN = bytes.fromhex("A0000001510000")


class JpkiFile(IntEnum):
    """Elementary files of the JPKI applet."""

    SIGN_CERT = 0x0001
    SIGN_CA_CERT = 0x0002
    TOKEN_INFO = 0x0006  # CK_TOKEN_INFO, 160 bytes
    CERT_AVAILABILITY = 0x0008  # 3 bytes: sign cert, auth cert, unknown
    PROTECTED_0009 = 0x0009  # purpose unknown; nothing opens it
    AUTH_CERT = 0x000A
    AUTH_CA_CERT = 0x000B
    TERMINAL_CA = 0x0016  # key reference a terminal's CV certificate is checked against
    AUTH_KEY = 0x0017
    AUTH_PIN = 0x0018
    SIGN_KEY = 0x001A
    SIGN_PIN = 0x001B


class CardInfoFile(IntEnum):
    """Elementary files of the card-info input-helper applet."""

    MY_NUMBER = 0x0001
    BASIC_FOUR = 0x0002
    INTEGRITY = 0x0003
    PIN = 0x0011


class CertKind(StrEnum):
    AUTH = "auth"
    AUTH_CA = "auth-ca"
    SIGN = "sign"
    SIGN_CA = "sign-ca"

    @property
    def file(self) -> JpkiFile:
        return _CERT_FILES[self]


_CERT_FILES = {
    CertKind.AUTH: JpkiFile.AUTH_CERT,
    CertKind.AUTH_CA: JpkiFile.AUTH_CA_CERT,
    CertKind.SIGN: JpkiFile.SIGN_CERT,
    CertKind.SIGN_CA: JpkiFile.SIGN_CA_CERT,
}


class KeyKind(StrEnum):
    AUTH = "auth"
    SIGN = "sign"

    @property
    def file(self) -> JpkiFile:
        return JpkiFile.AUTH_KEY if self is KeyKind.AUTH else JpkiFile.SIGN_KEY

    @property
    def pin(self) -> PinKind:
        return PinKind.AUTH if self is KeyKind.AUTH else PinKind.SIGN


class PinKind(StrEnum):
    AUTH = "auth"  # 利用者証明用: 4 digits, 3 tries
    SIGN = "sign"  # 署名用: 6-16 of A-Z 0-9, 5 tries
    CARD_INFO = "cardinfo"  # 券面事項入力補助: 4 digits, 3 tries

    @property
    def aid(self) -> Aid:
        return Aid.CARD_INFO if self is PinKind.CARD_INFO else Aid.JPKI

    @property
    def file(self) -> int:
        return _PIN_FILES[self]

    @property
    def max_tries(self) -> int:
        return 5 if self is PinKind.SIGN else 3


TOKEN_INFO_MYNUMBER_CARD = "JPKIAPICCTOKEN2"  # noqa: S105 (a label, not a secret)
TOKEN_INFO_ANDROID = "JPKIAPGPSETOKEN"  # noqa: S105 (the phone tokens' labels)
TOKEN_INFO_IPHONE = "JPKIAPIOSTOKEN"  # noqa: S105
TOKEN_INFO_LENGTH = 160  # EF 0006: a whole CK_TOKEN_INFO with 32-bit big-endian words
TOKEN_LABEL_LENGTH = 32
CERT_PRESENT = 0x8F  # EF 0008's byte for a certificate the card holds

# Short EF ids (every JPKI EF is in 0001-001E): P2 = 0x80 | id names a key or PIN
# without a SELECT.
SHORT_ID_FLAG = 0x80

# Contact ATR known to OpenSC for the JPKI card (T=1). Detection never relies on it.
MYNUMBER_CARD_ATR = bytes.fromhex("3BE000FF8131FE4514")

# Object identifiers used by JPKI certificates.
OID_AUTH_POLICY = "1.2.392.200149.8.5.1.3.30"
OID_SIGN_POLICY = "1.2.392.200149.8.5.1.1.20"
OID_SAN_BASE = "1.2.392.200149.8.5.5"
OID_SAN_NAME = OID_SAN_BASE + ".1"
OID_SAN_NAME_SUBSTITUTE = OID_SAN_BASE + ".2"
OID_SAN_SEX = OID_SAN_BASE + ".3"
OID_SAN_BIRTH_DATE = OID_SAN_BASE + ".4"
OID_SAN_ADDRESS = OID_SAN_BASE + ".5"
OID_SAN_ADDRESS_SUBSTITUTE = OID_SAN_BASE + ".6"


_PIN_FILES = {
    PinKind.AUTH: JpkiFile.AUTH_PIN,
    PinKind.SIGN: JpkiFile.SIGN_PIN,
    PinKind.CARD_INFO: CardInfoFile.PIN,
}


class RevocationReason(StrEnum):
    """Why a certificate is revoked: the counter's events (domain.md), one vocabulary for
    the linkage registry, the test PKI and every command. `rfc5280` is the CRLReason a
    CRL or OCSP answer carries for it."""

    BASIC_FACTS_CHANGED = "basic_facts_changed"  # move, marriage: sign cert only
    LOSS = "loss"
    DEATH = "death"
    CARD_RETURNED = "card_returned"
    RENEWAL = "renewal"
    KEY_COMPROMISE = "key_compromise"
    OTHER = "other"

    @property
    def rfc5280(self) -> str:
        return _RFC5280_REASON[self]

    @property
    def whole_card(self) -> bool:
        """Reasons that end both certificates of the card, whichever serial was named."""
        return self in (
            RevocationReason.LOSS,
            RevocationReason.DEATH,
            RevocationReason.CARD_RETURNED,
            RevocationReason.KEY_COMPROMISE,
        )

    @classmethod
    def choices(cls) -> str:
        """`loss (keyCompromise), ...` for help texts."""
        return ", ".join(f"{reason.value} ({reason.rfc5280})" for reason in cls)


_RFC5280_REASON: dict[RevocationReason, str] = {
    RevocationReason.BASIC_FACTS_CHANGED: "affiliationChanged",
    RevocationReason.LOSS: "keyCompromise",  # the card, and its keys, are out of control
    RevocationReason.DEATH: "cessationOfOperation",
    RevocationReason.CARD_RETURNED: "cessationOfOperation",
    RevocationReason.RENEWAL: "superseded",
    RevocationReason.KEY_COMPROMISE: "keyCompromise",
    RevocationReason.OTHER: "unspecified",
}
