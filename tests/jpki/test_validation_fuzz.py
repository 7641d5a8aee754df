"""Fuzzing certificates through the validator: only ValidationError subclasses, and an
altered certificate is never validated."""

from __future__ import annotations

import pytest
from hypothesis import given

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
