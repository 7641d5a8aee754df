"""PAdES signatures by the software card, validated by pyHanko's own validator against
the test PKI's trust roots and CRLs."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509

from jpki.constants import KeyKind
from jpki.pdf import (
    PdfCertificateRejectedError,
    PdfMalformedError,
    PdfNotSignedError,
    sign_pdf,
    verify_pdf,
)
from simulators.card import SoftwareCard
from simulators.personas import Persona
from simulators.pki import TestPki
from tests.jpki.test_auth_token_support import checker_for, open_card


def later() -> datetime:
    """A minute from now, read when the test runs: a constant taken at collection falls
    before the certificates that a long run issues later."""
    return datetime.now(UTC) + timedelta(minutes=1)


def minimal_pdf(page_text: bytes = b"BT /F1 12 Tf 20 100 Td (mynaterm) Tj ET") -> bytes:
    """A one-page PDF with an exact cross-reference table, written by hand."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Contents 4 0 R >>",
        b"<< /Length %d >>\nstream\n" % len(page_text) + page_text + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


@pytest.fixture(autouse=True)
def _quiet_pyhanko(caplog: pytest.LogCaptureFixture) -> None:
    # pyHanko logs a traceback for every refused certificate; the assertions say enough.
    caplog.set_level(logging.CRITICAL, logger="pyhanko")
    caplog.set_level(logging.CRITICAL, logger="pyhanko_certvalidator")


@pytest.fixture
def counting_signer(software_card: SoftwareCard, persona: Persona):  # type: ignore[no-untyped-def]
    card = open_card(software_card, persona)
    signer = card.signer(KeyKind.SIGN)
    return card, signer


def _crls(pki: TestPki, kind: str = "sign") -> list[bytes]:
    return [pki.crl(kind, partition) for partition in pki.partitions(kind)]


def test_signed_pdf_validates_with_pyhanko_including_crl_revocation(
    counting_signer,
    test_pki: TestPki,
    persona: Persona,  # type: ignore[no-untyped-def]
) -> None:
    card, signer = counting_signer
    _ = signer.certificate  # read (and cached) before counting
    before = card.channel.apdu_count
    signed = sign_pdf(minimal_pdf(), signer, reason="申請", location="千代田区")
    # One COMPUTE DIGITAL SIGNATURE, the key named by its short EF id (P2=97/9A, no
    # SELECT of the key EF): pyHanko's dry run never reached the card.
    assert card.channel.apdu_count - before == 1
    [result] = verify_pdf(signed, test_pki.trust_anchors("sign"), crls=_crls(test_pki), at=later())
    assert result.intact and result.valid and result.trusted and result.bottom_line
    assert result.covers_whole_document and result.ok
    assert result.pyhanko_revocation_checked and not result.revoked
    cert = x509.load_der_x509_certificate(signer.certificate)
    assert result.signer_serial == cert.serial_number
    assert result.basic_four is not None and result.basic_four.name == persona.name


def test_without_revocation_data_the_result_says_revocation_was_not_checked(
    counting_signer,
    test_pki: TestPki,  # type: ignore[no-untyped-def]
) -> None:
    _, signer = counting_signer
    [result] = verify_pdf(
        sign_pdf(minimal_pdf(), signer), test_pki.trust_anchors("sign"), at=later()
    )
    assert result.bottom_line and not result.pyhanko_revocation_checked


def test_changed_byte_in_the_signed_range_breaks_the_signature(
    counting_signer,
    test_pki: TestPki,  # type: ignore[no-untyped-def]
) -> None:
    _, signer = counting_signer
    signed = bytearray(sign_pdf(minimal_pdf(), signer))
    position = signed.index(b"(mynaterm)") + 1
    signed[position] = ord("M")
    [result] = verify_pdf(bytes(signed), test_pki.trust_anchors("sign"), at=later())
    assert not result.intact and not result.bottom_line and not result.ok


def test_untrusted_root_is_not_trusted(
    counting_signer,
    test_pki: TestPki,  # type: ignore[no-untyped-def]
) -> None:
    _, signer = counting_signer
    [result] = verify_pdf(
        sign_pdf(minimal_pdf(), signer), test_pki.trust_anchors("auth"), at=later()
    )
    assert result.intact and not result.trusted and not result.bottom_line


def test_revoked_signer_fails_in_pyhanko_and_in_the_project_checker(
    persona: Persona, test_pki: TestPki
) -> None:
    card = open_card(SoftwareCard.create(persona, test_pki), persona)
    signer = card.signer(KeyKind.SIGN)
    signed = sign_pdf(minimal_pdf(), signer)
    serial = x509.load_der_x509_certificate(signer.certificate).serial_number
    test_pki.revoke(serial, "move", at=datetime.now(UTC))
    [result] = verify_pdf(
        signed,
        test_pki.trust_anchors("sign"),
        crls=[test_pki.crl("sign", p, now=later()) for p in test_pki.partitions("sign")],
        at=later(),
    )
    assert result.revoked and not result.bottom_line
    checker, _ = checker_for(test_pki)
    with pytest.raises(PdfCertificateRejectedError) as info:
        verify_pdf(signed, test_pki.trust_anchors("sign"), checker=checker, at=later())
    assert info.value.code == "CERT_REVOKED"


def test_crl_of_the_wrong_kind_leaves_revocation_undecided_and_fails_hard(
    counting_signer,
    test_pki: TestPki,  # type: ignore[no-untyped-def]
) -> None:
    _, signer = counting_signer
    [result] = verify_pdf(
        sign_pdf(minimal_pdf(), signer),
        test_pki.trust_anchors("sign"),
        crls=_crls(test_pki, "auth"),
        at=later(),
    )
    # Undecided, not revoked: the signature is sound and only the revocation is unknown.
    assert result.intact and result.valid and not result.revoked
    assert not result.trusted and not result.bottom_line and not result.ok


def test_unsigned_and_garbage_inputs(test_pki: TestPki) -> None:
    with pytest.raises(PdfNotSignedError):
        verify_pdf(minimal_pdf(), test_pki.trust_anchors("sign"))
    with pytest.raises(PdfMalformedError):
        verify_pdf(b"%PDF-1.7\nthis is not a pdf", test_pki.trust_anchors("sign"))
