"""Fuzzing CRL input: only typed errors, and never an accepted CRL from altered bytes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from cryptography import x509
from hypothesis import given

from jpki.validation import CrlError, CrlStore, TrustStore
from jpki.validation.crlindex import CrlIndex, CrlInfo, IndexFileError
from jpki.validation.crlparse import parse_entries, split_crl
from jpki.validation.der import DerError
from tests.jpki.conftest import NOW, MiniPki, build_pki, partition_name
from tests.jpki.fuzzing import FUZZ_SETTINGS, garbage, mutated

PKI: MiniPki = build_pki("auth")
TRUST = TrustStore(PKI.anchors)
PARTITION = partition_name("auth", "Tsukuba-shi")
CRL = PKI.crl(
    revoked=[
        (s, NOW - timedelta(days=s), x509.ReasonFlags.key_compromise if s % 2 else None)
        for s in range(1, 6)
    ],
    number=3,
)
FUZZ = FUZZ_SETTINGS


def test_the_original_is_accepted() -> None:
    assert CrlStore().load(CRL, TRUST, partition=PARTITION, at=NOW).entries == 5


@FUZZ
@given(garbage())
def test_random_bytes(data: bytes) -> None:
    with pytest.raises(CrlError):
        CrlStore().load(data, TRUST, partition=PARTITION, at=NOW)


@FUZZ
@given(mutated(CRL))
def test_mutated_crl_is_never_accepted(data: bytes) -> None:
    store = CrlStore()
    with pytest.raises(CrlError):
        store.load(data, TRUST, partition=PARTITION, at=NOW)
    with pytest.raises(CrlError):
        store.lookup(PARTITION, 1, at=NOW)


@FUZZ
@given(mutated(CRL))
def test_walker_raises_only_der_errors(data: bytes) -> None:
    try:
        raw = split_crl(data)
        if raw.revoked is not None:
            parse_entries(raw.data, *raw.revoked, 1000)
    except DerError:
        pass


INDEX = CrlIndex.build(
    CrlInfo("p", "i", "00", 1, NOW, NOW, 3, "0"), [1, 2**40, 2**100], [10, 20, 30], [1, 255, 4]
).to_bytes()


@FUZZ
@given(mutated(INDEX))
def test_mutated_index_file_is_refused(data: bytes) -> None:
    with pytest.raises(IndexFileError):
        CrlIndex.from_bytes(data)
