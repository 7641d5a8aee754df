"""The card-surface, card-info and common applets of the software card at the byte
level: the access matrix of real-card-notes.md §2-§3, record sizes, every signature
checked with `cryptography` against the test card issuer, and deterministic images."""

from __future__ import annotations

import hashlib

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from card.tlv import read_tlv
from simulators.card import SoftwareCard, imaging
from simulators.card.issuer import CardIssuerKeys
from simulators.personas import get_persona
from tests.simulators.software_card_apdu import read_whole_ef, select_ef, sw, tx, verify

YAMADA = get_persona("yamada-taro")
SURFACE = "00A4040C0AD3921000310001010402"
TEXT = "00A4040C0AD3921000310001010408"
CREDENTIALS = {
    "birth": (0x0011, YAMADA.era_birth_date),
    "B": (0x0012, YAMADA.code_b),
    "A": (0x0013, YAMADA.my_number.reveal()),
}
# EF -> the credentials that open it (None: free), as measured on real cards (§3).
SURFACE_ACCESS = {
    0x0001: {"birth"},
    0x0002: {"A", "B"},
    0x0003: None,
    0x0004: None,
    0x0005: {"A"},
    0x0006: {"A", "B"},
}


def opened(card: SoftwareCard, select_ap: str, key: tuple[int, str] | None) -> dict[int, int]:
    assert sw(card, select_ap) == 0x9000
    if key is not None:
        assert sw(card, select_ef(key[0])) == 0x9000
        assert sw(card, verify(key[1])) == 0x9000
    status = {}
    for fid in range(0x0001, 0x0009):
        if sw(card, select_ef(fid)) == 0x9000:
            status[fid] = tx(card, "00B0000001")[1]
    return status


@pytest.mark.parametrize("credential", [None, "birth", "A", "B"])
def test_surface_access_matrix(card: SoftwareCard, credential: str | None) -> None:
    status = opened(card, SURFACE, CREDENTIALS[credential] if credential else None)
    for fid, keys in SURFACE_ACCESS.items():
        readable = keys is None or credential in keys
        assert status[fid] == (0x9000 if readable else 0x6982), f"EF {fid:04X} with {credential}"


@pytest.mark.parametrize(
    ("credential", "readable"),
    [
        (None, {0x0004, 0x0005, 0x0008}),
        ((0x0011, YAMADA.pins.cardinfo), {1, 2, 3, 4, 5, 6, 7, 8}),
        ((0x0014, YAMADA.my_number.reveal()), {1, 3, 4, 5, 6, 7, 8}),
        ((0x0015, YAMADA.code_b), {2, 3, 4, 5, 6, 7, 8}),
    ],
)
def test_card_info_access_matrix(
    card: SoftwareCard, credential: tuple[int, str] | None, readable: set[int]
) -> None:
    status = opened(card, TEXT, credential)
    assert {fid for fid, word in status.items() if word == 0x9000} == readable
    assert {word for fid, word in status.items() if fid not in readable} <= {0x6982}


def read(card: SoftwareCard, fid: int) -> bytes:
    assert sw(card, select_ef(fid)) == 0x9000
    return read_whole_ef(card)


def test_surface_records_and_signatures(card: SoftwareCard, minimal_issuer) -> None:  # type: ignore[no-untyped-def]
    from simulators.card.issuer import card_issuer_for

    issuer: CardIssuerKeys = card_issuer_for(minimal_issuer)
    signer = issuer.surface.signer_public_key
    assert sw(card, SURFACE) == 0x9000
    certificate = read(card, 0x0004)
    assert len(certificate) == 568
    body = certificate[5 : 5 + 302]
    issuer.surface.root_public_key.verify(
        certificate[-256:], body, padding.PKCS1v15(), hashes.SHA256()
    )
    for key in (0x0011, 0x0013):
        assert sw(card, select_ef(key)) == 0x9000
        assert sw(card, verify(dict(CREDENTIALS.values())[key])) == 0x9000
    age = read(card, 0x0001)
    # FF10 82021E is 5 + 0x21E = 547 bytes; the notes say 546 next to that very header
    # (their own field sizes, 11 + 270 + 261 = 0x21E, give 547): the header wins.
    assert len(age) == 547 and age[:5] == bytes.fromhex("FF1082021E")
    signer.verify(age[-256:], age[5 : 5 + 11 + 270], padding.PKCS1v15(), hashes.SHA256())
    image = read_tlv(read(card, 0x0005))
    signed = image.value[: -(5 + 256)]
    signer.verify(image.value[-256:], signed, padding.PKCS1v15(), hashes.SHA256())
    face = read(card, 0x0002)
    record = read_tlv(face)
    assert set(face[record.total_length :]) <= {0xFF}
    offsets = read_tlv(face, record.header_length).value
    at = [int.from_bytes(offsets[i : i + 2], "big") for i in range(0, 18, 2)]
    objects = [face[o : o + read_tlv(face, o).total_length] for o in at]
    assert [o[:2].hex().upper() for o in objects] == [f"DF{t:02X}" for t in range(0x22, 0x2B)]
    digest_info = signer.recover_data_from_signature(
        read_tlv(objects[6]).value, padding.PKCS1v15(), None
    )
    assert len(digest_info) == 115 and digest_info[:2] == b"\x30\x71"
    assert digest_info[17:19] == b"\x04\x60"
    assert digest_info[19:] == (
        hashlib.sha256(b"".join(objects[0:3])).digest()
        + hashlib.sha256(b"".join(objects[3:5])).digest()
        + hashlib.sha256(objects[5]).digest()
    )


def test_images_are_deterministic_and_differ_per_persona() -> None:
    assert imaging.face_photo_jp2.__wrapped__("yamada-taro") == imaging.face_photo_jp2.__wrapped__(
        "yamada-taro"
    )
    assert imaging.face_photo_jp2("yamada-taro") != imaging.face_photo_jp2("sato-hanako")
    assert imaging.name_png.__wrapped__(YAMADA.name) == imaging.name_png(YAMADA.name)
    assert imaging.security_code_png("2285") != imaging.security_code_png("2286")
    with pytest.raises(ValueError):
        imaging.security_code_png("22a5")


def test_the_card_issuer_is_kept_and_its_trust_files_follow_its_keys(tmp_path) -> None:  # type: ignore[no-untyped-def]
    first = CardIssuerKeys.open_or_create(tmp_path)
    again = CardIssuerKeys.open_or_create(tmp_path)
    assert first.surface.certificate[:-256] == again.surface.certificate[:-256]
    assert first.trusted_roots().keys() == again.trusted_roots().keys()
    assert {p.name for p in (tmp_path / "trust").iterdir()} == {"6000023.pem", "6000033.pem"}
    assert oct((tmp_path / "surface-root.key.pem").stat().st_mode & 0o777) == "0o600"
    (tmp_path / "surface-root.key.pem").unlink()  # a new root: the anchor must follow
    renewed = CardIssuerKeys.open_or_create(tmp_path)
    from jpki.cvc import key_id, load_trusted_cv_keys

    held = load_trusted_cv_keys(tmp_path / "trust")[key_id("6000023")]
    assert held.public_numbers() == renewed.surface.root_public_key.public_numbers()
    assert "PRIVATE" not in repr(renewed) + repr(renewed.surface)


def test_codes_and_card_face_never_reach_the_apdu_trace(
    card: SoftwareCard, caplog: pytest.LogCaptureFixture
) -> None:
    import logging

    from card.trace import TRACE

    caplog.set_level(1)
    logging.getLogger("simulators.card.apdu").setLevel(TRACE)
    try:
        assert sw(card, SURFACE) == 0x9000
        assert sw(card, select_ef(0x0012)) == 0x9000
        assert sw(card, verify(YAMADA.code_b)) == 0x9000
        face = read(card, 0x0002)
        assert sw(card, TEXT) == 0x9000
        assert sw(card, select_ef(0x0014)) == 0x9000
        assert sw(card, verify(YAMADA.my_number.reveal())) == 0x9000
    finally:
        logging.getLogger("simulators.card.apdu").setLevel(logging.NOTSET)
    assert "redacted" in caplog.text  # the trace really ran
    for secret in (YAMADA.code_b, YAMADA.my_number.reveal(), "19850412"):
        assert secret not in caplog.text
        assert secret.encode().hex(" ").upper() not in caplog.text
    assert face[-300:].hex(" ").upper() not in caplog.text
