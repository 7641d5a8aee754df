"""The 12-digit Individual Number (個人番号) as a value type that never prints itself."""

from __future__ import annotations

_WEIGHTS = (6, 5, 4, 3, 2, 7, 6, 5, 4, 3, 2)


class InvalidMyNumberError(ValueError):
    """Not 12 digits, or the check digit does not match."""


def check_digit(first_eleven: str) -> int:
    """Check digit of the first 11 digits (weights 6,5,4,3,2,7,6,5,4,3,2; mod 11)."""
    if len(first_eleven) != 11 or not first_eleven.isascii() or not first_eleven.isdigit():
        raise InvalidMyNumberError("the first part of a My Number is 11 digits")
    remainder = sum(int(d) * w for d, w in zip(first_eleven, _WEIGHTS, strict=True)) % 11
    return 0 if remainder <= 1 else 11 - remainder


def complete(first_eleven: str) -> str:
    """The valid 12-digit number for 11 given digits."""
    return first_eleven + str(check_digit(first_eleven))


class MyNumber:
    """A validated My Number. str() and repr() mask all but the last 4 digits; the full
    value is only available through `reveal()`, so that leaking it takes intent."""

    __slots__ = ("_digits",)

    def __init__(self, digits: str) -> None:
        if len(digits) != 12 or not digits.isascii() or not digits.isdigit():
            raise InvalidMyNumberError("a My Number is 12 ASCII digits")
        if check_digit(digits[:11]) != int(digits[11]):
            raise InvalidMyNumberError("My Number check digit does not match")
        self._digits = digits

    def reveal(self) -> str:
        """The full number. Only for the role allowed to see it; audit the caller."""
        return self._digits

    @property
    def masked(self) -> str:
        return "*" * 8 + self._digits[8:]

    @property
    def last4(self) -> str:
        return self._digits[8:]

    def __str__(self) -> str:
        return self.masked

    def __repr__(self) -> str:
        return f"MyNumber({self.masked!r})"

    def __format__(self, spec: str) -> str:
        return format(self.masked, spec)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, MyNumber) and other._digits == self._digits

    def __hash__(self) -> int:
        return hash(("MyNumber", self._digits))

    def __reduce__(self) -> tuple[object, ...]:
        raise TypeError("MyNumber is not picklable: it must not be persisted by accident")
