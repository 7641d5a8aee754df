"""Hostile and broken cards: truncated data, lying DER lengths, garbage TLV, unexpected
status words, empty answers. Every failure is a typed CardError, never IndexError or a
hang. Plus the same reads through a T=0 card (61xx / 6Cxx)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from card.errors import ApduError, CardError, MalformedResponseError
from card.protocol import CardChannel
from jpki.cardinfo_ap import CardInfoSession, parse_basic_four, parse_integrity, parse_my_number
from jpki.constants import CertKind, PinKind
from jpki.errors import CardDataError
from jpki.jpki_ap import JpkiSession
from simulators.card import SoftwareCard, SoftwareCardConnection
from simulators.personas import Persona

Tamper = Callable[[bytes, bytes, int], tuple[bytes, int]]


class TamperingConnection:
    """A real software card whose answers pass through `tamper(command, data, sw)`."""

    def __init__(self, card: SoftwareCard, tamper: Tamper) -> None:
        self.inner = SoftwareCardConnection(card)
        self.extended_length = True
        self.tamper = tamper

    def transmit(self, apdu: bytes) -> tuple[bytes, int]:
        data, sw = self.inner.transmit(apdu)
        return self.tamper(apdu, data, sw)


def is_read(apdu: bytes) -> bool:
    return apdu[1] == 0xB0


def session_with(card: SoftwareCard, tamper: Tamper) -> JpkiSession:
    return JpkiSession(CardChannel(TamperingConnection(card, tamper)))


def test_short_answers_are_assembled(software_card: SoftwareCard) -> None:
    """A card may return fewer bytes than asked: the session keeps reading."""
    session = session_with(software_card, lambda a, d, s: (d[:100], s) if is_read(a) else (d, s))
    assert session.read_certificate(CertKind.AUTH) == software_card.auth_certificate


def test_truncated_certificate(software_card: SoftwareCard) -> None:
    def truncate(apdu: bytes, data: bytes, sw: int) -> tuple[bytes, int]:
        if not is_read(apdu):
            return data, sw
        return (data[:100], sw) if apdu[2:4] == b"\x00\x00" else (b"", 0x9000)

    with pytest.raises(MalformedResponseError, match="ended after 100"):
        session_with(software_card, truncate).read_certificate(CertKind.AUTH)


def test_der_length_lying_beyond_the_file(software_card: SoftwareCard) -> None:
    def lie(apdu: bytes, data: bytes, sw: int) -> tuple[bytes, int]:
        if is_read(apdu) and apdu[2:4] == b"\x00\x00":
            return b"\x30\x82\x1f\x00" + data[4:], sw  # claims 7936 bytes
        return data, sw

    with pytest.raises(MalformedResponseError):
        session_with(software_card, lie).read_certificate(CertKind.AUTH)


def test_der_length_beyond_any_certificate(software_card: SoftwareCard) -> None:
    def huge(apdu: bytes, data: bytes, sw: int) -> tuple[bytes, int]:
        return (b"\x30\x83\x7f\xff\xff" + data[5:], sw) if is_read(apdu) else (data, sw)

    with pytest.raises(MalformedResponseError, match="limit"):
        session_with(software_card, huge).read_certificate(CertKind.AUTH)


@pytest.mark.parametrize("first", [b"", b"\x30", b"\x30\x84", b"\x04\x03abc", b"\xff\xff"])
def test_garbage_headers(software_card: SoftwareCard, first: bytes) -> None:
    session = session_with(software_card, lambda a, d, s: (first, s) if is_read(a) else (d, s))
    with pytest.raises(MalformedResponseError):
        session.read_certificate(CertKind.AUTH)


def test_too_many_bytes_for_le(software_card: SoftwareCard) -> None:
    def flood(apdu: bytes, data: bytes, sw: int) -> tuple[bytes, int]:
        return (bytes(40), sw) if is_read(apdu) and apdu[-1] == 32 else (data, sw)

    with pytest.raises(MalformedResponseError):
        session_with(software_card, flood).token_info()


def test_unexpected_status_word(software_card: SoftwareCard) -> None:
    session = session_with(software_card, lambda a, d, s: (b"", 0x6F00) if is_read(a) else (d, s))
    with pytest.raises(ApduError) as caught:
        session.read_certificate(CertKind.AUTH)
    assert caught.value.sw == 0x6F00 and "6F00" in str(caught.value)


def test_pin_status_with_odd_answer(software_card: SoftwareCard) -> None:
    def odd(apdu: bytes, data: bytes, sw: int) -> tuple[bytes, int]:
        return (b"", 0x6A80) if apdu[1] == 0x20 else (data, sw)

    with pytest.raises(ApduError):
        session_with(software_card, odd).pin_status(PinKind.AUTH)


def test_short_signature(software_card: SoftwareCard, persona: Persona) -> None:
    def short(apdu: bytes, data: bytes, sw: int) -> tuple[bytes, int]:
        return (data[:200], sw) if apdu[1] == 0x2A else (data, sw)

    session = session_with(software_card, short)
    session.verify_pin(PinKind.AUTH, persona.pins.auth)
    with pytest.raises(MalformedResponseError, match="signature of 200 bytes"):
        from jpki.constants import KeyKind

        session.sign(KeyKind.AUTH, bytes(32))


def test_card_info_integrity_mismatch(software_card: SoftwareCard, persona: Persona) -> None:
    def alter_name(apdu: bytes, data: bytes, sw: int) -> tuple[bytes, int]:
        name = persona.name.encode()
        return (data.replace(name, name[:-3] + "朗".encode()), sw) if is_read(apdu) else (data, sw)

    session = CardInfoSession(CardChannel(TamperingConnection(software_card, alter_name)))
    session.verify_pin(persona.pins.cardinfo)
    session.read_my_number()
    session.read_basic_four()
    with pytest.raises(CardDataError, match="basic 4"):
        session.check_integrity()


@pytest.mark.parametrize(
    "raw",
    [
        "FF100C313233343536373839303139FFFF",  # bad check digit
        "FF100B3132333435363738393031FFFF",
        "FF11",
        "",
        "FF100C31323334353637383930",
    ],
)
def test_my_number_parser_rejects(raw: str) -> None:
    with pytest.raises(CardDataError):
        parse_my_number(bytes.fromhex(raw))


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=400))
def test_card_info_parsers_only_raise_typed_errors(raw: bytes) -> None:
    for parser in (parse_my_number, parse_basic_four, parse_integrity):
        with contextlib.suppress(CardError):
            parser(raw)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(data=st.binary(max_size=300), sw=st.integers(0, 0xFFFF))
def test_random_answers_give_typed_errors(
    software_card: SoftwareCard, data: bytes, sw: int
) -> None:
    """Whatever one READ BINARY answers, reading a certificate ends in a certificate or a
    CardError."""
    answers = iter([(data, sw)])

    def once(apdu: bytes, real: bytes, real_sw: int) -> tuple[bytes, int]:
        return next(answers, (real, real_sw)) if is_read(apdu) else (real, real_sw)

    try:
        cert = session_with(software_card, once).read_certificate(CertKind.AUTH)
    except CardError:
        return
    assert cert[0] == 0x30


def test_t0_card_reads_the_same(card_templates: dict[str, SoftwareCard], persona: Persona) -> None:
    t1 = card_templates[persona.id]
    t0 = t1.copy(t0=True)
    channel = CardChannel(SoftwareCardConnection(t0))
    assert not channel.extended_length
    session = JpkiSession(channel)
    assert session.read_certificate(CertKind.AUTH) == t1.auth_certificate
    assert session.token_info() == "JPKIAPICCTOKEN2"
    info = CardInfoSession(channel)
    info.verify_pin(persona.pins.cardinfo)
    assert info.read_my_number() == persona.my_number
    info.check_integrity()
