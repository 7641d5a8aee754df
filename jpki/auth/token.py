"""The login token the terminal sends back: the card's signature over the origin and
the challenge, plus the certificate to check it with.

Signed data (same shape as Web eID's): sha256(origin as UTF-8) || sha256(nonce as
ASCII text). The nonce is hashed as the text the server issued (not its decoded bytes),
so both sides agree on it without decoding. The card signs the SHA-256 DigestInfo of
that 64-byte string with the AUTH key. Neither origin nor nonce travels in the token:
the verifier rebuilds both from its own configuration and session."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from jpki.auth.errors import TokenMalformedError
from jpki.signer import DigestSigner

TOKEN_FORMAT = "mynaterm-auth-token:1"  # noqa: S105 (a format name, not a secret)
ALGORITHM = "RS256"
TERMINAL_VERSION = "mynaterm/0.1"

MAX_TOKEN_BYTES = 16 * 1024
MAX_CERTIFICATE_BYTES = 8 * 1024
MAX_SIGNATURE_BYTES = 1024  # RSA-8192 at most; the card's keys are 2048-bit
MAX_VERSION_CHARS = 100
_FIELDS = frozenset({"format", "certificate", "algorithm", "signature", "terminalVersion"})


@dataclass(frozen=True)
class AuthToken:
    certificate: bytes
    signature: bytes
    algorithm: str = ALGORITHM
    terminal_version: str = TERMINAL_VERSION
    format: str = TOKEN_FORMAT

    def to_json(self) -> str:
        return json.dumps(
            {
                "format": self.format,
                "certificate": base64.b64encode(self.certificate).decode(),
                "algorithm": self.algorithm,
                "signature": base64.b64encode(self.signature).decode(),
                "terminalVersion": self.terminal_version,
            }
        )


def signed_data(origin: str, nonce: str) -> bytes:
    """The 64 bytes whose SHA-256 the card signs."""
    return (
        hashlib.sha256(origin.encode("utf-8")).digest()
        + hashlib.sha256(nonce.encode("ascii")).digest()
    )


def create_auth_token(signer: DigestSigner, origin: str, nonce: str) -> AuthToken:
    """Have `signer` (the card's AUTH key; its PIN already verified) answer the
    challenge `nonce` for `origin`."""
    digest = hashlib.sha256(signed_data(origin, nonce)).digest()
    signature = signer.sign_digest(digest, "sha256")
    return AuthToken(certificate=signer.certificate, signature=signature)


def parse_auth_token(token_json: str | bytes) -> AuthToken:
    """Strictly parse a token: size limits, exactly the known fields with the right
    types, the one supported format and algorithm, canonical base64."""
    try:
        raw = token_json.encode("utf-8") if isinstance(token_json, str) else bytes(token_json)
    except UnicodeError as exc:  # a lone surrogate: not JSON text
        raise TokenMalformedError(f"token is not JSON text: {exc}") from exc
    if len(raw) > MAX_TOKEN_BYTES:
        raise TokenMalformedError(f"token larger than {MAX_TOKEN_BYTES} bytes")
    try:
        # As json.loads reads bytes: UTF-8 (a BOM dropped), -16 or -32 as the first bytes
        # tell; but with a decoder made once.
        text = raw.decode(json.detect_encoding(raw), "surrogatepass")
    except UnicodeError as exc:
        raise TokenMalformedError(f"token is not JSON: {exc}") from exc
    try:
        obj: Any = _DECODER.decode(text)
    except (ValueError, RecursionError) as exc:
        raise TokenMalformedError(f"token is not JSON: {exc}") from exc
    if not isinstance(obj, dict):
        raise TokenMalformedError("token must be a JSON object")
    if obj.keys() != _FIELDS:  # compares as sets, without building one
        keys = set(obj)
        missing, extra = sorted(_FIELDS - keys), sorted(keys - _FIELDS)
        raise TokenMalformedError(f"token fields wrong: missing {missing}, unexpected {extra}")
    for key in _FIELDS:
        if not isinstance(obj[key], str):
            raise TokenMalformedError(f"token field {key!r} must be a string")
    if obj["format"] != TOKEN_FORMAT:
        raise TokenMalformedError(f"unsupported token format {obj['format'][:40]!r}")
    if obj["algorithm"] != ALGORITHM:
        raise TokenMalformedError(f"unsupported algorithm {obj['algorithm'][:20]!r}")
    if len(obj["terminalVersion"]) > MAX_VERSION_CHARS:
        raise TokenMalformedError("terminalVersion too long")
    certificate = _b64(obj["certificate"], "certificate", MAX_CERTIFICATE_BYTES)
    signature = _b64(obj["signature"], "signature", MAX_SIGNATURE_BYTES)
    return AuthToken(
        certificate=certificate,
        signature=signature,
        algorithm=obj["algorithm"],
        terminal_version=obj["terminalVersion"],
        format=obj["format"],
    )


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # json keeps the last of repeated keys; another reader may keep the first. A token
    # that means different things to different parsers is refused outright.
    obj = dict(pairs)
    if len(obj) != len(pairs):
        raise ValueError("a key is repeated")
    return obj


# Made once: json.loads with any keyword builds a new decoder per call (microseconds).
_DECODER = json.JSONDecoder(parse_constant=_reject_constant, object_pairs_hook=_unique_keys)


def _b64(text: str, field: str, limit: int) -> bytes:
    try:
        # What base64.b64decode(text, validate=True) does, without its wrapper.
        value = binascii.a2b_base64(text, strict_mode=True)
    except ValueError as exc:  # binascii.Error, or a non-ASCII character
        raise TokenMalformedError(f"token field {field!r} is not base64") from exc
    if not value:
        raise TokenMalformedError(f"token field {field!r} is empty")
    if len(value) > limit:
        raise TokenMalformedError(f"token field {field!r} larger than {limit} bytes")
    return value
