"""Fuzzing certificates through the validator: only ValidationError subclasses, and an
altered certificate is never validated."""

from __future__ import annotations

import contextlib
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jpki.validation import (
    CertificateValidator,
    RevocationPolicy,
    TrustStore,
    ValidationError,
)
from tests.jpki.conftest import NOW, MiniPki, build_pki, der
from tests.jpki.fuzzing import FUZZ_SETTINGS, garbage, mutated

PKI: MiniPki = build_pki("auth")
CERT = der(PKI.issue())
VALIDATOR = CertificateValidator(TrustStore(PKI.anchors), RevocationPolicy(mode="soft-fail"))
FUZZ = FUZZ_SETTINGS


def test_original_validates() -> None:
    assert VALIDATOR.validate(CERT, "auth", at=NOW).serial > 0


@FUZZ
@given(garbage())
def test_random_bytes(data: bytes) -> None:
    with pytest.raises(ValidationError):
        VALIDATOR.validate(data, "auth", at=NOW)


@FUZZ
@given(mutated(CERT))
def test_mutated_certificate_never_validates(data: bytes) -> None:
    with pytest.raises(ValidationError):
        VALIDATOR.validate(data, "auth", at=NOW)


@pytest.mark.parametrize("at", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"])
def test_an_instant_outside_utc_is_a_typed_refusal(at: str) -> None:
    """Issue 14 #5: converting these to UTC overflowed (OverflowError, a 500)."""
    with pytest.raises(ValidationError) as info:
        VALIDATOR.validate(CERT, "auth", at=datetime.fromisoformat(at))
    assert info.value.code == "INVALID_INSTANT"


@FUZZ
@given(st.datetimes(timezones=st.timezones() | st.just(timezone(timedelta(hours=14)))))
def test_any_instant_is_a_result_or_a_typed_refusal(at: datetime) -> None:
    with contextlib.suppress(ValidationError):
        VALIDATOR.validate(CERT, "auth", at=at)
