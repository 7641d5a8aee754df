"""The common card applet (共通カード AP, real-card-notes.md §4): the card record (serial,
municipality, expiry) readable without a PIN, the key reference record, the
INTERNAL AUTHENTICATE key in EF 0019 (no credential) and its own PIN 001C.

Stated, not measured, and so decided here: EF 0002 reads without a PIN like EF 0001;
the PIN opens nothing that is not already free (as the notes say of the 住基 PIN)."""

from __future__ import annotations

import hashlib

from jpki.constants import Aid, CommonFile, PinKind
from simulators.card.filesystem import Applet, CardKey, KeyFile, PinFile, RecordFile
from simulators.personas import Persona

TAG_CARD_RECORD = 0x01


def card_record(persona: Persona) -> bytes:
    """Record 1 of EF 0001: 01 1C + 15-digit serial + 5-digit municipality + YYYYMMDD."""
    body = (
        persona.card_serial + persona.municipality_code + persona.card_expiry.strftime("%Y%m%d")
    ).encode("ascii")
    assert len(body) == 0x1C
    return bytes([TAG_CARD_RECORD, len(body)]) + body


def key_reference(persona: Persona) -> bytes:
    """Record 1 of EF 0002: a 16-byte key reference of unknown purpose (fixed per
    persona here; real cards hold the same value in the 住基 AP's EF 0002)."""
    return hashlib.sha256(f"key-reference:{persona.id}".encode()).digest()[:16]


def common_applet(persona: Persona) -> Applet:
    applet = Applet(Aid.COMMON.value, "common card")
    applet.add(RecordFile(CommonFile.CARD_RECORD, (card_record(persona),)))
    applet.add(RecordFile(CommonFile.KEY_REFERENCE, (key_reference(persona),)))
    applet.add(KeyFile(CommonFile.AUTH_KEY, CardKey.COMMON_AUTH, None, internal_auth=True))
    applet.add(PinFile(CommonFile.PIN, PinKind.COMMON))
    return applet
