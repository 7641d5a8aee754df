"""Fuzzing detached CMS signatures through verify_cms: only CmsError subclasses come
out, and a changed signature never verifies (issue 14 #5)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jpki.basic_facts import basic_four_if_present
from jpki.cms import CmsError, CmsMalformedError, sign_cms, verify_cms
from jpki.constants import KeyKind
from jpki.validation import CertificateValidator, RevocationPolicy
from simulators.card import SoftwareCard
from simulators.personas import get_persona
from simulators.pki import TestPki
from tests.jpki.fuzzing import FUZZ_SETTINGS, garbage, mutated
from tests.jpki.test_auth_token_support import open_card, trust_store

CONTENT = b"application form\n" * 20


def later() -> datetime:
    """A minute from now, read when the test runs: a constant taken at collection falls
    before the certificates that a long run issues later."""
    return datetime.now(UTC) + timedelta(minutes=1)


@dataclass(frozen=True)
class Signed:
    signature: bytes
    certificate: bytes
    checker: CertificateValidator


@pytest.fixture(scope="module")
def signed(card_templates: dict[str, SoftwareCard], test_pki: TestPki) -> Signed:
    persona = get_persona("yamada-taro")
    card = open_card(card_templates[persona.id].copy(), persona)
    signer = card.signer(KeyKind.SIGN)
    # The real validator; revocation soft-fails with no source so that each of the
    # many inputs that reach path validation costs no network round trip.
    checker = CertificateValidator(trust_store(test_pki), RevocationPolicy(mode="soft-fail"))
    return Signed(sign_cms(CONTENT, signer), signer.certificate, checker)


def test_the_original_verifies(signed: Signed) -> None:
    assert verify_cms(CONTENT, signed.signature, signed.checker, at=later()).serial > 0


def _refused(data: bytes, signed: Signed) -> None:
    try:
        verify_cms(CONTENT, data, signed.checker, at=later())
    except CmsError:
        return
    raise AssertionError("a changed signature verified")


@FUZZ_SETTINGS
@given(data=st.data())
def test_mutated_signature_is_a_typed_refusal(signed: Signed, data: st.DataObject) -> None:
    _refused(data.draw(mutated(signed.signature)), signed)


@FUZZ_SETTINGS
@given(data=garbage())
def test_random_bytes_are_a_typed_refusal(signed: Signed, data: bytes) -> None:
    _refused(data, signed)


@FUZZ_SETTINGS
@given(data=st.data())
def test_basic_four_if_present_never_raises(signed: Signed, data: st.DataObject) -> None:
    """Its contract: the facts, or None; never an exception for a bad certificate."""
    cert = data.draw(st.one_of(mutated(signed.certificate), garbage()))
    result = basic_four_if_present(cert)
    assert result is None or isinstance(result.name, str)


# The DER of OID 1.2.392.200149.8.5.5.1 (the name in subjectAltName), followed by the
# [0] EXPLICIT tag of the otherName value.
_NAME_VALUE = bytes.fromhex("060a2a83088c9b5508050501") + b"\xa0"


def test_basic_four_if_present_returns_none_for_a_broken_other_name(signed: Signed) -> None:
    """Issue 14 #5: the contract is "the facts or None". An otherName value tagged
    [APPLICATION 0] instead of [0] made asn1crypto fail lazily, inside the loop, with a
    ValueError that escaped."""
    assert _NAME_VALUE in signed.certificate
    cert = signed.certificate.replace(_NAME_VALUE, _NAME_VALUE[:-1] + b"\x60", 1)
    assert basic_four_if_present(cert) is None


def test_an_empty_bit_string_in_the_signer_certificate_is_malformed(signed: Signed) -> None:
    """Issue 14 #5: a keyUsage BIT STRING with no content made asn1crypto's `.native`
    raise IndexError out of verify_cms (a 500 at /api/verify)."""
    key_usage = bytes.fromhex("0603551d0f0101ff04040302")  # ... then the 2 usage bytes
    at = signed.signature.index(key_usage) + len(key_usage) - 2
    crafted = signed.signature[:at] + bytes.fromhex("03000300") + signed.signature[at + 4 :]
    with pytest.raises(CmsMalformedError):
        verify_cms(CONTENT, crafted, signed.checker, at=later())


def test_an_unsigned_envelope_field_changed_is_refused(signed: Signed) -> None:
    """The SignedData envelope outside the signed attributes is not signed; a changed
    eContentType or a mis-tagged digestAlgorithms must still not verify."""
    data_oid = bytes.fromhex("06092a864886f70d010701")
    at = signed.signature.index(data_oid)
    other = (
        signed.signature[:at]
        + bytes.fromhex("06092a864886f70d010702")
        + signed.signature[at + len(data_oid) :]
    )
    with pytest.raises(CmsMalformedError):
        verify_cms(CONTENT, other, signed.checker, at=later())
    digest_set = signed.signature.index(bytes.fromhex("310f300d0609608648016503040201"))
    retagged = signed.signature[:digest_set] + b"\x30" + signed.signature[digest_set + 1 :]
    with pytest.raises(CmsMalformedError):
        verify_cms(CONTENT, retagged, signed.checker, at=later())


def test_a_signature_that_made_asn1crypto_raise_attribute_error_is_malformed(
    signed: Signed,
) -> None:
    """Issue 14 #5: found by mutation (an ObjectDescriptor where an OID belongs):
    asn1crypto's `.native` raised AttributeError out of verify_cms."""
    crafted = (Path(__file__).parent / "data" / "cms_asn1_attributeerror.der").read_bytes()
    with pytest.raises(CmsMalformedError):
        verify_cms(b"x" * 100, crafted, signed.checker, at=later())


def test_findings_of_the_long_fuzz_run_are_refused(signed: Signed) -> None:
    """scripts/fuzz.py found these accepted or crashing (issue 14 fuzz run): the signer
    identifier's issuer in another letter case (names match case-insensitively, but the
    unsigned identifier must be the certificate's very bytes), parameters other than
    NULL on the digest algorithm, and a certificate version cryptography rejects with
    InvalidVersion (not a ValueError)."""
    sig = signed.signature
    signer_info = sig.rindex(bytes.fromhex("020101"))  # SignerInfo version 1
    name_at = sig.index(b"JPKI", signer_info)
    case_flipped = sig[:name_at] + b"jPKI" + sig[name_at + 4 :]
    digest_null = sig.index(bytes.fromhex("06096086480165030402010500"))
    odd_params = sig[: digest_null + 11] + b"\x42" + sig[digest_null + 12 :]
    version = sig.index(bytes.fromhex("a003020102"))
    bad_version = sig[: version + 4] + b"\x06" + sig[version + 5 :]
    for crafted in (case_flipped, odd_params, bad_version):
        with pytest.raises(CmsMalformedError):
            verify_cms(CONTENT, crafted, signed.checker, at=later())
