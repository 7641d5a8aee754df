"""How a command handler of the software card ends with a status word."""

from __future__ import annotations

# Status words the card OS answers with. Named here (not in card.sw) because 6981 and
# 6C/61 are card-side decisions the host layer never needs names for.
SW_OK = 0x9000
SW_WRONG_LENGTH = 0x6700
SW_INCOMPATIBLE_FILE = 0x6981  # the current EF is not a transparent file (key, PIN)
SW_SECURITY_STATUS = 0x6982
SW_BLOCKED = 0x6984
SW_CONDITIONS = 0x6985
SW_NO_CURRENT_EF = 0x6986
SW_WRONG_DATA = 0x6A80
SW_NOT_FOUND = 0x6A82
SW_BAD_P1P2 = 0x6A86
SW_OFFSET = 0x6B00
SW_INS = 0x6D00
SW_CLA = 0x6E00
SW_INTERNAL = 0x6F00


def sw_wrong_pin(tries_left: int) -> int:
    """63Cx: verification failed, x tries left."""
    return 0x63C0 | (tries_left & 0x0F)


class SwError(Exception):
    """Raised by a command handler; the card OS turns it into a bare status word.

    The only way a handler reports failure, so that one place builds every error
    response."""

    def __init__(self, sw: int) -> None:
        super().__init__(f"SW={sw:04X}")
        self.sw = sw
