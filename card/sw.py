"""ISO 7816-4 status words with readable text."""

from __future__ import annotations

from enum import IntEnum


class StatusWord(IntEnum):
    OK = 0x9000
    WRONG_LENGTH = 0x6700
    INCOMPATIBLE_FILE_STRUCTURE = 0x6981
    SECURITY_STATUS_NOT_SATISFIED = 0x6982
    AUTH_METHOD_BLOCKED = 0x6983
    REFERENCE_DATA_UNUSABLE = 0x6984
    CONDITIONS_NOT_SATISFIED = 0x6985
    COMMAND_NOT_ALLOWED_NO_EF = 0x6986
    WRONG_DATA = 0x6A80
    FUNCTION_NOT_SUPPORTED = 0x6A81
    FILE_NOT_FOUND = 0x6A82
    RECORD_NOT_FOUND = 0x6A83
    INCORRECT_P1_P2 = 0x6A86
    REFERENCE_DATA_NOT_FOUND = 0x6A88
    WRONG_P1_P2 = 0x6B00
    INS_NOT_SUPPORTED = 0x6D00
    CLA_NOT_SUPPORTED = 0x6E00
    NO_PRECISE_DIAGNOSIS = 0x6F00
    NO_RETRY_LIMIT = 0x6300  # status query of a key without a retry counter
    LOGICAL_CHANNEL_NOT_SUPPORTED = 0x6881
    SECURE_MESSAGING_NOT_SUPPORTED = 0x6882
    SM_DATA_OBJECTS_MISSING = 0x6987
    SM_DATA_OBJECTS_INCORRECT = 0x6988
    SM_NOT_ACTIVE = 0x69FC  # proprietary: no secure messaging session (or it ended)
    NO_SESSION_KEY = 0x66F1  # proprietary: the applet has no session key to set
    MEMORY_FAILURE = 0x6581
    END_OF_FILE_BEFORE_LE = 0x6282


_TEXT: dict[int, str] = {
    0x9000: "success",
    0x6700: "wrong length",
    0x6981: "command incompatible with file structure",
    0x6982: "security status not satisfied",
    0x6983: "authentication method blocked",
    0x6984: "reference data unusable (blocked)",
    0x6985: "conditions of use not satisfied",
    0x6986: "command not allowed (no current EF)",
    0x6A80: "incorrect data field",
    0x6A81: "function not supported",
    0x6A82: "file or application not found",
    0x6A83: "record not found",
    0x6A86: "incorrect P1-P2",
    0x6A88: "referenced data not found",
    0x6B00: "wrong parameters (offset outside the EF)",
    0x6D00: "instruction not supported",
    0x6E00: "class not supported",
    0x6F00: "no precise diagnosis",
    0x6300: "verification failed, no retry limit",
    0x6881: "logical channel not supported",
    0x6882: "secure messaging not supported",
    0x6987: "expected secure messaging data objects missing",
    0x6988: "secure messaging data objects incorrect",
    0x69FC: "secure messaging not active",
    0x66F1: "no session key in this applet",
    0x6581: "memory failure",
    0x6282: "end of file reached before Le bytes",
}


def describe_sw(sw: int) -> str:
    """Readable text for a status word, including the parameterised ones."""
    sw1, sw2 = sw >> 8, sw & 0xFF
    if sw in _TEXT:
        return _TEXT[sw]
    if sw1 == 0x63 and sw2 & 0xF0 == 0xC0:
        return f"verification failed, {sw2 & 0x0F} tries left"
    if sw1 == 0x61:
        return f"{sw2 or 256} more bytes available (GET RESPONSE)"
    if sw1 == 0x6C:
        return f"wrong Le, exact length is {sw2 or 256}"
    if sw1 == 0x62 or sw1 == 0x63:
        return "warning"
    return "unknown status"


def format_sw(sw: int) -> str:
    return f"SW={sw:04X} ({describe_sw(sw)})"


def retries_from_sw(sw: int) -> int | None:
    """Tries left encoded in a 63Cx status word, else None."""
    if sw >> 8 == 0x63 and (sw & 0xF0) == 0xC0:
        return sw & 0x0F
    return None
