"""Session with the card-surface applet (券面事項確認 AP, real-card-notes.md §3): the
card face as printed (birth date, sex, name and address images, face photo, expiry,
security-code image), the age record, the My Number image, and their signatures.

Keys: the birth date (era YYMMDD) opens only the age record (EF 0001); 照合番号A opens
EFs 0002-0006; 照合番号B the same without 0005. EFs 0003 and 0004 are free.

Verification: every record is signed by the key the EF 0004 CV certificate carries; the
certificate is checked against an issuer key the verifier holds (`TrustedCvKeys`). The
face signature (DF28) is PKCS#1 v1.5 over a 115-byte DigestInfo wrapping three SHA-256
hashes: of DF22-DF24, of DF25-DF26 and of DF27, each over the objects as written. The
expiry (DF29) and security-code image (DF2A) are not covered."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from card.protocol import CardChannel
from card.tlv import TlvError, find_child, read_tlv
from jpki.applet import AppletSession
from jpki.codes import birth_date_key, check_code_a, check_code_b
from jpki.constants import Aid, PinKind, SurfaceFile
from jpki.cvc import (
    CvCertificate,
    SignatureMismatchError,
    TrustedCvKeys,
    parse_cv_certificate,
    parse_rsa_key,
    raw_objects,
    verify_digest_info,
    verify_sha256,
)
from jpki.errors import CardDataError
from jpki.offsets import field_value, offset_fields
from jpki.pin import PinStatus
from jpki.surface_layout import (
    FACE_FIELDS,
    TAG_ADDRESS_IMAGE,
    TAG_AGE_BIRTH_DATE,
    TAG_AGE_CARD_KEY,
    TAG_AGE_RECORD,
    TAG_AGE_SIGNATURE,
    TAG_BIRTH_DATE,
    TAG_CARD_KEY,
    TAG_EXPIRY,
    TAG_FACE,
    TAG_MY_NUMBER_IMAGE,
    TAG_MY_NUMBER_RECORD,
    TAG_MY_NUMBER_SIGNATURE,
    TAG_NAME_IMAGE,
    TAG_PHOTO,
    TAG_SECURITY_CODE_IMAGE,
    TAG_SEX,
    TAG_SIGNATURE,
    face_digest_info,
)

MAX_FACE_SIZE = 32768  # READ BINARY offsets are 15 bits: no EF is larger
MAX_RECORD_SIZE = 4096


JP2_SIGNATURE = bytes.fromhex("0000000c6a5020200d0a870a")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
CODES = {"A": PinKind.SURFACE_CODE_A, "B": PinKind.SURFACE_CODE_B}


def _date(raw: bytes, what: str) -> dt.date:
    try:
        return dt.datetime.strptime(raw.decode("ascii"), "%Y%m%d").date()
    except (UnicodeDecodeError, ValueError):
        raise CardDataError(f"{what} is not YYYYMMDD") from None


@dataclass(frozen=True, slots=True)
class CardFace:
    """EF 0002 as printed on the card. Images are the card's own bytes (PNG, JP2)."""

    birth_date: dt.date
    sex: str
    card_key: bytes  # 90/91 encoding
    name_png: bytes
    address_png: bytes
    photo_jp2: bytes
    signature: bytes
    expiry: dt.date
    security_code_png: bytes
    fields: dict[int, bytes] = field(repr=False)  # each field's TLV object as written

    def __repr__(self) -> str:  # personal data stays out of logs and tracebacks
        return "CardFace(<personal data>)"

    def digest_info(self) -> bytes:
        """The 115-byte DigestInfo the face signature must wrap, from the fields read."""
        return face_digest_info(self.fields)


@dataclass(frozen=True, slots=True)
class AgeRecord:
    birth_date: dt.date
    card_key: bytes
    signed: bytes  # DF11 || DF12 as written
    signature: bytes

    def __repr__(self) -> str:
        return "AgeRecord(<personal data>)"


@dataclass(frozen=True, slots=True)
class MyNumberImage:
    png: bytes
    signed: bytes
    signature: bytes

    def __repr__(self) -> str:
        return "MyNumberImage(<personal data>)"


@dataclass(frozen=True, slots=True)
class SurfaceVerdict:
    """What checking the card face found: the CV certificate's issuer and subject, and
    that the face signature verifies (a mismatch raises instead)."""

    issuer: str
    subject: str
    face_signature_valid: bool


def parse_card_face(raw: bytes) -> CardFace:
    fields = offset_fields(raw, TAG_FACE, FACE_FIELDS, "card face")
    values = {tag: field_value(item) for tag, item in fields.items()}
    if not values[TAG_PHOTO].startswith(JP2_SIGNATURE):
        raise CardDataError("card face: the photo is not JPEG 2000 in a JP2 container")
    for tag in (TAG_NAME_IMAGE, TAG_ADDRESS_IMAGE, TAG_SECURITY_CODE_IMAGE):
        if not values[tag].startswith(PNG_SIGNATURE):
            raise CardDataError(f"card face: element {tag:X} is not a PNG")
    sex = values[TAG_SEX].decode("ascii", errors="replace")
    if sex not in ("0", "1", "2", "9"):
        raise CardDataError("card face: unknown sex code")
    parse_rsa_key(values[TAG_CARD_KEY], "card face: card key")
    return CardFace(
        birth_date=_date(values[TAG_BIRTH_DATE], "card face: birth date"),
        sex=sex,
        card_key=values[TAG_CARD_KEY],
        name_png=values[TAG_NAME_IMAGE],
        address_png=values[TAG_ADDRESS_IMAGE],
        photo_jp2=values[TAG_PHOTO],
        signature=values[TAG_SIGNATURE],
        expiry=_date(values[TAG_EXPIRY], "card face: expiry"),
        security_code_png=values[TAG_SECURITY_CODE_IMAGE],
        fields=fields,
    )


def _signed_record(raw: bytes, outer: int, signature_tag: int, what: str) -> tuple[bytes, bytes]:
    """(the objects before the signature as written, the signature) of a signed record."""
    try:
        record = read_tlv(raw)
        if record.tag != outer:
            raise CardDataError(f"{what}: expected tag {outer:X}, found {record.tag:X}")
        objects = raw_objects(record.value)
    except TlvError as exc:
        raise CardDataError(f"{what}: {exc}") from exc
    if not objects or objects[-1][0] != signature_tag:
        raise CardDataError(f"{what}: the signature is not the last element")
    signed = b"".join(item for _, item in objects[:-1])
    return signed, read_tlv(objects[-1][1]).value


def parse_age_record(raw: bytes) -> AgeRecord:
    signed, signature = _signed_record(raw, TAG_AGE_RECORD, TAG_AGE_SIGNATURE, "age record")
    try:
        holder = read_tlv(raw)
        birth = find_child(holder, TAG_AGE_BIRTH_DATE).value
        key = find_child(holder, TAG_AGE_CARD_KEY).value
    except TlvError as exc:
        raise CardDataError(f"age record: {exc}") from exc
    return AgeRecord(_date(birth, "age record: birth date"), key, signed, signature)


def parse_my_number_image(raw: bytes) -> MyNumberImage:
    signed, signature = _signed_record(
        raw, TAG_MY_NUMBER_RECORD, TAG_MY_NUMBER_SIGNATURE, "My Number image"
    )
    try:
        png = find_child(read_tlv(raw), TAG_MY_NUMBER_IMAGE).value
    except TlvError as exc:
        raise CardDataError(f"My Number image: {exc}") from exc
    return MyNumberImage(png, signed, signature)


def verify_card_face(face: CardFace, certificate: CvCertificate, trusted: TrustedCvKeys) -> None:
    """SignatureMismatchError unless the face signature wraps the hashes of the fields
    as read, under the key the (trusted) CV certificate carries."""
    key = certificate.verify(trusted)
    verify_digest_info(key, face.signature, face.digest_info(), "card face")


class SurfaceSession(AppletSession):
    """The card-surface applet. Creating the session selects it."""

    aid = Aid.CARD_SURFACE

    def __init__(self, channel: CardChannel) -> None:
        super().__init__(channel)

    # -- credentials -----------------------------------------------------------------
    def status(self, kind: PinKind) -> PinStatus:
        """Tries left on one of the applet's keys, spending none."""
        self._require_own(kind)
        return self._pin_status(kind)

    def verify_birth_date(self, value: str | dt.date, *, check_status_first: bool = True) -> None:
        """The birth date, as a date or as the six era digits (昭和55年2月17日 -> 550217).
        Opens the age record only."""
        key = birth_date_key(value)
        self._verify_pin(PinKind.SURFACE_BIRTH_DATE, key, check_status_first=check_status_first)

    def verify_code(self, which: str, code: str, *, check_status_first: bool = True) -> None:
        """照合番号A ("A") or 照合番号B ("B"): format checked first, tries read first by
        default, sent once."""
        kind = CODES[which]
        if which == "A":
            check_code_a(code, kind)
        else:
            check_code_b(code, kind)
        self._verify_pin(kind, code, check_status_first=check_status_first)

    # -- records ---------------------------------------------------------------------
    def read_card_face(self) -> CardFace:
        """EF 0002 (照合番号A or B)."""
        return parse_card_face(self.read_object(SurfaceFile.CARD_FACE, max_size=MAX_FACE_SIZE))

    def read_age_record(self) -> AgeRecord:
        """EF 0001 (the birth date)."""
        return parse_age_record(self.read_object(SurfaceFile.AGE_RECORD, max_size=MAX_RECORD_SIZE))

    def read_my_number_image(self) -> MyNumberImage:
        """EF 0005 (照合番号A only)."""
        return parse_my_number_image(
            self.read_object(SurfaceFile.MY_NUMBER_IMAGE, max_size=MAX_RECORD_SIZE)
        )

    def read_cv_certificate(self) -> CvCertificate:
        """EF 0004 (free)."""
        return parse_cv_certificate(
            self.read_object(SurfaceFile.CV_CERTIFICATE, max_size=MAX_RECORD_SIZE)
        )

    # -- verification ----------------------------------------------------------------
    def verify_face(self, face: CardFace, trusted: TrustedCvKeys) -> SurfaceVerdict:
        certificate = self.read_cv_certificate()
        verify_card_face(face, certificate, trusted)
        return SurfaceVerdict(certificate.issuer, certificate.subject, True)

    def verify_age_record(self, record: AgeRecord, trusted: TrustedCvKeys) -> None:
        key = self.read_cv_certificate().verify(trusted)
        verify_sha256(key, record.signature, record.signed, "age record")

    def verify_my_number_image(self, image: MyNumberImage, trusted: TrustedCvKeys) -> None:
        key = self.read_cv_certificate().verify(trusted)
        verify_sha256(key, image.signature, image.signed, "My Number image")

    @staticmethod
    def _require_own(kind: PinKind) -> None:
        if kind.aid is not Aid.CARD_SURFACE:
            raise ValueError(f"the {kind.value} key is not a card-surface key")


__all__ = [
    "AgeRecord",
    "CardFace",
    "MyNumberImage",
    "SignatureMismatchError",
    "SurfaceSession",
    "SurfaceVerdict",
    "parse_card_face",
    "verify_card_face",
]
