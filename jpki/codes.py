"""照合番号A / 照合番号B and the era birth date: the credentials that open the 券面
applets when the holder has no PIN at hand (real-card-notes.md §2, §3). Each is checked
here, before any APDU, so a mistyped value costs no try."""

from __future__ import annotations

import datetime as dt

from jpki.constants import PinKind
from jpki.era import era_yymmdd
from jpki.errors import PinFormatError
from jpki.mynumber import InvalidMyNumberError, MyNumber
from jpki.pin import encode_pin

EARLIEST_EXPIRY_YEAR = 2016  # the first Individual Number Cards were issued in 2016


def check_code_a(code: str, kind: PinKind = PinKind.CARD_INFO_CODE_A) -> bytes:
    """照合番号A is the 12-digit My Number; its check digit is checked too."""
    encoded = encode_pin(kind, code)
    try:
        MyNumber(code)
    except InvalidMyNumberError:
        raise PinFormatError("照合番号A is not a valid My Number (check digit)") from None
    return encoded


def _check_yymmdd(text: str, what: str) -> None:
    month, day = int(text[2:4]), int(text[4:6])
    if not (1 <= month <= 12 and 1 <= day <= 31):
        raise PinFormatError(f"{what} does not hold a month and day (era YYMMDD)")


def check_code_b(code: str, kind: PinKind = PinKind.CARD_INFO_CODE_B) -> bytes:
    """照合番号B: era birth date YYMMDD + expiry year YYYY + 4-digit security code."""
    encoded = encode_pin(kind, code)
    _check_yymmdd(code[:6], "照合番号B")
    if not EARLIEST_EXPIRY_YEAR <= int(code[6:10]) <= 2099:
        raise PinFormatError("照合番号B: digits 7-10 are the card's expiry year")
    return encoded


def birth_date_key(value: str | dt.date) -> str:
    """The card-surface birth-date key: a date (converted to its era YYMMDD) or the six
    era digits as typed."""
    text = era_yymmdd(value) if isinstance(value, dt.date) else value
    encode_pin(PinKind.SURFACE_BIRTH_DATE, text)
    _check_yymmdd(text, "the birth date")
    return text
