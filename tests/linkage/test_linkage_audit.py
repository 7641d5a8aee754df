"""The audit trail: chained records, tamper detection by seq, no personal data in it."""

from __future__ import annotations

import itertools

import pytest
from linkage_helpers import OPERATOR, SIGN_CA_KID, cert, tamper
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from simulators.personas import Persona
from terminal.audit import AuditError, AuditTrail, Operation, Subject
from terminal.db.engine import Store
from terminal.dev.core_client import InProcessCoreClient
from terminal.linkage import LinkageRegistry, LinkConflict, PersonRef, UnknownSerial
from terminal.linkage.core_client import symbols_for_issuance


def _fill(audit: AuditTrail, count: int = 5) -> None:
    for i in range(count):
        audit.record_now(
            operator=OPERATOR,
            operation=Operation.PERSON_LOOKUP,
            subject=Subject.person(f"{100000000000000 + i}"),
            result="ok",
        )


def _sql(store: Store, statement: str, **params: object) -> None:
    tamper(store, statement, **params)


def test_database_refuses_to_change_audit_records(audit: AuditTrail, store: Store) -> None:
    _fill(audit, 2)
    for statement in (
        "UPDATE audit_records SET result = 'x' WHERE seq = 1",
        "DELETE FROM audit_records WHERE seq = 2",
    ):
        with pytest.raises(DBAPIError, match="append-only"), store.engine.begin() as conn:
            conn.execute(text(statement))
    assert audit.verify().ok and audit.verify().records == 2


def test_chain_verifies_and_lists(audit: AuditTrail) -> None:
    assert audit.verify().ok and audit.verify().records == 0
    _fill(audit)
    report = audit.verify()
    assert report.ok and report.records == 5 and report.head_seq == 5
    entries = audit.list()
    assert [e.seq for e in entries] == [1, 2, 3, 4, 5]
    assert entries[0].prev_hash == "0" * 64
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(entries))
    only = audit.list(subject=Subject.person("100000000000002"))
    assert [e.seq for e in only] == [3]
    assert [e.seq for e in audit.list(since_seq=3)] == [4, 5]


def test_edit_is_detected_at_its_seq(audit: AuditTrail, store: Store) -> None:
    _fill(audit)
    _sql(store, "UPDATE audit_records SET result = 'refused:X' WHERE seq = 3")
    report = audit.verify()
    assert not report.ok and report.bad_seq == 3 and "hash" in (report.problem or "")


def test_edit_with_recomputed_hash_breaks_the_next_link(audit: AuditTrail, store: Store) -> None:
    from terminal.audit.trail import record_hash

    _fill(audit)
    row = audit.list()[1]
    fields = {k: v for k, v in row.as_dict().items() if k not in ("seq", "prev_hash", "hash")}
    fields["operator_id"] = "someone-else"
    forged = record_hash(row.seq, row.prev_hash, fields)  # type: ignore[arg-type]
    _sql(
        store,
        "UPDATE audit_records SET operator_id = 'someone-else', hash = :h WHERE seq = 2",
        h=forged,
    )
    report = audit.verify()
    assert not report.ok and report.bad_seq == 3


def test_deletion_in_the_middle_and_at_the_tail(audit: AuditTrail, store: Store) -> None:
    _fill(audit)
    _sql(store, "DELETE FROM audit_records WHERE seq = 5")
    tail = audit.verify()
    assert not tail.ok and tail.bad_seq == 5
    _sql(store, "DELETE FROM audit_records WHERE seq = 2")
    middle = audit.verify()
    assert not middle.ok and middle.bad_seq == 2 and "missing" in (middle.problem or "")


def test_reorder_is_detected(audit: AuditTrail, store: Store) -> None:
    _fill(audit)
    # Swap records 2 and 3 wholesale (renumbering them): each keeps its own hash.
    _sql(store, "UPDATE audit_records SET seq = 1000 WHERE seq = 2")
    _sql(store, "UPDATE audit_records SET seq = 2 WHERE seq = 3")
    _sql(store, "UPDATE audit_records SET seq = 3 WHERE seq = 1000")
    report = audit.verify()
    assert not report.ok and report.bad_seq == 2


def test_personal_data_is_refused(audit: AuditTrail, personas: list[Persona]) -> None:
    taro = personas[0]
    with pytest.raises(AuditError):
        audit.record_now(
            operator=OPERATOR,
            operation=Operation.MYNUMBER_VIEW,
            subject=Subject(Subject.person("x").kind, taro.my_number),  # type: ignore[arg-type]
            result="ok",
        )
    with pytest.raises(AuditError):
        audit.record_now(
            operator=OPERATOR,
            operation=Operation.MYNUMBER_VIEW,
            subject=Subject.person(taro.my_number.reveal()),
            result="ok",
        )
    with pytest.raises(AuditError):  # free text (a name) is not an identifier
        audit.record_now(
            operator=OPERATOR,
            operation=Operation.PERSON_LOOKUP,
            subject=Subject.person(taro.name),
            result="ok",
        )
    assert audit.verify().records == 0


def test_mynumber_view_event(audit: AuditTrail) -> None:
    entry = audit.record_mynumber_view(OPERATOR, "123456789012345")
    assert (entry.operation, entry.subject_kind, entry.subject_ref, entry.result) == (
        "mynumber.view",
        "person",
        "123456789012345",
        "shown",
    )
    assert audit.verify().ok


def test_record_shares_the_operation_transaction(
    registry: LinkageRegistry, core_client: InProcessCoreClient, personas: list[Persona]
) -> None:
    symbols = symbols_for_issuance(core_client, personas[0].resident_code)

    def explode(_operation: str) -> None:
        raise LinkConflict("injected just before commit")

    failing = LinkageRegistry(registry.store, before_commit=explode)
    with pytest.raises(LinkConflict):
        failing.issue(PersonRef(), cert(7), cert(8, SIGN_CA_KID), symbols, OPERATOR)
    entries = registry.audit.list()
    # The issuance and its "ok" record rolled back together; only the refusal remains.
    assert [(e.operation, e.result) for e in entries] == [
        ("linkage.issue", "refused:LINK_CONFLICT")
    ]
    with pytest.raises(UnknownSerial):
        registry.certificate(7)
