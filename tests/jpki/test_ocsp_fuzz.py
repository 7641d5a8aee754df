"""Fuzzing OCSP responses: only OcspError, and never "good" from altered bytes."""

from __future__ import annotations

import pytest
from hypothesis import given

from jpki.validation import OcspClient, OcspError, TrustStore
from tests.jpki.conftest import NOW, MiniPki, build_pki
from tests.jpki.fuzzing import FUZZ_SETTINGS, garbage, mutated

PKI: MiniPki = build_pki("auth")
ANCHOR = TrustStore(PKI.anchors).anchors[0]
CERT = PKI.issue()
NONCE = b"n" * 32
BY_CA = PKI.ocsp_response(CERT, nonce=NONCE)
BY_RESPONDER = PKI.ocsp_response(CERT, nonce=NONCE, responder=PKI.responder())
REVOKED = PKI.ocsp_response(CERT, nonce=NONCE, status="revoked")
CLIENT = OcspClient(cache=False)
FUZZ = FUZZ_SETTINGS


def test_originals_verify() -> None:
    assert CLIENT.verify(BY_CA, CERT, ANCHOR, nonce=NONCE, at=NOW).status == "good"
    assert CLIENT.verify(BY_RESPONDER, CERT, ANCHOR, nonce=NONCE, at=NOW).status == "good"
    assert CLIENT.verify(REVOKED, CERT, ANCHOR, nonce=NONCE, at=NOW).status == "revoked"


@FUZZ
@given(garbage())
def test_random_bytes(data: bytes) -> None:
    with pytest.raises(OcspError):
        CLIENT.verify(data, CERT, ANCHOR, nonce=NONCE, at=NOW)


@FUZZ
@given(mutated(BY_CA))
def test_mutated_ca_response_never_good(data: bytes) -> None:
    with pytest.raises(OcspError):
        CLIENT.verify(data, CERT, ANCHOR, nonce=NONCE, at=NOW)


@FUZZ
@given(mutated(BY_RESPONDER))
def test_mutated_delegated_response_never_good(data: bytes) -> None:
    with pytest.raises(OcspError):
        CLIENT.verify(data, CERT, ANCHOR, nonce=NONCE, at=NOW)


@FUZZ
@given(mutated(REVOKED))
def test_mutated_revoked_response_is_not_good(data: bytes) -> None:
    # an altered "revoked" must not turn into a usable "good"
    try:
        answer = CLIENT.verify(data, CERT, ANCHOR, nonce=NONCE, at=NOW)
    except OcspError:
        return
    assert answer.status == "revoked"
