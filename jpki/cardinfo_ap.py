"""Session with the card-info input-helper applet (券面事項入力補助 AP): the My Number and
the basic 4 facts, behind their own 4-digit PIN, or 照合番号A / 照合番号B when the
holder has no PIN at hand (real-card-notes.md §2): A opens the My Number, B the basic 4
facts, either the integrity record. The integrity record's signature is checked against
the key the applet's CV certificate (EF 0004) carries, chained to a trusted issuer key."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from dataclasses import dataclass

from card.protocol import CardChannel
from card.tlv import Tlv, TlvError, find_child, read_tlv
from jpki.applet import AppletSession
from jpki.codes import check_code_a, check_code_b
from jpki.constants import Aid, CardInfoFile, PinKind
from jpki.cvc import (
    CvCertificate,
    TrustedCvKeys,
    parse_cv_certificate,
    verify_sha256,
)
from jpki.errors import CardDataError
from jpki.mynumber import InvalidMyNumberError, MyNumber
from jpki.offsets import field_value, offset_fields
from jpki.pin import PinStatus

TAG_MY_NUMBER = 0xFF10
TAG_BASIC_FOUR = 0xFF20
TAG_INTEGRITY = 0xFF30
TAG_OFFSETS = 0xDF21
TAG_NAME = 0xDF22
TAG_ADDRESS = 0xDF23
TAG_BIRTH_DATE = 0xDF24
TAG_SEX = 0xDF25
TAG_HASH_MY_NUMBER = 0xDF31
TAG_HASH_BASIC_FOUR = 0xDF32
TAG_SIGNATURE = 0xDF33
MAX_RECORD_SIZE = 4096
MY_NUMBER_EF_SIZE = 17
SEX_CODES = {"0": "unknown", "1": "male", "2": "female", "9": "not applicable"}
BASIC_FOUR_FIELDS = (TAG_NAME, TAG_ADDRESS, TAG_BIRTH_DATE, TAG_SEX)
CODES = {"A": PinKind.CARD_INFO_CODE_A, "B": PinKind.CARD_INFO_CODE_B}


@dataclass(frozen=True, slots=True)
class BasicFour:
    """The basic 4 facts (基本4情報) as printed on the card."""

    name: str
    address: str
    birth_date: dt.date
    sex: str  # "1" male, "2" female, "9" not applicable

    @property
    def sex_text(self) -> str:
        return SEX_CODES.get(self.sex, "unknown")

    def __repr__(self) -> str:  # personal data stays out of logs and tracebacks
        return "BasicFour(<personal data>)"


@dataclass(frozen=True, slots=True)
class IntegrityRecord:
    my_number_hash: bytes
    basic_four_hash: bytes
    signature: bytes
    signed: bytes = b""  # DF31 || DF32 exactly as written: what DF33 signs


class CardInfoSession(AppletSession):
    """The card-info input-helper applet. Every read requires its PIN."""

    aid = Aid.CARD_INFO

    def __init__(self, channel: CardChannel) -> None:
        super().__init__(channel)
        self._raw_my_number: bytes | None = None
        self._raw_basic_four: bytes | None = None

    def pin_status(self) -> PinStatus:
        return self._pin_status(PinKind.CARD_INFO)

    def verify_pin(self, pin: str, *, check_status_first: bool = True) -> None:
        self._verify_pin(PinKind.CARD_INFO, pin, check_status_first=check_status_first)

    def change_pin(self, current: str, new: str) -> None:
        self._change_pin(PinKind.CARD_INFO, current, new)

    def code_status(self, which: str) -> PinStatus:
        """Tries left on 照合番号A ("A") or 照合番号B ("B"), spending none."""
        return self._pin_status(CODES[which])

    def verify_code(self, which: str, code: str, *, check_status_first: bool = True) -> None:
        """VERIFY 照合番号A or B once: format (and A's check digit) checked before any
        APDU, the remaining tries read first by default, never re-sent."""
        kind = CODES[which]
        check_code_a(code) if which == "A" else check_code_b(code)
        self._verify_pin(kind, code, check_status_first=check_status_first)

    def read_my_number(self) -> MyNumber:
        """Requires the card-info PIN. The value masks itself when printed."""
        # The integrity hash covers the whole 17-byte EF (object plus FF FF filler), so it
        # is read whole in one APDU rather than sized from the header.
        self.select_file(CardInfoFile.MY_NUMBER)
        raw = self.read_binary(0, MY_NUMBER_EF_SIZE)
        self._raw_my_number = raw
        return parse_my_number(raw)

    def read_basic_four(self) -> BasicFour:
        """Requires the card-info PIN."""
        raw = self.read_object(CardInfoFile.BASIC_FOUR, max_size=MAX_RECORD_SIZE)
        self._raw_basic_four = raw
        return parse_basic_four(raw)

    def read_integrity(self) -> IntegrityRecord:
        raw = self.read_object(CardInfoFile.INTEGRITY, max_size=MAX_RECORD_SIZE)
        return parse_integrity(raw)

    def read_cv_certificate(self) -> CvCertificate:
        """EF 0004 (free): the CV certificate of the key that signs the integrity record."""
        return parse_cv_certificate(
            self.read_object(CardInfoFile.CV_CERTIFICATE, max_size=MAX_RECORD_SIZE)
        )

    def verify_integrity_signature(self, trusted: TrustedCvKeys) -> IntegrityRecord:
        """check_integrity, then the DF33 signature against the key of the applet's CV
        certificate, itself checked against `trusted`. SignatureMismatchError (a
        CardDataError) when anything does not verify; UnknownIssuerError when the
        certificate's issuer is not trusted."""
        record = self.check_integrity()
        key = self.read_cv_certificate().verify(trusted)
        verify_sha256(key, record.signature, record.signed, "card-info integrity record")
        return record

    def check_integrity(self) -> IntegrityRecord:
        """Read the integrity record and check that the My Number and basic 4 facts read
        in this session match its hashes (reads them first if needed). CardDataError on
        a mismatch."""
        if self._raw_my_number is None:
            self.read_my_number()
        if self._raw_basic_four is None:
            self.read_basic_four()
        assert self._raw_my_number is not None and self._raw_basic_four is not None
        record = self.read_integrity()
        check_integrity(record, self._raw_my_number, self._raw_basic_four)
        return record


def _tlv(raw: bytes, tag: int, what: str) -> Tlv:
    try:
        item = read_tlv(raw)
    except TlvError as exc:
        raise CardDataError(f"{what}: {exc}") from exc
    if item.tag != tag:
        raise CardDataError(f"{what}: expected tag {tag:X}, found {item.tag:X}")
    return item


def parse_my_number(raw: bytes) -> MyNumber:
    item = _tlv(raw, TAG_MY_NUMBER, "My Number record")
    try:
        return MyNumber(item.value.decode("ascii"))
    except (UnicodeDecodeError, InvalidMyNumberError) as exc:
        raise CardDataError(f"My Number record is invalid: {exc}") from None


def _utf8_value(field: bytes, what: str) -> str:
    try:
        return field_value(field).decode("utf-8")
    except UnicodeDecodeError:
        raise CardDataError(f"{what} is not UTF-8") from None


def parse_basic_four(raw: bytes) -> BasicFour:
    """The basic 4 facts, each field sliced at its DF21 offset (from byte 0 of the EF,
    as on real cards; a table counted from the FF20 value is read too)."""
    fields = offset_fields(raw, TAG_BASIC_FOUR, BASIC_FOUR_FIELDS, "basic 4 facts")
    name = _utf8_value(fields[TAG_NAME], "name")
    address = _utf8_value(fields[TAG_ADDRESS], "address")
    birth = field_value(fields[TAG_BIRTH_DATE])
    sex = field_value(fields[TAG_SEX])
    try:
        birth_date = dt.datetime.strptime(birth.decode("ascii"), "%Y%m%d").date()
    except (UnicodeDecodeError, ValueError):
        raise CardDataError("basic 4 facts: birth date is not YYYYMMDD") from None
    sex_code = sex.decode("ascii", errors="replace")
    if sex_code not in SEX_CODES:
        raise CardDataError("basic 4 facts: unknown sex code")
    return BasicFour(name, address, birth_date, sex_code)


def parse_integrity(raw: bytes) -> IntegrityRecord:
    record = _tlv(raw, TAG_INTEGRITY, "integrity record")
    try:
        first = find_child(record, TAG_HASH_MY_NUMBER)
        second = find_child(record, TAG_HASH_BASIC_FOUR)
        signature = find_child(record, TAG_SIGNATURE)
    except TlvError as exc:
        raise CardDataError(f"integrity record: {exc}") from exc
    # DF33 signs the DF31 and DF32 objects exactly as written, the first two elements.
    signed = record.value[: first.total_length + second.total_length]
    if read_tlv(signed).tag != TAG_HASH_MY_NUMBER:
        raise CardDataError("integrity record: DF31 is not the first element")
    return IntegrityRecord(first.value, second.value, signature.value, signed)


def basic_four_hashed_part(raw_basic_four: bytes) -> bytes:
    """The bytes the integrity hash covers: the FF20 value from the DF22 tag to the end
    of the record, without DF21 and without filler."""
    fields = offset_fields(raw_basic_four, TAG_BASIC_FOUR, BASIC_FOUR_FIELDS, "basic 4 facts")
    record = _tlv(raw_basic_four, TAG_BASIC_FOUR, "basic 4 facts record")
    start = raw_basic_four.index(fields[TAG_NAME], record.header_length)
    return raw_basic_four[start : record.total_length]


def check_integrity(record: IntegrityRecord, raw_my_number: bytes, raw_basic_four: bytes) -> None:
    number_hash = hashlib.sha256(raw_my_number).digest()
    four_hash = hashlib.sha256(basic_four_hashed_part(raw_basic_four)).digest()
    if not hmac.compare_digest(number_hash, record.my_number_hash):
        raise CardDataError("the My Number does not match the card's integrity record")
    if not hmac.compare_digest(four_hash, record.basic_four_hash):
        raise CardDataError("the basic 4 facts do not match the card's integrity record")
