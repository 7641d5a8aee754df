"""The resident-record code (住民票コード): 10 digits and a check digit.

The check digit is a modulus-11 digit of the same shape as the My Number's (個人番号の
検査用数字, 総務省令第八十五号 第五条): with Pn the n-th digit of the 10 counted from
the lowest (n = 1), and Qn = n + 1 for 1 <= n <= 6 and n - 5 for 7 <= n <= 10, the digit
is 11 - (sum(Pn * Qn) mod 11), or 0 when that remainder is 0 or 1.

The 住民票コード's own formula is set by 総務省告示 (平成14年第436号, under 住民基本台帳法
施行規則 第一条第二号); its text could not be confirmed from public sources while this was
written, so the weights above are the My Number's pattern applied to 10 digits (see
docs/decisions.md, issue 10). Left to right the weights are 5,4,3,2,7,6,5,4,3,2.
"""

from __future__ import annotations

from simulators.core.errors import BadResidentCodeCheckDigit, InvalidResidentCode

RESIDENT_CODE_DIGITS = 11
# Weights of the ten leading digits, left to right (Qn read from n = 10 down to 1).
_WEIGHTS = tuple((n + 1) if n <= 6 else (n - 5) for n in range(10, 0, -1))


def check_digit(first_ten: str) -> int:
    """The check digit of 10 leading digits."""
    if len(first_ten) != 10 or not first_ten.isascii() or not first_ten.isdigit():
        raise InvalidResidentCode("the leading part of a resident-record code is 10 digits")
    remainder = sum(int(d) * w for d, w in zip(first_ten, _WEIGHTS, strict=True)) % 11
    return 0 if remainder <= 1 else 11 - remainder


def complete(first_ten: str) -> str:
    """The full 11-digit code for 10 leading digits."""
    return first_ten + str(check_digit(first_ten))


def check_resident_code(value: object) -> str:
    """`value` when it is a well-formed code; INVALID_RESIDENT_CODE for anything that is
    not 11 ASCII digits, RESIDENT_CODE_CHECK_DIGIT when the last digit is wrong."""
    if (
        not isinstance(value, str)
        or len(value) != RESIDENT_CODE_DIGITS
        or not value.isascii()
        or not value.isdigit()
    ):
        raise InvalidResidentCode("a resident-record code (住民票コード) is 11 digits")
    if check_digit(value[:10]) != int(value[10]):
        raise BadResidentCodeCheckDigit(
            "the check digit of the resident-record code does not match (mistyped?)"
        )
    return value
