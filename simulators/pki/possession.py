"""Proof of possession for a key the card generated (the admin model's GENERATE answer,
jpki/admin_protocol.py): the new key signed the PKI's nonce and its own public key."""

from __future__ import annotations

import hashlib

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa, utils

from card.tlv import TlvError
from jpki.admin_protocol import decode_generate_response, pop_message
from simulators.pki.certs import RSA_BITS
from simulators.pki.errors import IssuanceError

RSA_EXPONENT = 65537


def verify_possession(generated: bytes, nonce: bytes) -> rsa.RSAPublicKey:
    """The public key in GENERATE's answer, once its proof of possession over `nonce`
    verifies; IssuanceError otherwise."""
    try:
        public_tlv, modulus, exponent, signature = decode_generate_response(generated)
    except TlvError as exc:
        raise IssuanceError(f"not a key generation answer: {exc}") from None
    if modulus.bit_length() != RSA_BITS or exponent != RSA_EXPONENT:
        raise IssuanceError(f"the card's key must be RSA-{RSA_BITS} with e=65537")
    try:
        public_key = rsa.RSAPublicNumbers(exponent, modulus).public_key()
        digest = hashlib.sha256(pop_message(public_tlv, nonce)).digest()
        public_key.verify(signature, digest, padding.PKCS1v15(), utils.Prehashed(hashes.SHA256()))
    except (InvalidSignature, ValueError):
        raise IssuanceError("the proof of possession does not verify for this key") from None
    return public_key
