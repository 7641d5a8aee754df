"""terminal.counter's small parts: PINs and facts never print themselves, the identity
verdict across sources, and the refusals that come before any card command."""

from __future__ import annotations

import datetime as dt

import pytest

from jpki.constants import PinKind
from jpki.errors import PinFormatError
from jpki.mynumber import MyNumber
from terminal.counter import CardFacts, CardPins, IdentityFactsRequired, IdentityVerdict
from terminal.counter.errors import IdentityMismatch
from terminal.counter.issuance import FaceToFaceRequired, require_face_to_face


def test_pins_and_facts_never_print_themselves() -> None:
    pins = CardPins("1234", "TARO2024", "5678")
    assert "1234" not in repr(pins) and "TARO2024" not in repr(pins)
    facts = CardFacts(
        "card_info", "山田　太郎", dt.date(1985, 4, 12), "1", "東京都", MyNumber("123456789018")
    )
    assert "山田" not in repr(facts) and "123456789018" not in repr(facts)
    assert facts.for_core()["birth_date"] == "19850412"
    assert facts.for_core()["my_number"] == "123456789018"


def test_pin_formats_and_a_source_of_facts_come_first() -> None:
    with pytest.raises(IdentityFactsRequired):
        CardPins("1234").check_formats()
    with pytest.raises(PinFormatError) as bad:
        CardPins("1234", sign="ab").check_formats()
    assert getattr(bad.value, "pin", None) == "sign"  # the error names its PIN
    with pytest.raises(PinFormatError) as bad_info:
        CardPins("1234", cardinfo="12345").check_formats()
    assert getattr(bad_info.value, "pin", None) == PinKind.CARD_INFO.value
    CardPins("1234", cardinfo="1234").check_formats()  # a card without sign certificate
    for confirmed in (False, None, "yes", 1):
        with pytest.raises(FaceToFaceRequired):
            require_face_to_face(confirmed)  # type: ignore[arg-type]
    require_face_to_face(True)


def test_verdict_across_sources() -> None:
    sign = {"name": "match", "birth_date": "match", "sex": "match", "address": "mismatch"}
    info = {
        "name": "match",
        "birth_date": "match",
        "sex": "match",
        "address": "match",
        "my_number": "match",
    }
    verdict = IdentityVerdict(
        {"sign_certificate": {**sign, "my_number": "not_given"}, "card_info": info}
    )
    assert not verdict.matches and verdict.mismatched == ["address"]
    assert verdict.combined() == {**info, "address": "mismatch"}
    only_sign = IdentityVerdict(
        {"sign_certificate": {**sign, "address": "match", "my_number": "not_given"}}
    )
    assert only_sign.matches and only_sign.combined()["my_number"] == "not_given"
    assert not IdentityVerdict({}).matches  # no source: never a match
    error = IdentityMismatch(["name", "address", "name"])
    assert error.fields() == {"fields": ["address", "name"]} and error.code == "IDENTITY_MISMATCH"
