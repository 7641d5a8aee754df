"""Session with the card-info input-helper applet (券面事項入力補助 AP): the My Number and
the basic 4 facts, behind their own 4-digit PIN."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from dataclasses import dataclass

from card.protocol import CardChannel
from card.tlv import Tlv, TlvError, find_child, iter_tlvs, read_tlv
from jpki.applet import AppletSession
from jpki.constants import Aid, CardInfoFile, PinKind
from jpki.errors import CardDataError
from jpki.mynumber import InvalidMyNumberError, MyNumber
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
SEX_CODES = {"1": "male", "2": "female", "9": "not applicable"}


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


def _utf8(item: Tlv, what: str) -> str:
    try:
        return item.value.decode("utf-8")
    except UnicodeDecodeError:
        raise CardDataError(f"{what} is not UTF-8") from None


def parse_basic_four(raw: bytes) -> BasicFour:
    record = _tlv(raw, TAG_BASIC_FOUR, "basic 4 facts record")
    try:
        offsets = find_child(record, TAG_OFFSETS)
        if len(offsets.value) != 8:
            raise CardDataError("basic 4 facts: the offset table is not 8 bytes")
        name = _utf8(find_child(record, TAG_NAME), "name")
        address = _utf8(find_child(record, TAG_ADDRESS), "address")
        birth = find_child(record, TAG_BIRTH_DATE).value
        sex = find_child(record, TAG_SEX).value
    except TlvError as exc:
        raise CardDataError(f"basic 4 facts: {exc}") from exc
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
        return IntegrityRecord(
            find_child(record, TAG_HASH_MY_NUMBER).value,
            find_child(record, TAG_HASH_BASIC_FOUR).value,
            find_child(record, TAG_SIGNATURE).value,
        )
    except TlvError as exc:
        raise CardDataError(f"integrity record: {exc}") from exc


def basic_four_hashed_part(raw_basic_four: bytes) -> bytes:
    """The bytes the integrity hash covers: the FF20 value from the DF22 element on."""
    record = _tlv(raw_basic_four, TAG_BASIC_FOUR, "basic 4 facts record")
    position = 0
    for child in iter_tlvs(record.value):
        if child.tag == TAG_NAME:
            return record.value[position:]
        position += child.total_length
    raise CardDataError("basic 4 facts: no name element")


def check_integrity(record: IntegrityRecord, raw_my_number: bytes, raw_basic_four: bytes) -> None:
    number_hash = hashlib.sha256(raw_my_number).digest()
    four_hash = hashlib.sha256(basic_four_hashed_part(raw_basic_four)).digest()
    if not hmac.compare_digest(number_hash, record.my_number_hash):
        raise CardDataError("the My Number does not match the card's integrity record")
    if not hmac.compare_digest(four_hash, record.basic_four_hash):
        raise CardDataError("the basic 4 facts do not match the card's integrity record")
