"""The software card's choices where real-card-notes.md leaves room, and the options
that switch on behaviours other cards may show. (What the notes fix is checked by the
conformance table, tests/conformance.)"""

from __future__ import annotations

import json

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from card.tlv import iter_tlvs
from simulators.card import SoftwareCard
from simulators.card.options import CardOptions
from tests.simulators.software_card_apdu import (
    PIN_STATUS,
    SELECT_CARD_SURFACE,
    SELECT_JPKI,
    select_ef,
    sw,
    tx,
    verify,
)

AUTH_PIN = "1234"
ALL_ON = CardOptions(
    reselect_clears_pins=True,
    warm_reset_clears_pins=True,
    blocked_status_answers_6984=True,
    first_command_after_power_fails=True,
    status_query_ignores_verified=True,
    no_lower_cv_certificate=True,
    atr_object_only_in_applets=True,
)
SIGN_AUTH = "802A0097" + "33" + "3031300d060960864801650304020105000420" + "00" * 32 + "00"


def open_auth(card: SoftwareCard) -> None:
    assert sw(card, SELECT_JPKI) == 0x9000
    assert sw(card, select_ef(0x0018)) == 0x9000
    assert sw(card, verify(AUTH_PIN)) == 0x9000


def test_options_and_mf_objects_survive_the_state_file(card: SoftwareCard) -> None:
    loaded = SoftwareCard.from_bytes(card.copy(options=ALL_ON).to_bytes())
    assert loaded.options == ALL_ON
    assert sw(loaded, "00CA00F000") == 0x6F00  # first command after power-up (option)
    assert tx(loaded, "00CA00F000") == tx(card, "00CA00F000")


def test_state_files_without_the_new_keys_load_with_defaults(card: SoftwareCard) -> None:
    document = json.loads(card.to_bytes())
    del document["options"]["warm_reset_clears_pins"]
    del document["mf_objects"]
    for applet in document["applets"]:
        for entry in applet["files"]:
            if entry.get("access", {}).get("any_of"):
                entry["read_pin"] = entry.pop("access")["any_of"][0]
    loaded = SoftwareCard.from_bytes(json.dumps(document).encode())
    assert loaded.options == CardOptions()
    assert sw(loaded, "00CA00F000") == 0x6A88  # no stored objects: absent
    assert sw(loaded, SELECT_JPKI) == 0x9000
    assert sw(loaded, select_ef(0x0001)) == 0x9000
    assert sw(loaded, "00B0000004") == 0x6982  # the legacy read_pin rule still holds


def test_first_command_fails_only_with_the_option(card: SoftwareCard) -> None:
    assert sw(card, SELECT_JPKI) == 0x9000
    failing = card.copy(options=CardOptions(first_command_after_power_fails=True))
    assert sw(failing, SELECT_JPKI) == 0x6F00
    assert sw(failing, SELECT_JPKI) == 0x9000
    failing.reset()  # a warm reset is no unpower
    assert sw(failing, SELECT_JPKI) == 0x9000
    failing.power_off()
    failing.power_on()
    assert sw(failing, SELECT_JPKI) == 0x6F00


def test_warm_reset_option_clears(card: SoftwareCard) -> None:
    clearing = card.copy(options=CardOptions(warm_reset_clears_pins=True))
    open_auth(clearing)
    clearing.reset()
    assert sw(clearing, SELECT_JPKI) == 0x9000
    assert sw(clearing, SIGN_AUTH) == 0x6982
    open_auth(card)
    card.reset()
    assert sw(card, SELECT_JPKI) == 0x9000
    assert sw(card, SIGN_AUTH) == 0x9000


def test_blocked_status_option_answers_6984(card: SoftwareCard) -> None:
    old_style = card.copy(options=CardOptions(blocked_status_answers_6984=True))
    for target in (card, old_style):
        assert sw(target, SELECT_JPKI) == 0x9000
        assert sw(target, select_ef(0x0018)) == 0x9000
        assert [sw(target, verify("0000")) for _ in range(3)] == [0x63C2, 0x63C1, 0x63C0]
        assert sw(target, verify(AUTH_PIN)) == 0x6984
    assert sw(card, PIN_STATUS) == 0x63C0
    assert sw(old_style, PIN_STATUS) == 0x6984


def test_t0_case_1_with_p3_00(card: SoftwareCard) -> None:
    t0 = card.copy(t0=True)
    assert sw(t0, SELECT_JPKI) == 0x9000
    assert sw(t0, select_ef(0x0018)) == 0x9000
    assert sw(t0, "0020008000") == 0x63C3  # ISO 7816-3 case 1: P3=00
    assert sw(t0, "00A4000000") == 0x9000  # SELECT MF, case 1, with an applet current
    assert tx(t0, "00B0860004") == (b"JPKI", 0x9000)  # READ BINARY keeps its Le
    # In T=1 the same bytes are a case-2 VERIFY, which carries no Le: 6700.
    assert sw(card, SELECT_JPKI) == 0x9000
    assert sw(card, select_ef(0x0018)) == 0x9000
    assert sw(card, "0020008000") == 0x6700


@pytest.mark.parametrize(
    ("apdu", "status"),
    [
        ("0070000001", 0x6881),  # MANAGE CHANNEL: no other channel to open
        ("40A4040C0AD392F000260100000001", 0x6881),  # further-interindustry channel 4
        ("0CB0000000", 0x69FC),  # SM, no session
        ("20B0000000", 0x6E00),  # RFU class
        ("00880099080102030405060708", 0x6A88),  # no key 0019 in JPKI
        ("0020009100", 0x6700),  # VERIFY with Le
        ("00200091", 0x6A88),  # short id 11: no PIN in JPKI
        ("00200040", 0x6A86),  # P2 without the specific-reference bit
    ],
)
def test_choices_where_the_notes_are_silent(card: SoftwareCard, apdu: str, status: int) -> None:
    assert sw(card, SELECT_JPKI) == 0x9000
    assert sw(card, apdu) == status


def test_get_data_at_the_mf_only_except_the_atr(card: SoftwareCard) -> None:
    assert sw(card, "00CA00F000") == 0x9000
    assert sw(card, "00CA00F002") == 0x6C05  # the exact length, for a short object
    assert sw(card, SELECT_JPKI) == 0x9000
    assert sw(card, "00CA00F000") == 0x6A88
    assert tx(card, "00CA5F5100") == (card.atr[1:], 0x9000)
    t0 = card.copy(t0=True)
    assert tx(t0, "00CA5F5103") == (t0.atr[1:], 0x9000)


def test_session_key_answers_per_applet(card: SoftwareCard) -> None:
    assert sw(card, SELECT_CARD_SURFACE) == 0x9000
    assert sw(card, "80AE0000") == 0x66F1


def _cv_parts(body: bytes) -> tuple[bytes, rsa.RSAPublicKey, bytes]:
    """Split GET DATA's CV certificate contents: the 5F4E object as encoded, the public
    key it certifies, the 5F37 signature."""
    first, second = list(iter_tlvs(body))
    assert (first.tag, second.tag) == (0x5F4E, 0x5F37)
    signed = body[: first.total_length]
    key_objects = {t.tag: t.value for t in iter_tlvs(first.value[32:])}
    numbers = rsa.RSAPublicNumbers(
        int.from_bytes(key_objects[0x90], "big"), int.from_bytes(key_objects[0x91], "big")
    )
    return signed, numbers.public_key(), second.value


def test_the_cv_certificates_chain(card: SoftwareCard) -> None:
    upper, status = tx(card, "00CA00F8000000")
    assert status == 0x9000
    lower, status = tx(card, "00CA7F21000000")
    assert status == 0x9000
    _, intermediate, _ = _cv_parts(upper)
    signed, certified, signature = _cv_parts(lower)
    intermediate.verify(signature, signed, padding.PKCS1v15(), hashes.SHA256())
    assert certified.public_numbers() == card.integrity_public_key.public_numbers()
    assert lower[:3] == bytes.fromhex("5F4E82")  # template contents, no 7F21 wrapper


def test_options_for_other_cards_objects_and_status(card: SoftwareCard) -> None:
    older = card.copy(options=CardOptions(no_lower_cv_certificate=True))
    assert sw(older, "00CA7F21000000") == 0x6A88
    assert sw(older, "00CA00F8000000") == 0x9000
    atr_in_applets = card.copy(options=CardOptions(atr_object_only_in_applets=True))
    assert sw(atr_in_applets, "00CA5F5100") == 0x6A88
    assert sw(atr_in_applets, SELECT_JPKI) == 0x9000
    assert tx(atr_in_applets, "00CA5F5100") == (card.atr[1:], 0x9000)
    counting = card.copy(options=CardOptions(status_query_ignores_verified=True))
    open_auth(counting)
    assert sw(counting, PIN_STATUS) == 0x63C3
    assert sw(counting, SIGN_AUTH) == 0x9000  # still verified
