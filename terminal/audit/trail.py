"""Append-only, hash-chained audit trail (情報提供等記録).

Each record says who (operator, terminal), when, which operation, on which subject
reference (an integrated number or a certificate serial; never a My Number or a PIN),
and the result; never the content. Its hash is SHA-256 over a canonical JSON encoding of
(seq, prev_hash, fields), so editing, deleting or reordering records breaks the chain
at a seq that `verify()` names. The head row anchors the tail: deleting the newest
records shows too.

`record()` writes inside the caller's transaction, so an operation and its record
commit together or not at all.

The head is also anchored OUTSIDE the database: after each commit that appended, the
head file (next to an SQLite database: `<file>.audit-head`) is replaced atomically with
the chain's seq and hash. A database deleted and started over, or truncated, or swapped
for an older copy, then disagrees with the head file: `verify()` reports it, and
`record()` refuses to append to such a chain (STORE_UNAVAILABLE) instead of silently
starting a new one. The operator can also copy the head file (or the hash `audit
verify` prints) elsewhere as an external witness.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from enum import StrEnum
from pathlib import Path

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from jpki.clock import utc_now
from jpki.mynumber import MyNumber
from terminal.db.engine import Store
from terminal.db.errors import StoreUnavailable
from terminal.db.models import GENESIS_HASH, AuditHead, AuditRecord


class AuditError(ValueError):
    """A record that must not be written (bad field, personal data in a reference)."""

    code = "AUDIT_INVALID"


class Operation(StrEnum):
    ISSUE = "linkage.issue"
    RENEW = "linkage.renew"
    RENEW_ON_CARD = "linkage.renew_on_card"  # new keys + certificates on the same card
    CARD_PIN_SET = "card.pin_set"  # PINs set on a new card at the counter
    CARD_PIN_RESET = "card.pin_reset"  # a locked or forgotten PIN reset at the counter
    CARD_RECONCILE = "card.reconcile"  # an interrupted counter operation completed
    REVOKE = "linkage.revoke"
    LOGIN_RESOLVE = "linkage.login_resolve"
    PERSON_LOOKUP = "linkage.person_lookup"
    MYNUMBER_LOOKUP = "linkage.mynumber_lookup"
    MYNUMBER_VIEW = "mynumber.view"  # an officer was shown a person's My Number
    # The counter compared a card's identity facts with the resident register (issue 10):
    # result match:face_to_face / match:unconfirmed / mismatch:<field names>.
    IDENTITY_CHECK = "counter.identity_check"


class SubjectKind(StrEnum):
    PERSON = "person"  # ref: integrated number
    CERTIFICATE = "certificate"  # ref: "<issuer key id hex>:<decimal serial>"
    NONE = "none"  # refused before a subject was known


@dataclass(frozen=True)
class Operator:
    """Who acts: the staff member (or kiosk service account) and the terminal."""

    operator_id: str
    terminal_id: str


@dataclass(frozen=True)
class Subject:
    kind: SubjectKind
    ref: str

    @classmethod
    def person(cls, integrated_number: str) -> Subject:
        return cls(SubjectKind.PERSON, integrated_number)

    @classmethod
    def certificate(cls, issuer_key_id: str | None, serial: int | str) -> Subject:
        return cls(SubjectKind.CERTIFICATE, f"{issuer_key_id or '*'}:{serial}")

    @classmethod
    def none(cls) -> Subject:
        return cls(SubjectKind.NONE, "-")


@dataclass(frozen=True)
class AuditEntry:
    seq: int
    recorded_at: str
    operator_id: str
    terminal_id: str
    operation: str
    subject_kind: str
    subject_ref: str
    result: str
    prev_hash: str
    hash: str

    def as_dict(self) -> dict[str, object]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class VerifyReport:
    ok: bool
    records: int
    head_seq: int
    head_hash: str
    bad_seq: int | None = None
    problem: str | None = None
    anchor_seq: int | None = None  # what the head file outside the database says

    def as_dict(self) -> dict[str, object]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class HeadAnchor:
    seq: int
    hash: str


class HeadFile:
    """The chain head kept outside the database, replaced atomically."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def read(self) -> HeadAnchor | None:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            return HeadAnchor(int(data["seq"]), str(data["hash"]))
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise StoreUnavailable(f"the audit head file {self.path} is unreadable: {exc}") from exc

    def write(self, anchor: HeadAnchor) -> None:
        body = json.dumps({"seq": anchor.seq, "hash": anchor.hash}, sort_keys=True)
        fd, tmp = tempfile.mkstemp(prefix=".audit-head-", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.write(body + "\n")
                out.flush()
                os.fsync(out.fileno())
            Path(tmp).replace(self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def default_head_file(store: Store) -> HeadFile | None:
    path = getattr(store, "path", None)
    return HeadFile(path.with_name(path.name + ".audit-head")) if path is not None else None


_TOKEN = re.compile(r"^[A-Za-z0-9_.:@*/+=-]{1,200}$")
_TWELVE_DIGITS = re.compile(r"(?<!\d)\d{12}(?!\d)")


def _check_token(label: str, value: object, max_len: int) -> str:
    if isinstance(value, MyNumber):
        raise AuditError(f"{label}: a My Number never goes into the audit trail")
    if not isinstance(value, str) or len(value) > max_len or not _TOKEN.match(value):
        raise AuditError(f"{label}: expected a short identifier, got {value!r}")
    return value


def canonical_bytes(seq: int, prev_hash: str, fields: dict[str, str]) -> bytes:
    """The exact bytes hashed for a record: sorted-key compact JSON, ASCII only."""
    document = {"seq": seq, "prev_hash": prev_hash, **fields}
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def record_hash(seq: int, prev_hash: str, fields: dict[str, str]) -> str:
    return hashlib.sha256(canonical_bytes(seq, prev_hash, fields)).hexdigest()


def _fields(row: AuditRecord) -> dict[str, str]:
    return {
        "recorded_at": row.recorded_at,
        "operator_id": row.operator_id,
        "terminal_id": row.terminal_id,
        "operation": row.operation,
        "subject_kind": row.subject_kind,
        "subject_ref": row.subject_ref,
        "result": row.result,
    }


def _entry(row: AuditRecord) -> AuditEntry:
    return AuditEntry(
        seq=row.seq,
        prev_hash=row.prev_hash,
        hash=row.hash,
        **_fields(row),
    )


def _utc_text(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class AuditTrail:
    """The audit trail in the terminal database."""

    def __init__(
        self,
        store: Store,
        *,
        clock: Callable[[], dt.datetime] | None = None,
        head_file: HeadFile | None = None,
    ) -> None:
        self.store = store
        self._clock = clock or utc_now
        self.head_file = head_file if head_file is not None else default_head_file(store)

    @staticmethod
    def lock_head(session: Session) -> AuditHead:
        """Lock the chain head for this transaction. Every write operation calls this
        first, so concurrent writers queue here (PostgreSQL: row lock; SQLite: the
        database lock taken by BEGIN IMMEDIATE)."""
        head = session.execute(
            select(AuditHead).where(AuditHead.id == 1).with_for_update()
        ).scalar_one()
        return head

    def record(
        self,
        session: Session,
        *,
        operator: Operator,
        operation: Operation | str,
        subject: Subject,
        result: str,
    ) -> AuditEntry:
        """Append one record inside the caller's transaction `session`."""
        operation = _check_token("operation", str(operation), 48)
        result = _check_token("result", result, 48)
        fields = {
            "recorded_at": _utc_text(self._clock()),
            "operator_id": _check_token("operator_id", operator.operator_id, 64),
            "terminal_id": _check_token("terminal_id", operator.terminal_id, 64),
            "operation": operation,
            "subject_kind": SubjectKind(subject.kind).value,
            "subject_ref": _check_token("subject_ref", subject.ref, 200),
            "result": result,
        }
        if _TWELVE_DIGITS.search(fields["subject_ref"]) and subject.kind != SubjectKind.CERTIFICATE:
            raise AuditError("subject_ref looks like a My Number; use the integrated number")
        head = self.lock_head(session)
        self._check_anchor(head.seq, head.hash)
        seq = head.seq + 1
        digest = record_hash(seq, head.hash, fields)
        row = AuditRecord(seq=seq, prev_hash=head.hash, hash=digest, **fields)
        session.add(row)
        head.seq, head.hash = seq, digest
        session.flush()
        self._anchor_after_commit(session, HeadAnchor(seq, digest))
        return _entry(row)

    def _check_anchor(self, seq: int, digest: str) -> None:
        """Refuse to extend a chain that is behind (or beside) its anchor."""
        if self.head_file is None:
            return
        anchor = self.head_file.read()
        if anchor is None or anchor.seq < seq:
            return  # fresh, or the anchor lags by a commit whose file write was cut
        if anchor.seq > seq or anchor.hash != digest:
            raise StoreUnavailable(
                f"the audit chain (head seq {seq}) disagrees with its head file "
                f"(seq {anchor.seq}): the database was truncated, replaced or started "
                "over; nothing is recorded until an operator has checked it (`mynaterm "
                f"audit verify`) and moved {self.head_file.path} aside for a new chain"
            )

    def _anchor_after_commit(self, session: Session, anchor: HeadAnchor) -> None:
        if self.head_file is None:
            return
        first = "mynaterm_audit_anchor" not in session.info
        session.info["mynaterm_audit_anchor"] = anchor  # the last append of the transaction
        if first:
            head_file = self.head_file

            def write(committed: Session) -> None:
                pending = committed.info.pop("mynaterm_audit_anchor", None)
                if pending is not None:
                    head_file.write(pending)

            def forget(rolled_back: Session) -> None:
                rolled_back.info.pop("mynaterm_audit_anchor", None)

            event.listen(session, "after_commit", write, once=True)
            event.listen(session, "after_rollback", forget, once=True)

    def record_now(
        self, *, operator: Operator, operation: Operation | str, subject: Subject, result: str
    ) -> AuditEntry:
        """Append one record in a transaction of its own (for events with no registry
        change, e.g. an officer viewing a My Number)."""
        with self.store.write() as session:
            return self.record(
                session, operator=operator, operation=operation, subject=subject, result=result
            )

    def record_mynumber_view(self, operator: Operator, integrated_number: str) -> AuditEntry:
        """The officer-reveals-My-Number event: who saw whose number (by integrated
        number), when. Call it before showing the number."""
        return self.record_now(
            operator=operator,
            operation=Operation.MYNUMBER_VIEW,
            subject=Subject.person(integrated_number),
            result="shown",
        )

    def list(
        self,
        *,
        since_seq: int = 0,
        limit: int = 100,
        subject: Subject | None = None,
    ) -> list[AuditEntry]:
        """Records with seq > since_seq, oldest first."""
        query = select(AuditRecord).where(AuditRecord.seq > since_seq)
        if subject is not None:
            query = query.where(
                AuditRecord.subject_kind == subject.kind.value,
                AuditRecord.subject_ref == subject.ref,
            )
        query = query.order_by(AuditRecord.seq).limit(limit)
        with self.store.read() as session:
            return [_entry(row) for row in session.execute(query).scalars()]

    def verify(self, *, batch: int = 5000) -> VerifyReport:
        """Walk the whole chain; report the first seq where it breaks."""
        with self.store.read() as session:
            head = session.execute(select(AuditHead).where(AuditHead.id == 1)).scalar_one()
            report = _verify_rows(_iter_records(session, batch), head.seq, head.hash)
            anchor = self.head_file.read() if self.head_file is not None else None
            if anchor is None:
                return report
            report = replace(report, anchor_seq=anchor.seq)
            if not report.ok:
                return report
            if report.records < anchor.seq:
                return replace(
                    report,
                    ok=False,
                    bad_seq=report.records + 1,
                    problem=f"the chain has {report.records} records but its head file "
                    f"says seq {anchor.seq}: the database was truncated or started over",
                )
            at_anchor = session.execute(
                select(AuditRecord.hash).where(AuditRecord.seq == anchor.seq)
            ).scalar_one_or_none()
            if anchor.seq > 0 and at_anchor != anchor.hash:
                return replace(
                    report,
                    ok=False,
                    bad_seq=anchor.seq,
                    problem=f"record {anchor.seq} is not the one the head file names: "
                    "the database was replaced",
                )
            return report


def _iter_records(session: Session, batch: int) -> Iterable[AuditRecord]:
    last = 0
    while True:
        rows = list(
            session.execute(
                select(AuditRecord)
                .where(AuditRecord.seq > last)
                .order_by(AuditRecord.seq)
                .limit(batch)
            ).scalars()
        )
        if not rows:
            return
        yield from rows
        last = rows[-1].seq


def _verify_rows(rows: Iterable[AuditRecord], head_seq: int, head_hash: str) -> VerifyReport:
    expected_seq, prev_hash, count = 1, GENESIS_HASH, 0

    def broken(seq: int, problem: str) -> VerifyReport:
        return VerifyReport(False, count, head_seq, head_hash, bad_seq=seq, problem=problem)

    for row in rows:
        if row.seq != expected_seq:
            return broken(expected_seq, f"record {expected_seq} is missing (next is {row.seq})")
        if row.prev_hash != prev_hash:
            return broken(row.seq, "prev_hash does not match the previous record's hash")
        if record_hash(row.seq, row.prev_hash, _fields(row)) != row.hash:
            return broken(row.seq, "record content does not match its hash")
        prev_hash, expected_seq, count = row.hash, expected_seq + 1, count + 1
    if head_seq != count or head_hash != prev_hash:
        return broken(
            count + 1 if head_seq > count else head_seq,
            f"chain ends at seq {count} but the head says seq {head_seq}",
        )
    return VerifyReport(True, count, head_seq, head_hash)
