"""PKCS#1 DigestInfo for the card's COMPUTE DIGITAL SIGNATURE (the card pads, the host
hashes and wraps)."""

from __future__ import annotations

from asn1crypto import algos

from jpki.errors import DigestError

DIGEST_SIZES = {"sha1": 20, "sha224": 28, "sha256": 32, "sha384": 48, "sha512": 64}


def digest_info(digest: bytes, hash_name: str, *, allow_sha1: bool = False) -> bytes:
    """DER DigestInfo (with NULL parameters, as RFC 8017 encodes it)."""
    name = hash_name.lower().replace("-", "")
    if name not in DIGEST_SIZES:
        raise DigestError(f"unsupported hash algorithm {hash_name!r}")
    if name == "sha1" and not allow_sha1:
        raise DigestError("SHA-1 signatures are refused unless explicitly allowed")
    if len(digest) != DIGEST_SIZES[name]:
        raise DigestError(f"a {name} digest is {DIGEST_SIZES[name]} bytes, got {len(digest)}")
    info = algos.DigestInfo({"digest_algorithm": {"algorithm": name}, "digest": digest})
    return bytes(info.dump())
