"""Persistence, robustness (the card never raises) and secrecy (no key or PIN in
repr or logs) of the software card."""

from __future__ import annotations

import json
import logging
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from card.trace import TRACE
from jpki.constants import KeyKind, PinKind
from simulators.card import CardStateError, SoftwareCard
from simulators.card.filesystem import CardKey
from simulators.card.issuer import card_issuer_for
from tests.simulators.software_card_apdu import (
    PIN_STATUS,
    SELECT_CARD_INFO,
    SELECT_JPKI,
    change_pin,
    compute_signature,
    read_binary,
    read_whole_ef,
    select_ef,
    sw,
    tx,
    verify,
)


def lock_auth_pin(card: SoftwareCard) -> None:
    assert sw(card, SELECT_JPKI) == 0x9000
    assert sw(card, select_ef(0x0018)) == 0x9000
    for _ in range(3):
        sw(card, verify("0000"))
    assert card.pin_remaining(PinKind.AUTH) == 0


# --- save / load --------------------------------------------------------------------


def test_save_load_roundtrip_keeps_a_locked_pin(card: SoftwareCard, tmp_path: Path) -> None:
    lock_auth_pin(card)
    assert sw(card, select_ef(0x001B)) == 0x9000
    assert sw(card, verify("WRONG1")) == 0x63C4
    path = tmp_path / "card.json"
    card.save(path)
    loaded = SoftwareCard.load(path)
    assert loaded.persona_id == "yamada-taro"
    assert loaded.pin_remaining(PinKind.AUTH) == 0
    assert loaded.pin_remaining(PinKind.SIGN) == 4
    assert loaded.pin_remaining(PinKind.CARD_INFO) == 3
    assert sw(loaded, SELECT_JPKI) == 0x9000
    assert sw(loaded, select_ef(0x0018)) == 0x9000
    assert sw(loaded, verify("1234")) == 0x6984
    assert sw(loaded, PIN_STATUS) == 0x63C0
    assert loaded.auth_certificate == card.auth_certificate
    assert loaded.sign_certificate == card.sign_certificate
    assert loaded.options == card.options and not loaded.reselect_clears_pins and not loaded.t0


def test_loaded_card_signs_with_the_same_key(card: SoftwareCard, tmp_path: Path) -> None:
    path = tmp_path / "card.json"
    card.save(path)
    loaded = SoftwareCard.load(path)
    signatures = []
    for each in (card, loaded):
        assert sw(each, SELECT_JPKI) == 0x9000
        assert sw(each, select_ef(0x001B)) == 0x9000
        assert sw(each, verify("TARO2024")) == 0x9000
        assert sw(each, select_ef(0x001A)) == 0x9000
        signatures.append(tx(each, compute_signature(b"\x30" * 51)))
    assert signatures[0] == signatures[1]
    assert signatures[0][1] == 0x9000


def test_changed_pin_and_options_survive_save(
    yamada_card_template: SoftwareCard, tmp_path: Path
) -> None:
    card = yamada_card_template.copy(t0=True, reselect_clears_pins=False)
    assert sw(card, SELECT_CARD_INFO) == 0x9000
    assert sw(card, select_ef(0x0011)) == 0x9000
    assert sw(card, verify("1234")) == 0x9000
    assert sw(card, change_pin("8642")) == 0x9000
    path = tmp_path / "card.json"
    card.save(path)
    loaded = SoftwareCard.load(path)
    assert loaded.t0 and not loaded.reselect_clears_pins
    assert sw(loaded, SELECT_CARD_INFO) == 0x9000
    assert sw(loaded, select_ef(0x0011)) == 0x9000
    assert sw(loaded, verify("1234")) == 0x63C2
    assert sw(loaded, verify("8642")) == 0x9000


def test_state_file_is_private_atomic_and_pins_are_hashed(
    card: SoftwareCard, tmp_path: Path
) -> None:
    path = tmp_path / "card.json"
    path.write_text("old contents")
    path.chmod(0o644)
    card.save(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600  # replaced, not rewritten in place
    assert [p.name for p in tmp_path.iterdir()] == ["card.json"]  # no temporary left
    raw = path.read_bytes()
    document = json.loads(raw)
    assert "private keys" in document["warning"]
    assert b"TARO2024" not in raw and b"TARO2024".hex().encode() not in raw
    assert set(document["pins"]) == {kind.value for kind in PinKind}
    assert all(len(bytes.fromhex(p["scrypt"])) == 32 for p in document["pins"].values())
    # It is the card's memory: the keys must be there, or a loaded card could not sign.
    assert b"BEGIN PRIVATE KEY" in raw


@pytest.mark.parametrize(
    "contents",
    [
        b"",
        b"not json",
        b"[]",
        b'{"format": "something-else"}',
        b'{"format": "mynaterm-software-card", "version": 99}',
        b'{"format": "mynaterm-software-card", "version": 1}',
    ],
)
def test_bad_state_files_raise_card_state_error(tmp_path: Path, contents: bytes) -> None:
    path = tmp_path / "card.json"
    path.write_bytes(contents)
    with pytest.raises(CardStateError):
        SoftwareCard.load(path)


def test_tampered_pin_counter_is_rejected(card: SoftwareCard, tmp_path: Path) -> None:
    document = json.loads(card.to_bytes())
    document["pins"]["auth"]["tries_left"] = 9  # above its maximum
    path = tmp_path / "card.json"
    path.write_text(json.dumps(document))
    with pytest.raises(CardStateError):
        SoftwareCard.load(path)


def test_missing_state_file_raises_card_state_error(tmp_path: Path) -> None:
    with pytest.raises(CardStateError, match="cannot read"):
        SoftwareCard.load(tmp_path / "absent.json")


# --- the card never raises ----------------------------------------------------------


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(apdu=st.binary(max_size=300))
def test_random_bytes_always_get_a_status_word(card: SoftwareCard, apdu: bytes) -> None:
    response = card.process(apdu)
    assert len(response) >= 2


@pytest.fixture
def opened_card(yamada_card_template: SoftwareCard) -> SoftwareCard:
    """Keeps the auth PIN across re-selection (the default, stated explicitly), so
    fuzzed commands reach the signing code rather than stopping at 6982."""
    return yamada_card_template.copy(reselect_clears_pins=False)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    ins=st.sampled_from([0x20, 0x24, 0x2A, 0x70, 0x84, 0x88, 0xA4, 0xAE, 0xB0, 0xC0, 0xCA, 0xFC]),
    cla=st.sampled_from([0x00, 0x80, 0x08, 0x01]),
    p1=st.sampled_from([0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x5F, 0x80, 0x86, 0x8A, 0xFF]),
    p2=st.sampled_from([0x00, 0x0C, 0x51, 0x80, 0x97, 0x98, 0x9A, 0xF8, 0xFF]),
    body=st.binary(max_size=270),
)
def test_random_commands_on_an_opened_card(
    opened_card: SoftwareCard, ins: int, cla: int, p1: int, p2: int, body: bytes
) -> None:
    card = opened_card
    assert sw(card, SELECT_JPKI) == 0x9000
    assert sw(card, select_ef(0x0018)) == 0x9000
    if sw(card, PIN_STATUS) != 0x9000:
        assert sw(card, verify("1234")) == 0x9000
    assert sw(card, select_ef(0x0017)) == 0x9000
    response = card.process(bytes((cla, ins, p1, p2)) + body)
    assert len(response) >= 2
    assert response[-2:] != b"\x6f\x00"  # no internal error on well-typed garbage
    if response[-2:] == b"\x90\x00" and (cla, ins) == (0x80, 0x2A):
        assert len(response) == 258  # a signature and nothing else


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(apdus=st.lists(st.binary(min_size=4, max_size=40), max_size=6))
def test_random_sequences_on_a_t0_card(t0_card: SoftwareCard, apdus: list[bytes]) -> None:
    for apdu in [bytes.fromhex(SELECT_JPKI), *apdus]:
        response = t0_card.process(apdu)
        assert len(response) >= 2
        assert response[-2:] != b"\x6f\x00"


def test_internal_fault_becomes_6f00(card: SoftwareCard, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_: object) -> bytes:
        raise RuntimeError("simulated fault")

    monkeypatch.setitem(card._os.handlers, (0x00, 0xB0), broken)
    assert sw(card, SELECT_JPKI) == 0x9000
    assert sw(card, select_ef(0x000A)) == 0x9000
    assert card.process(bytes.fromhex(read_binary(0, 0))) == b"\x6f\x00"
    assert sw(card, SELECT_JPKI) == 0x9000  # and it keeps working


# --- secrets stay inside ------------------------------------------------------------


def _secret_strings(card: SoftwareCard) -> list[str]:
    out = []
    for kind in (*KeyKind, *CardKey):
        key = card._state.security.keys.private_key_for_state(kind)
        numbers = key.private_numbers()
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
        out += [str(numbers.d), f"{numbers.d:x}", f"{numbers.p:x}", pem.splitlines()[1]]
    issuer = card_issuer_for(None)
    for chain in (issuer.text, issuer.surface):
        for key in (chain.root_key, chain.signer_key):
            numbers = key.private_numbers()
            out += [str(numbers.d), f"{numbers.d:x}"]
    return out


def test_no_private_key_or_pin_in_repr_or_logs(
    card: SoftwareCard, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    caplog.set_level(1)  # everything, TRACE included
    logging.getLogger("simulators.card.apdu").setLevel(TRACE)
    try:
        for apdu in (
            SELECT_JPKI,
            select_ef(0x001B),
            verify("TARO2024"),
            change_pin("TARO2025"),
            select_ef(0x001A),
            compute_signature(b"\x01" * 51),
            select_ef(0x0001),
            read_binary(0, 0),
            SELECT_CARD_INFO,
            select_ef(0x0011),
            verify("1234"),
            select_ef(0x0001),
            read_binary(0, 0),
        ):
            card.process(bytes.fromhex(apdu))
        card.save(tmp_path / "card.json")
        SoftwareCard.load(tmp_path / "card.json")
    finally:
        logging.getLogger("simulators.card.apdu").setLevel(logging.NOTSET)
    assert "> 00 A4 04 0C" in caplog.text  # the trace really ran
    texts = [
        caplog.text,
        repr(card),
        repr(card._state),
        repr(card._state.security),
        repr(card._state.security.keys),
        repr(card._os),
        repr(card._state.filesystem),
        repr(card_issuer_for(None)),
        repr(card_issuer_for(None).surface),
    ]
    secrets = [
        *_secret_strings(card),
        "TARO2024",
        "TARO2025",
        b"TARO2024".hex(" ").upper(),
        "123456789018",
        "31 32 33 34",
        "5441524F",
    ]
    for text in texts:
        for secret in secrets:
            assert secret not in text


def test_state_file_contents_never_reach_an_error_message(tmp_path: Path) -> None:
    path = tmp_path / "card.json"
    path.write_text(
        '{"format": "mynaterm-software-card", "version": 1, "persona_id": '
        '"SECRET-TEXT", "applets": [{"aid": "SECRET-AID"}]}'
    )
    with pytest.raises(CardStateError) as excinfo:
        SoftwareCard.load(path)
    assert "SECRET" not in str(excinfo.value)


def test_whole_read_after_load_matches(card: SoftwareCard, tmp_path: Path) -> None:
    card.save(tmp_path / "c.json")
    loaded = SoftwareCard.load(tmp_path / "c.json")
    for each in (card, loaded):
        assert sw(each, SELECT_JPKI) == 0x9000
        assert sw(each, select_ef(0x000A)) == 0x9000
    assert read_whole_ef(card) == read_whole_ef(loaded)
