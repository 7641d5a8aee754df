"""Verifying a signature over exact bytes with an issuer's public key."""

from __future__ import annotations

from typing import Any

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificatePublicKeyTypes


def signature_valid(
    key: CertificatePublicKeyTypes,
    signature: bytes,
    data: bytes,
    hash_algorithm: hashes.HashAlgorithm | None,
    parameters: Any,
) -> bool:
    """True when `signature` over `data` verifies. `parameters` is what cryptography
    reports as the object's signature_algorithm_parameters (padding or ECDSA). `data` may
    be a memoryview (cryptography takes any buffer), so large TBS bytes are not copied."""
    try:
        if isinstance(key, rsa.RSAPublicKey):
            if hash_algorithm is None or not isinstance(parameters, padding.PKCS1v15 | padding.PSS):
                return False
            key.verify(signature, data, parameters, hash_algorithm)
        elif isinstance(key, ec.EllipticCurvePublicKey):
            if not isinstance(parameters, ec.ECDSA):
                return False
            key.verify(signature, data, parameters)
        elif isinstance(key, ed25519.Ed25519PublicKey | ed448.Ed448PublicKey):
            key.verify(signature, data)
        else:
            return False
    except (InvalidSignature, UnsupportedAlgorithm, ValueError, TypeError):
        return False
    return True
