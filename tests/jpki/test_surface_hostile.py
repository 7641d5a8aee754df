"""Hostile or broken card answers to the 券面 and common parsers: a typed CardError
(CardDataError / MalformedResponseError), never another exception and never a face."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from card.errors import CardError
from card.protocol import CardChannel
from card.tlv import encode_tlv
from jpki.common_ap import parse_card_record
from jpki.cvc import parse_cv_certificate, parse_rsa_key
from jpki.errors import CardDataError
from jpki.photo import decode_photo
from jpki.surface_ap import (
    SurfaceSession,
    parse_age_record,
    parse_card_face,
    parse_my_number_image,
)
from simulators.card import SoftwareCard, SoftwareCardConnection
from simulators.personas import Persona

PARSERS = (
    parse_card_face,
    parse_age_record,
    parse_my_number_image,
    parse_cv_certificate,
    parse_card_record,
    lambda raw: parse_rsa_key(raw, "key"),
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=600))
def test_parsers_only_raise_typed_errors(raw: bytes) -> None:
    for parser in PARSERS:
        with contextlib.suppress(CardError):
            parser(raw)


@settings(max_examples=40, deadline=None)
@given(st.binary(max_size=200))
def test_a_broken_photo_is_a_typed_error(tail: bytes) -> None:
    jp2_header = bytes.fromhex("0000000c6a5020200d0a870a")
    with pytest.raises(CardDataError):
        decode_photo(jp2_header + tail)


def test_a_jpeg_or_png_is_not_taken_for_the_photo() -> None:
    for raw in (b"\xff\xd8\xff\xe0" + b"\x00" * 40, b"\x89PNG\r\n\x1a\n" + b"\x00" * 40):
        with pytest.raises(CardDataError):
            decode_photo(raw)


def test_face_fields_of_the_wrong_kind_are_refused(card_templates, persona: Persona) -> None:  # type: ignore[no-untyped-def]
    session = SurfaceSession(CardChannel(SoftwareCardConnection(card_templates[persona.id].copy())))
    session.verify_code("A", persona.my_number.reveal())
    face = session.read_card_face()
    fields = dict(face.fields)
    fields[0xDF27] = encode_tlv(0xDF27, b"\xff\xd8\xff\xe0 a JPEG, not JP2")
    offsets, position = bytearray(), 5 + 21  # FF20 82 LLLL, then DF21 (21 bytes)
    ordered = [fields[tag] for tag in sorted(fields)]
    for item in ordered:
        offsets += position.to_bytes(2, "big")
        position += len(item)
    raw = encode_tlv(0xFF20, encode_tlv(0xDF21, bytes(offsets)) + b"".join(ordered))
    with pytest.raises(CardDataError, match="JPEG 2000"):
        parse_card_face(raw)


def test_the_face_reads_over_t0_in_short_chunks(card_templates, persona: Persona) -> None:  # type: ignore[no-untyped-def]
    """A T=0 card carries no extended length: the 5-6 KB face comes in 256-byte reads
    and is the same face."""
    template: SoftwareCard = card_templates[persona.id]
    faces = []
    for card in (template.copy(), template.copy(t0=True)):
        session = SurfaceSession(CardChannel(SoftwareCardConnection(card)))
        session.verify_code("B", persona.code_b)
        faces.append(session.read_card_face())
    assert faces[0].fields == faces[1].fields
