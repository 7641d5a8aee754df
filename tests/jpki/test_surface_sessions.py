"""Client sessions for the 券面 applets and the common card applet, written from the
real-card facts (real-card-notes.md §2-§4), against the software card in process and
(for the main read) through pcscd + vpcd."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import shutil
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from card.errors import InvalidPinError, SecurityStatusNotSatisfiedError
from card.protocol import CardChannel
from card.tlv import encode_tlv
from jpki.cardinfo_ap import CardInfoSession, parse_basic_four
from jpki.common_ap import CommonSession
from jpki.constants import PinKind
from jpki.cvc import (
    SignatureMismatchError,
    UnknownIssuerError,
    load_trusted_cv_keys,
    parse_cv_certificate,
)
from jpki.errors import CardDataError, PinFormatError
from jpki.photo import decode_photo
from jpki.surface_ap import CardFace, SurfaceSession, parse_card_face, verify_card_face
from simulators.card import SoftwareCard, SoftwareCardConnection
from simulators.card.filesystem import CardKey
from simulators.card.issuer import card_issuer_for
from simulators.personas import Persona, get_persona
from tests.conftest import require_or_skip
from tests.jpki.test_sessions import recorded


@pytest.fixture
def trusted(test_pki):  # type: ignore[no-untyped-def]
    """What a verifier holds: the issuer roots' public halves, read from the trust dir."""
    return load_trusted_cv_keys(card_issuer_for(test_pki).trust_directory)


def in_process(card: SoftwareCard) -> CardChannel:
    return CardChannel(SoftwareCardConnection(card))


# --- card surface ---------------------------------------------------------------------


def test_surface_face_with_code_a_verifies_and_the_photo_decodes(
    channel: CardChannel, persona: Persona, trusted
) -> None:  # type: ignore[no-untyped-def]
    session = SurfaceSession(channel)
    with pytest.raises(SecurityStatusNotSatisfiedError):
        session.read_card_face()
    session.verify_code("A", persona.my_number.reveal())
    face = session.read_card_face()
    assert face.birth_date == persona.birth_date and face.sex == persona.sex
    assert face.expiry == persona.card_expiry
    verdict = session.verify_face(face, trusted)
    assert verdict.face_signature_valid and verdict.issuer == "6000023/001"
    assert verdict.subject == "6000024/001"
    width, height, mode, png = decode_photo(face.photo_jp2)
    assert mode == "L" and width > 100 and height > 100  # greyscale, a real picture
    assert png.startswith(b"\x89PNG")
    assert persona.my_number.reveal() not in repr(face)


def test_photo_decodes_with_openjpeg_and_pillow(
    card_templates, persona: Persona, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """The photo is a JP2 that an independent decoder (openjpeg's opj_decompress)
    decodes to the same pixels as Pillow."""
    from PIL import Image

    session = SurfaceSession(in_process(card_templates[persona.id].copy()))
    session.verify_code("A", persona.my_number.reveal())
    face = session.read_card_face()
    tool = shutil.which("opj_decompress")
    require_or_skip(tool is not None, "opj_decompress (Debian libopenjp2-tools) is missing")
    assert tool is not None
    source, out = tmp_path / "face.jp2", tmp_path / "face.pgm"
    source.write_bytes(face.photo_jp2)
    subprocess.run([tool, "-i", str(source), "-o", str(out)], check=True, capture_output=True)
    decoded = Image.open(out)
    pillow = Image.open(io.BytesIO(face.photo_jp2))
    assert decoded.size == pillow.size and decoded.mode == "L"
    assert decoded.tobytes() == pillow.convert("L").tobytes()
    for image in (face.name_png, face.address_png, face.security_code_png):
        assert Image.open(io.BytesIO(image)).mode == "1"  # 1-bit renders
    assert Image.open(io.BytesIO(face.security_code_png)).size == (24, 12)


def test_birth_date_opens_the_age_record_only(card_templates, persona: Persona, trusted) -> None:  # type: ignore[no-untyped-def]
    session = SurfaceSession(in_process(card_templates[persona.id].copy()))
    session.verify_birth_date(persona.birth_date)  # sent as the era date, e.g. 600412
    age = session.read_age_record()
    assert age.birth_date == persona.birth_date
    session.verify_age_record(age, trusted)
    with pytest.raises(SecurityStatusNotSatisfiedError):
        session.read_card_face()
    with pytest.raises(SecurityStatusNotSatisfiedError):
        session.read_my_number_image()


def test_code_b_opens_the_face_but_not_the_my_number_image(
    card_templates, persona: Persona, trusted
) -> None:  # type: ignore[no-untyped-def]
    session = SurfaceSession(in_process(card_templates[persona.id].copy()))
    session.verify_code("B", persona.code_b)
    session.verify_face(session.read_card_face(), trusted)
    with pytest.raises(SecurityStatusNotSatisfiedError):
        session.read_my_number_image()
    with pytest.raises(SecurityStatusNotSatisfiedError):
        session.read_age_record()


def test_code_a_opens_the_signed_my_number_image(card_templates, persona: Persona, trusted) -> None:  # type: ignore[no-untyped-def]
    session = SurfaceSession(in_process(card_templates[persona.id].copy()))
    session.verify_code("A", persona.my_number.reveal())
    image = session.read_my_number_image()
    session.verify_my_number_image(image, trusted)
    from PIL import Image

    assert Image.open(io.BytesIO(image.png)).size == (72, 12)


def _tampered(face: CardFace, tag: int, new_value: bytes) -> CardFace:
    fields = dict(face.fields)
    fields[tag] = encode_tlv(tag, new_value)
    return CardFace(
        face.birth_date,
        face.sex,
        face.card_key,
        face.name_png,
        face.address_png,
        face.photo_jp2,
        face.signature,
        face.expiry,
        face.security_code_png,
        fields,
    )


def test_a_changed_photo_or_name_is_refused_but_expiry_is_not_signed(
    card_templates, persona: Persona, trusted
) -> None:  # type: ignore[no-untyped-def]
    session = SurfaceSession(in_process(card_templates[persona.id].copy()))
    session.verify_code("A", persona.my_number.reveal())
    face = session.read_card_face()
    certificate = session.read_cv_certificate()
    for tag in (0xDF22, 0xDF23, 0xDF25, 0xDF26, 0xDF27):
        altered = _tampered(face, tag, face.fields[tag][4:] + b"x")
        with pytest.raises(SignatureMismatchError):
            verify_card_face(altered, certificate, trusted)
    # DF29 (expiry) and DF2A (security-code image) are outside the signature (§3).
    verify_card_face(_tampered(face, 0xDF29, b"20991231"), certificate, trusted)
    verify_card_face(_tampered(face, 0xDF2A, b"\x89PNG other"), certificate, trusted)


def test_an_untrusted_or_forged_issuer_is_refused(
    card_templates, persona: Persona, trusted
) -> None:  # type: ignore[no-untyped-def]
    session = SurfaceSession(in_process(card_templates[persona.id].copy()))
    session.verify_code("A", persona.my_number.reveal())
    face = session.read_card_face()
    certificate = session.read_cv_certificate()
    with pytest.raises(UnknownIssuerError):
        verify_card_face(face, certificate, {})
    other_root = next(k for i, k in trusted.items() if i != certificate.issuer_id)
    with pytest.raises(SignatureMismatchError):
        verify_card_face(face, certificate, {certificate.issuer_id: other_root})


def test_surface_code_format_checked_before_any_apdu(card_templates, persona: Persona) -> None:  # type: ignore[no-untyped-def]
    card = card_templates[persona.id].copy()
    channel = in_process(card)
    session = SurfaceSession(channel)
    recorder = recorded(channel)
    wrong_check_digit = persona.my_number.reveal()[:-1] + str(
        (int(persona.my_number.reveal()[-1]) + 1) % 10
    )
    for which, code in (("A", "12345"), ("A", wrong_check_digit), ("B", "1234567890123")):
        with pytest.raises(PinFormatError):
            session.verify_code(which, code)
    with pytest.raises(PinFormatError):
        session.verify_code("B", "99139920352285")  # month 13
    with pytest.raises(PinFormatError):
        session.verify_birth_date("551302")
    assert recorder.sent == []
    assert card.pin_remaining(PinKind.SURFACE_CODE_A) == 10


def test_wrong_code_b_spends_one_try_and_is_not_resent(card_templates, persona: Persona) -> None:  # type: ignore[no-untyped-def]
    card = card_templates[persona.id].copy()
    channel = in_process(card)
    session = SurfaceSession(channel)
    recorder = recorded(channel)
    wrong = persona.code_b[:-4] + ("0000" if persona.security_code != "0000" else "1111")
    with pytest.raises(InvalidPinError) as raised:
        session.verify_code("B", wrong)
    assert "9 tries left" in str(raised.value)
    assert recorder.verifies_with_data() == 1
    assert card.pin_remaining(PinKind.SURFACE_CODE_B) == 9
    assert session.status(PinKind.SURFACE_CODE_B).remaining == 9  # read, not spent


def test_offsets_counted_from_the_value_are_read_too(card_templates, persona: Persona) -> None:  # type: ignore[no-untyped-def]
    """A card face whose DF21 counts from the FF20 value (not the EF) still parses to the
    same fields; a table that points elsewhere is an error."""
    session = SurfaceSession(in_process(card_templates[persona.id].copy()))
    session.verify_code("A", persona.my_number.reveal())
    face = session.read_card_face()
    fields = [face.fields[tag] for tag in sorted(face.fields)]
    offsets, position = bytearray(), 3 + 18
    for item in fields:
        offsets += position.to_bytes(2, "big")
        position += len(item)
    value_relative = encode_tlv(0xFF20, encode_tlv(0xDF21, bytes(offsets)) + b"".join(fields))
    assert parse_card_face(value_relative).fields == face.fields
    broken = bytearray(value_relative)
    header = 4  # FF20 82 xx xx
    broken[header + 3 : header + 5] = (position - 3).to_bytes(2, "big")  # DF22 -> nowhere
    with pytest.raises(CardDataError):
        parse_card_face(bytes(broken))


# --- card-info with 照合番号 ---------------------------------------------------------------


def test_card_info_with_code_a_reads_the_my_number_only(card_templates, persona: Persona) -> None:  # type: ignore[no-untyped-def]
    session = CardInfoSession(in_process(card_templates[persona.id].copy()))
    session.verify_code("A", persona.my_number.reveal())
    assert session.read_my_number() == persona.my_number
    with pytest.raises(SecurityStatusNotSatisfiedError):
        session.read_basic_four()


def test_card_info_with_code_b_reads_the_basic_four_and_verifies_integrity(
    card_templates, persona: Persona, trusted
) -> None:  # type: ignore[no-untyped-def]
    session = CardInfoSession(in_process(card_templates[persona.id].copy()))
    session.verify_code("B", persona.code_b)
    facts = session.read_basic_four()
    assert (facts.name, facts.birth_date) == (persona.name, persona.birth_date)
    with pytest.raises(SecurityStatusNotSatisfiedError):
        session.read_my_number()
    # With both codes verified the integrity record's DF33 checks against EF 0004's key.
    session.verify_code("A", persona.my_number.reveal())
    record = session.verify_integrity_signature(trusted)
    assert len(record.signed) == 70  # DF31 || DF32 as written
    certificate = session.read_cv_certificate()
    assert certificate.issuer == "6000033/001"


def test_card_info_offsets_slice_each_field_from_byte_zero(
    card_templates, persona: Persona
) -> None:  # type: ignore[no-untyped-def]
    """The first offset is 0x000E (header 3 + DF21 11 bytes), and slicing the raw EF at
    each offset gives that field's tag."""
    session = CardInfoSession(in_process(card_templates[persona.id].copy()))
    session.verify_pin(persona.pins.cardinfo)
    session.read_basic_four()
    raw = session._raw_basic_four
    assert raw is not None and raw[3:5] == b"\xdf\x21"
    offsets = [int.from_bytes(raw[6 + 2 * i : 8 + 2 * i], "big") for i in range(4)]
    assert offsets[0] == 0x0E
    assert [raw[o : o + 2].hex().upper() for o in offsets] == ["DF22", "DF23", "DF24", "DF25"]
    assert parse_basic_four(raw).name == persona.name


def test_the_card_info_ap_key_signs_without_a_credential(card_templates, persona: Persona) -> None:  # type: ignore[no-untyped-def]
    card = card_templates[persona.id].copy()
    channel = in_process(card)
    session = CardInfoSession(channel)
    from card.apdu import CommandApdu

    digest = hashlib.sha256(b"challenge").digest()
    info = bytes.fromhex("3031300d060960864801650304020105000420") + digest
    response = channel.transmit(CommandApdu(0x80, 0x2A, 0x00, 0x00, info, 256))
    assert response.sw == 0x9000
    card.public_key(CardKey.CARD_INFO_AP).verify(
        response.data, b"challenge", padding.PKCS1v15(), hashes.SHA256()
    )
    del session


# --- common card AP -------------------------------------------------------------------


def test_common_card_record_and_internal_authenticate(
    channel: CardChannel, software_card: SoftwareCard, persona: Persona
) -> None:  # type: ignore[no-untyped-def]
    session = CommonSession(channel)
    record = session.read_card_record()
    assert record.serial == persona.card_serial and len(record.serial) == 15
    assert record.municipality == persona.municipality_code
    assert record.expiry == persona.card_expiry
    assert len(session.read_key_reference()) == 16
    challenge = b"\x01\x02\x03\x04" * 8
    signature = session.internal_authenticate(challenge)
    software_card.public_key(CardKey.COMMON_AUTH).verify(
        signature, challenge, padding.PKCS1v15(), hashes.SHA256()
    )
    assert session.pin_status().remaining == 3


def test_cv_certificate_layout(card_templates, persona: Persona) -> None:  # type: ignore[no-untyped-def]
    session = SurfaceSession(in_process(card_templates[persona.id].copy()))
    raw = session.read_object(0x0004, max_size=4096)
    assert len(raw) == 568 and raw[:5] == bytes.fromhex("7F21820233")
    assert raw[5:10] == bytes.fromhex("5F4E820129")
    certificate = parse_cv_certificate(raw)
    assert certificate.issuer_id == b"6000023\x08\x05001\x00\x00\x00\x00"
    assert parse_cv_certificate(raw[5:]) == certificate  # GET DATA form, no 7F21


def test_persona_era_and_code_b() -> None:
    persona = get_persona("yamada-taro")
    assert persona.era_birth_date == "600412"  # 1985-04-12 is Shōwa 60
    assert persona.code_b == "600412" + "2035" + "2285"
    from jpki.era import era_yymmdd

    assert era_yymmdd(dt.date(1980, 2, 17)) == "550217"  # the notes' example
    assert era_yymmdd(dt.date(1989, 1, 7)) == "640107"  # last day of Shōwa
    assert era_yymmdd(dt.date(1989, 1, 8)) == "010108"  # Heisei 1
    assert era_yymmdd(dt.date(2019, 5, 1)) == "010501"  # Reiwa 1
