"""Identifiers of the Individual Number Card's applets, files and PINs (jpki-card.md)."""

from __future__ import annotations

from enum import Enum, IntEnum, StrEnum


class Aid(bytes, Enum):
    """Applet identifiers, selected with `00 A4 04 0C 0A <AID>`."""

    JPKI = bytes.fromhex("D392F000260100000001")
    CARD_INFO = bytes.fromhex("D3921000310001010408")  # 券面事項入力補助 AP
    CARD_SURFACE = bytes.fromhex("D3921000310001010402")  # 券面事項確認 AP
    RESIDENT_REGISTRY = bytes.fromhex("D3921000310001010401")  # 住基 AP
    COMMON = bytes.fromhex("D3921000310001010100")  # 共通カード AP
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
    """Elementary files of the card-info input-helper applet (券面入力補助 AP,
    real-card-notes.md §2)."""

    MY_NUMBER = 0x0001
    BASIC_FOUR = 0x0002
    INTEGRITY = 0x0003
    CV_CERTIFICATE = 0x0004
    KEY_INFO = 0x0005  # FF40: version bytes, key id, opaque
    SESSION_KEY_PUBLIC = 0x0006  # A1 { 90 e, 91 n }: RSA key for session-key delivery
    AP_KEY_CERTIFICATE = 0x0007  # FF50 { DF51 AP key public half, DF52 issuer signature }
    UNKNOWN_0008 = 0x0008  # sixteen FF bytes, purpose unknown
    PIN = 0x0011
    RESERVED_KEY = 0x0012  # blocked on every card as issued
    AP_KEY = 0x0013  # the AP's own signing key (80 2A 00 00, no credential)
    CODE_A = 0x0014  # 照合番号A: the My Number
    CODE_B = 0x0015  # 照合番号B: era birth date + expiry year + security code


class SurfaceFile(IntEnum):
    """Elementary files of the card-surface applet (券面事項確認 AP, notes §3)."""

    AGE_RECORD = 0x0001  # FF10 { DF11 birth date, DF12 card key, DF13 signature }
    CARD_FACE = 0x0002  # FF20 { DF21 offsets, DF22..DF2A }
    KEY_INFO = 0x0003  # FF30 { DF31 version, DF32 key id, DF33, DF34 municipality, DF35 }
    CV_CERTIFICATE = 0x0004  # 7F21 certifying the key that signs 0001/0002/0005
    MY_NUMBER_IMAGE = 0x0005  # FF40 { DF41 PNG 72x12, DF42 card key, DF43 signature }
    UNKNOWN_0006 = 0x0006  # sixteen FF bytes
    BIRTH_DATE_KEY = 0x0011
    CODE_B = 0x0012
    CODE_A = 0x0013


class CommonFile(IntEnum):
    """Elementary files of the common card applet (共通カード AP, notes §4)."""

    CARD_RECORD = 0x0001  # record 1: 01 1C serial(15) municipality(5) expiry(8)
    KEY_REFERENCE = 0x0002  # record 1: a 16-byte key reference
    AUTH_KEY = 0x0019  # INTERNAL AUTHENTICATE 00 88 00 99, no credential
    PIN = 0x001C


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
    """Every key reference a cardholder credential is checked against (VERIFY).

    Retry limits: 3 / 5 / 3 for the JPKI and card-info PINs (jpki-card.md); the
    照合番号 and birth-date keys get 10 (real-card-notes.md §2 mentions ten attempts for
    照合番号B; the others are not stated, see docs/decisions.md); the card-info key 0012
    is blocked on every card as issued and so has no tries at all (0)."""

    AUTH = "auth"  # 利用者証明用: 4 digits, 3 tries
    SIGN = "sign"  # 署名用: 6-16 of A-Z 0-9, 5 tries
    CARD_INFO = "cardinfo"  # 券面事項入力補助: 4 digits, 3 tries
    CARD_INFO_RESERVED = "cardinfo-0012"  # blocked as issued, opens nothing known
    CARD_INFO_CODE_A = "cardinfo-code-a"  # 照合番号A (the My Number), 12 digits
    CARD_INFO_CODE_B = "cardinfo-code-b"  # 照合番号B, 14 digits
    SURFACE_BIRTH_DATE = "surface-birth-date"  # era YYMMDD, 6 digits
    SURFACE_CODE_B = "surface-code-b"  # 照合番号B, 14 digits
    SURFACE_CODE_A = "surface-code-a"  # 照合番号A, 12 digits
    COMMON = "common"  # 共通カード AP PIN, 4 digits

    @property
    def aid(self) -> Aid:
        return _PIN_AIDS[self]

    @property
    def file(self) -> int:
        return _PIN_FILES[self]

    @property
    def max_tries(self) -> int:
        return _PIN_MAX_TRIES[self]


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


_PIN_FILES: dict[PinKind, int] = {
    PinKind.AUTH: JpkiFile.AUTH_PIN,
    PinKind.SIGN: JpkiFile.SIGN_PIN,
    PinKind.CARD_INFO: CardInfoFile.PIN,
    PinKind.CARD_INFO_RESERVED: CardInfoFile.RESERVED_KEY,
    PinKind.CARD_INFO_CODE_A: CardInfoFile.CODE_A,
    PinKind.CARD_INFO_CODE_B: CardInfoFile.CODE_B,
    PinKind.SURFACE_BIRTH_DATE: SurfaceFile.BIRTH_DATE_KEY,
    PinKind.SURFACE_CODE_B: SurfaceFile.CODE_B,
    PinKind.SURFACE_CODE_A: SurfaceFile.CODE_A,
    PinKind.COMMON: CommonFile.PIN,
}

_PIN_AIDS: dict[PinKind, Aid] = {
    PinKind.AUTH: Aid.JPKI,
    PinKind.SIGN: Aid.JPKI,
    PinKind.CARD_INFO: Aid.CARD_INFO,
    PinKind.CARD_INFO_RESERVED: Aid.CARD_INFO,
    PinKind.CARD_INFO_CODE_A: Aid.CARD_INFO,
    PinKind.CARD_INFO_CODE_B: Aid.CARD_INFO,
    PinKind.SURFACE_BIRTH_DATE: Aid.CARD_SURFACE,
    PinKind.SURFACE_CODE_B: Aid.CARD_SURFACE,
    PinKind.SURFACE_CODE_A: Aid.CARD_SURFACE,
    PinKind.COMMON: Aid.COMMON,
}

_PIN_MAX_TRIES: dict[PinKind, int] = {
    PinKind.AUTH: 3,
    PinKind.SIGN: 5,
    PinKind.CARD_INFO: 3,
    PinKind.CARD_INFO_RESERVED: 0,
    PinKind.CARD_INFO_CODE_A: 10,
    PinKind.CARD_INFO_CODE_B: 10,
    PinKind.SURFACE_BIRTH_DATE: 10,
    PinKind.SURFACE_CODE_B: 10,
    PinKind.SURFACE_CODE_A: 10,
    PinKind.COMMON: 3,
}

# The digits-only credentials and their exact lengths (the sign PIN is the odd one).
PIN_DIGITS: dict[PinKind, int] = {
    PinKind.AUTH: 4,
    PinKind.CARD_INFO: 4,
    PinKind.CARD_INFO_RESERVED: 4,
    PinKind.CARD_INFO_CODE_A: 12,
    PinKind.CARD_INFO_CODE_B: 14,
    PinKind.SURFACE_BIRTH_DATE: 6,
    PinKind.SURFACE_CODE_B: 14,
    PinKind.SURFACE_CODE_A: 12,
    PinKind.COMMON: 4,
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
