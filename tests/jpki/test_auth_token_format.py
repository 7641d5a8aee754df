"""Strict parsing of the login token (no card, no PKI needed)."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

import pytest

from jpki.auth import AuthToken, TokenMalformedError, create_auth_token, parse_auth_token
from jpki.auth.token import MAX_TOKEN_BYTES, TOKEN_FORMAT, signed_data

CERT = b"\x30\x03\x02\x01\x01"  # only shape matters to the parser
SIG = bytes(range(256))


def token_dict(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = json.loads(AuthToken(certificate=CERT, signature=SIG).to_json())
    base.update(changes)
    return base


def test_round_trip() -> None:
    token = AuthToken(certificate=CERT, signature=SIG)
    assert parse_auth_token(token.to_json()) == token
    assert parse_auth_token(token.to_json().encode()) == token


def test_token_carries_neither_origin_nor_nonce() -> None:
    assert set(token_dict()) == {
        "format",
        "certificate",
        "algorithm",
        "signature",
        "terminalVersion",
    }
    assert token_dict()["format"] == TOKEN_FORMAT == "mynaterm-auth-token:1"


def test_signed_data_is_hash_of_origin_then_hash_of_nonce() -> None:
    data = signed_data("https://a.example", "nonce-text")
    assert data == (
        hashlib.sha256(b"https://a.example").digest() + hashlib.sha256(b"nonce-text").digest()
    )


def test_create_signs_sha256_of_signed_data_with_sha256() -> None:
    calls: list[tuple[bytes, str]] = []

    class Recorder:
        certificate = CERT

        def sign_digest(self, digest: bytes, hash_name: str) -> bytes:
            calls.append((digest, hash_name))
            return SIG

    token = create_auth_token(Recorder(), "https://a.example", "n0nce")
    assert calls == [(hashlib.sha256(signed_data("https://a.example", "n0nce")).digest(), "sha256")]
    assert token.signature == SIG and token.certificate == CERT


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"not json",
        b"[1, 2]",
        b'"string"',
        json.dumps(token_dict(format="mynaterm-auth-token:2")).encode(),
        json.dumps(token_dict(algorithm="PS256")).encode(),
        json.dumps(token_dict(algorithm="none")).encode(),
        json.dumps(token_dict(certificate="***")).encode(),
        json.dumps(token_dict(certificate="")).encode(),
        json.dumps(token_dict(signature=12)).encode(),
        json.dumps(token_dict(signature=None)).encode(),
        json.dumps(token_dict(origin="https://a.example")).encode(),
        json.dumps({k: v for k, v in token_dict().items() if k != "signature"}).encode(),
        json.dumps(token_dict(terminalVersion="x" * 101)).encode(),
        json.dumps(token_dict(certificate=base64.b64encode(bytes(8 * 1024 + 1)).decode())).encode(),
        b'{"format": NaN}',
        b"[" * 16_000,
        b"\xff\xfe",
    ],
)
def test_malformed_tokens_are_refused_with_token_malformed(raw: bytes) -> None:
    with pytest.raises(TokenMalformedError) as info:
        parse_auth_token(raw)
    assert info.value.code == "TOKEN_MALFORMED"


def test_oversized_token_is_refused_before_parsing() -> None:
    big = json.dumps(token_dict(terminalVersion=" " * MAX_TOKEN_BYTES))
    with pytest.raises(TokenMalformedError, match="larger than"):
        parse_auth_token(big)


@pytest.mark.parametrize("field", ["certificate", "signature", "format", "algorithm"])
def test_a_repeated_key_is_refused(field: str) -> None:
    """Issue 14 #10: json keeps the last of repeated keys, other readers the first; a
    token that reads differently to different parsers is refused."""
    genuine = token_dict()
    text = json.dumps(genuine)
    other = base64.b64encode(b"\x30\x03\x02\x01\x02").decode() if field == "certificate" else "x"
    doubled = text[:-1] + f", {json.dumps(field)}: {json.dumps(other)}" + "}"
    with pytest.raises(TokenMalformedError, match="repeated") as info:
        parse_auth_token(doubled)
    assert info.value.code == "TOKEN_MALFORMED"
