"""Fuzzing the login token parser: TokenMalformedError or a parsed token, nothing else."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from jpki.auth import AuthToken, TokenMalformedError, parse_auth_token
from tests.jpki.fuzzing import FUZZ_SETTINGS, garbage, mutated

TOKEN = AuthToken(certificate=b"\x30\x03\x02\x01\x01", signature=bytes(range(256))).to_json()


@FUZZ_SETTINGS
@given(st.one_of(mutated(TOKEN.encode()), garbage(), st.text(max_size=300).map(str.encode)))
def test_parse_is_typed(data: bytes) -> None:
    try:
        token = parse_auth_token(data)
    except TokenMalformedError:
        return
    assert token.certificate and token.signature
