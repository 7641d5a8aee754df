"""PIN formats, checked before anything reaches the card."""

from __future__ import annotations

import re
from dataclasses import dataclass

from jpki.constants import PIN_DIGITS, PinKind
from jpki.errors import PinFormatError

_SIGN_PIN = re.compile(r"[A-Z0-9]{6,16}")
_LABELS = {
    PinKind.CARD_INFO_CODE_A: "照合番号A (the 12-digit My Number)",
    PinKind.SURFACE_CODE_A: "照合番号A (the 12-digit My Number)",
    PinKind.CARD_INFO_CODE_B: "照合番号B",
    PinKind.SURFACE_CODE_B: "照合番号B",
    PinKind.SURFACE_BIRTH_DATE: "birth date (Japanese era YYMMDD)",
}


def encode_pin(kind: PinKind, pin: str) -> bytes:
    """The PIN as the card expects it (ASCII), or PinFormatError. The sign PIN is
    upper-cased first, as every client does."""
    if kind is PinKind.SIGN:
        candidate = pin.upper()
        if not _SIGN_PIN.fullmatch(candidate):
            raise PinFormatError("the signature PIN is 6 to 16 characters of A-Z and 0-9")
        return candidate.encode("ascii")
    digits = PIN_DIGITS[kind]
    if len(pin) != digits or not all("0" <= c <= "9" for c in pin):
        label = _LABELS.get(kind, f"the {kind.value} PIN")
        raise PinFormatError(f"{label} is exactly {digits} digits")
    return pin.encode("ascii")


@dataclass(frozen=True, slots=True)
class PinStatus:
    """What the card says about a PIN without spending a try.

    `remaining` is None when the card answered 9000 (already verified in this selection;
    the count is not shown then) and when the PIN is not set yet (`is_set` False: the
    card answered 6A88, a new card before the counter set its PINs)."""

    kind: PinKind
    remaining: int | None
    verified: bool
    blocked: bool
    is_set: bool = True

    @property
    def max_tries(self) -> int:
        return self.kind.max_tries
