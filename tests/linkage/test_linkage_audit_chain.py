"""Property: whatever single edit, deletion or swap is made to a chain, verification
fails exactly at the first record touched (no database needed: the pure verifier)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from terminal.audit.trail import _verify_rows, record_hash
from terminal.db.models import GENESIS_HASH, AuditRecord

FIELDS = (
    "recorded_at",
    "operator_id",
    "terminal_id",
    "operation",
    "subject_kind",
    "subject_ref",
    "result",
)


def _chain(length: int) -> list[AuditRecord]:
    rows, prev = [], GENESIS_HASH
    for seq in range(1, length + 1):
        fields = {name: f"{name}-{seq}" for name in FIELDS}
        digest = record_hash(seq, prev, fields)
        rows.append(AuditRecord(seq=seq, prev_hash=prev, hash=digest, **fields))
        prev = digest
    return rows


@settings(max_examples=60, deadline=None)
@given(length=st.integers(1, 12), data=st.data())
def test_single_edit_is_found_at_its_seq(length: int, data: st.DataObject) -> None:
    rows = _chain(length)
    head = rows[-1].hash
    assert _verify_rows(rows, length, head).ok
    index = data.draw(st.integers(0, length - 1))
    field = data.draw(st.sampled_from((*FIELDS, "prev_hash")))
    setattr(rows[index], field, getattr(rows[index], field) + "x")
    report = _verify_rows(rows, length, head)
    assert not report.ok and report.bad_seq == index + 1


@settings(max_examples=60, deadline=None)
@given(length=st.integers(1, 12), data=st.data())
def test_deletion_is_found_at_its_seq(length: int, data: st.DataObject) -> None:
    rows = _chain(length)
    head = rows[-1].hash
    index = data.draw(st.integers(0, length - 1))
    del rows[index]
    report = _verify_rows(rows, length, head)
    assert not report.ok and report.bad_seq == index + 1


@settings(max_examples=60, deadline=None)
@given(length=st.integers(2, 12), data=st.data())
def test_swap_is_found_at_the_first_moved_record(length: int, data: st.DataObject) -> None:
    rows = _chain(length)
    head = rows[-1].hash
    first = data.draw(st.integers(0, length - 2))
    second = data.draw(st.integers(first + 1, length - 1))
    rows[first], rows[second] = rows[second], rows[first]
    rows[first].seq, rows[second].seq = first + 1, second + 1  # renumbered to look tidy
    report = _verify_rows(rows, length, head)
    assert not report.ok and report.bad_seq == first + 1
