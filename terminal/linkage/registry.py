"""The linkage registry: certificate serials <-> persons <-> agency symbols.

Each operation is one transaction that also appends its audit record, so a link and
its record exist together or not at all. Every write transaction first locks the audit
head, which queues concurrent writers (several terminals on one PostgreSQL, or several
processes on one SQLite file); checks then run against committed data and unique
constraints back them up, so of two terminals issuing the same card exactly one wins.

Refused operations raise a `LinkageError` with a stable code and leave an audit record
of the refusal (in a transaction of its own, after the rollback).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import secrets
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import TypeVar

from sqlalchemy import and_, bindparam, select
from sqlalchemy.orm import Session

from jpki.clock import utc_now
from jpki.mynumber import MyNumber
from terminal.audit.trail import AuditTrail, Operation, Operator, Subject
from terminal.db.engine import Store
from terminal.db.errors import StoreConflict, StoreError
from terminal.db.models import Card, Certificate, Person, PersonSymbol
from terminal.linkage.errors import (
    ActiveCardExists,
    AlreadyRenewed,
    AmbiguousSerial,
    CertExpired,
    CertRevoked,
    ChainLoop,
    InvalidRequest,
    LinkageError,
    LinkConflict,
    MyNumberIndexMissing,
    NotLinked,
    SymbolConflict,
    UnknownPerson,
    UnknownSerial,
)
from terminal.linkage.secrets import MyNumberIndex
from terminal.linkage.types import (
    PORTAL_AGENCY,
    CertificateView,
    CertInfo,
    CertStatus,
    IssueResult,
    LinkedCertKind,
    LoginResolution,
    PersonRef,
    PersonView,
    RenewResult,
    RevocationReason,
    RevokeResult,
    normalize_key_id,
    parse_serial,
    validate_agency,
    validate_integrated_number,
)

T = TypeVar("T")
Clock = Callable[[], dt.datetime]
CommitHook = Callable[[str], None]


_utcnow = utc_now


def _new_integrated_number() -> str:
    # Random rather than sequential: says nothing about when or where a person was
    # registered, and needs no shared counter between terminals.
    return str(10**14 + secrets.randbelow(9 * 10**14))


class LinkageRegistry:
    """Registry operations on a `Store` (migrated). `before_commit` is a fault-injection
    seam: called inside each write transaction just before COMMIT."""

    def __init__(
        self,
        store: Store,
        *,
        audit: AuditTrail | None = None,
        mynumber_index: MyNumberIndex | None = None,
        clock: Clock | None = None,
        before_commit: CommitHook | None = None,
    ) -> None:
        self.store = store
        self._clock = clock or _utcnow
        self.audit = audit or AuditTrail(store, clock=self._clock)
        self._index = mynumber_index
        self._before_commit = before_commit

    # ---- transactions -------------------------------------------------------------

    @contextmanager
    def _write(self, operation: Operation) -> Iterator[Session]:
        with self.store.write() as session:
            AuditTrail.lock_head(session)
            yield session
            session.flush()
            if self._before_commit is not None:
                self._before_commit(operation.value)

    def _run(
        self,
        operation: Operation,
        operator: Operator,
        subject: Subject,
        body: Callable[[Session], tuple[T, Subject]],
    ) -> T:
        """Run `body` in one write transaction with its audit record; on refusal, roll
        back and record the refusal."""
        try:
            with self._write(operation) as session:
                result, final_subject = body(session)
                self.audit.record(
                    session,
                    operator=operator,
                    operation=operation,
                    subject=final_subject,
                    result="ok",
                )
                return result
        except StoreConflict as exc:
            # A unique constraint caught what the checks could not see: a concurrent
            # writer on a backend without the head lock, or a raced symbol.
            conflict = LinkConflict(f"already linked (constraint {exc.constraint or '?'})")
            self._record_refusal(operation, operator, subject, conflict)
            raise conflict from exc
        except LinkageError as exc:
            self._record_refusal(operation, operator, subject, exc)
            raise

    def _record_refusal(
        self, operation: Operation, operator: Operator, subject: Subject, exc: LinkageError
    ) -> None:
        # The refusal itself is what the caller must see, even if it cannot be recorded.
        with contextlib.suppress(StoreError):
            self.audit.record_now(
                operator=operator,
                operation=operation,
                subject=subject,
                result=f"refused:{exc.code}",
            )

    # ---- issuance -----------------------------------------------------------------

    def issue(
        self,
        person: PersonRef,
        auth: CertInfo,
        sign: CertInfo | None,
        symbols: Mapping[str, str],
        operator: Operator,
        *,
        request_id: str | None = None,
    ) -> IssueResult:
        """Link a new card's certificates to a person, with the person's symbols from
        the core (the portal symbol at least). `sign` is None for a card without a
        signature certificate (holders under 15). Replaying the same `request_id`
        returns the first result; any other re-use of a serial is LINK_CONFLICT."""
        clean_symbols = _check_symbols(symbols)
        _check_distinct(auth, sign)
        mn_hmac = self._mynumber_hmac(person.my_number)
        subject = Subject.certificate(auth.issuer_key_id, auth.serial)

        def body(session: Session) -> tuple[IssueResult, Subject]:
            if request_id is not None:
                replay = _issue_replay(session, request_id, auth)
                if replay is not None:
                    return replay, Subject.person(replay.integrated_number)
            for cert in (auth, sign):
                if cert is not None:
                    _refuse_if_linked(session, cert)
            target, created = self._find_or_create_person(session, person, clean_symbols, mn_hmac)
            _attach_symbols(session, target, clean_symbols)
            if not created:
                _refuse_if_active_card(session, target)
            card = _new_card(session, target, self._clock(), request_id)
            now = self._clock()
            _add_cert(session, auth, LinkedCertKind.AUTH, card, target, now)
            if sign is not None:
                _add_cert(session, sign, LinkedCertKind.SIGN, card, target, now)
            result = IssueResult(
                integrated_number=target.integrated_number,
                card_id=card.card_id,
                auth_serial=str(auth.serial),
                sign_serial=str(sign.serial) if sign else None,
                person_created=created,
            )
            return result, Subject.person(target.integrated_number)

        return self._run(Operation.ISSUE, operator, subject, body)

    def _mynumber_hmac(self, my_number: MyNumber | None) -> str | None:
        if my_number is None:
            return None
        if self._index is None:
            raise MyNumberIndexMissing("a My Number was given but no index key is configured")
        return self._index.digest(my_number)

    def _find_or_create_person(
        self,
        session: Session,
        ref: PersonRef,
        symbols: dict[str, str],
        mn_hmac: str | None,
    ) -> tuple[Person, bool]:
        by_symbol = session.execute(
            select(Person)
            .join(PersonSymbol)
            .where(
                PersonSymbol.agency == PORTAL_AGENCY, PersonSymbol.symbol == symbols[PORTAL_AGENCY]
            )
        ).scalar_one_or_none()
        person = by_symbol
        if ref.integrated_number is not None:
            person = _person_by_number(session, ref.integrated_number)
            if by_symbol is not None and by_symbol.id != person.id:
                raise SymbolConflict("the portal symbol belongs to another person")
        if mn_hmac is not None:
            by_number = session.execute(
                select(Person).where(Person.mynumber_hmac == mn_hmac)
            ).scalar_one_or_none()
            if by_number is not None and (person is None or by_number.id != person.id):
                raise LinkConflict("the My Number is registered for another person")
            if person is not None and person.mynumber_hmac not in (None, mn_hmac):
                raise LinkConflict("the person is registered with a different My Number")
        if person is None:
            person = Person(
                integrated_number=self._unused_integrated_number(session),
                mynumber_hmac=mn_hmac,
                created_at=self._clock(),
            )
            session.add(person)
            session.flush()
            return person, True
        if mn_hmac is not None:
            person.mynumber_hmac = mn_hmac
        return person, False

    @staticmethod
    def _unused_integrated_number(session: Session) -> str:
        while True:
            candidate = _new_integrated_number()
            taken = session.execute(
                select(Person.id).where(Person.integrated_number == candidate)
            ).first()
            if taken is None:
                return candidate

    # ---- renewal ------------------------------------------------------------------

    def renew(
        self,
        old_auth_serial: int | str,
        new_auth: CertInfo,
        new_sign: CertInfo | None,
        operator: Operator,
        *,
        old_issuer_key_id: str | None = None,
        request_id: str | None = None,
    ) -> RenewResult:
        """New card for a person already linked through `old_auth_serial`: chains old
        auth -> new auth and old sign -> new sign (新旧シリアル番号紐付け); the old
        certificates become `superseded` and stop resolving. Repeating the same renewal
        returns the first result."""
        old_serial = parse_serial(old_auth_serial)
        issuer = normalize_key_id(old_issuer_key_id) if old_issuer_key_id else None
        _check_distinct(new_auth, new_sign)
        subject = Subject.certificate(issuer, old_serial)

        def body(session: Session) -> tuple[RenewResult, Subject]:
            old = _one_cert(session, old_serial, issuer)
            if old.kind != LinkedCertKind.AUTH:
                raise InvalidRequest("renewal starts from the auth certificate's serial")
            subject_done = Subject.certificate(old.issuer_key_id, old.serial)
            replay = _renew_replay(session, old, new_auth, request_id)
            if replay is not None:
                return replay, subject_done
            if old.status == CertStatus.REVOKED:
                raise CertRevoked(
                    f"certificate {old.serial} was revoked ({old.revoked_reason}); "
                    "issue a new card instead of renewing",
                    status=old.status,
                    reason=old.revoked_reason,
                )
            for cert in (new_auth, new_sign):
                if cert is not None:
                    _refuse_if_linked(session, cert, same_person_is_loop=old.person_id)
            person = session.get(Person, old.person_id)
            assert person is not None
            old_card = session.get(Card, old.card_id)
            assert old_card is not None
            old_sign = session.execute(
                select(Certificate).where(
                    Certificate.card_id == old_card.id,
                    Certificate.kind == LinkedCertKind.SIGN.value,
                )
            ).scalar_one_or_none()
            now = self._clock()
            card = _new_card(session, person, now, request_id)
            old_card.status = "replaced"
            _supersede(old, now)
            _add_cert(session, new_auth, LinkedCertKind.AUTH, card, person, now, replaces=old)
            if old_sign is not None:
                _supersede(old_sign, now)
            if new_sign is not None:
                _add_cert(
                    session, new_sign, LinkedCertKind.SIGN, card, person, now, replaces=old_sign
                )
            result = RenewResult(
                integrated_number=person.integrated_number,
                card_id=card.card_id,
                old_auth_serial=old.serial,
                new_auth_serial=str(new_auth.serial),
                old_sign_serial=old_sign.serial if old_sign else None,
                new_sign_serial=str(new_sign.serial) if new_sign else None,
            )
            return result, subject_done

        return self._run(Operation.RENEW, operator, subject, body)

    # ---- renewal on the same card (issue 15) ---------------------------------------

    def renew_on_card(
        self,
        card_auth_serial: int | str,
        new_auth: CertInfo | None,
        new_sign: CertInfo | None,
        operator: Operator,
        *,
        move: bool = False,
    ) -> RenewResult:
        """New keys and certificates on the SAME card (電子証明書の更新), after the card
        confirmed them: the card's current certificates are superseded by the new ones
        of the same kind and chained to them (新旧シリアル番号紐付け); the card and the
        person stay. `card_auth_serial` names the card by its auth certificate as the
        registry has it now. `move`: a new sign certificate after a change of address;
        the old one is revoked (basic_facts_changed) rather than superseded. Running the
        same renewal again (a reconciliation) returns the first result, replayed."""
        if new_auth is None and new_sign is None:
            raise InvalidRequest("nothing to renew")
        if move and (new_sign is None or new_auth is not None):
            raise InvalidRequest("a move renews the sign certificate only")
        old_serial = parse_serial(card_auth_serial)
        if new_auth is not None and new_sign is not None:
            _check_distinct(new_auth, new_sign)
        subject = Subject.certificate(None, old_serial)

        def body(session: Session) -> tuple[RenewResult, Subject]:
            named = _one_cert(session, old_serial, None)
            if named.kind != LinkedCertKind.AUTH:
                raise InvalidRequest("the card is named by its auth certificate's serial")
            card = session.get(Card, named.card_id)
            person = session.get(Person, named.person_id)
            assert card is not None and person is not None
            done = Subject.certificate(named.issuer_key_id, named.serial)
            current = {
                cert.kind: cert
                for cert in session.execute(
                    select(Certificate).where(
                        Certificate.card_id == card.id,
                        Certificate.status == CertStatus.ACTIVE.value,
                    )
                ).scalars()
            }
            replay = _same_card_replay(session, person, card, named, new_auth, new_sign)
            if replay is not None:
                return replay, done
            if named.status != CertStatus.ACTIVE:
                raise CertRevoked(
                    f"certificate {named.serial} is {named.status} ({named.revoked_reason})",
                    status=named.status,
                    reason=named.revoked_reason,
                )
            now = self._clock()
            old_auth, old_sign = named, current.get(LinkedCertKind.SIGN.value)
            new_auth_serial = old_auth.serial
            new_sign_serial = old_sign.serial if old_sign else None
            if new_auth is not None:
                _refuse_if_linked(session, new_auth, same_person_is_loop=person.id)
                _supersede(old_auth, now)
                _add_cert(
                    session, new_auth, LinkedCertKind.AUTH, card, person, now, replaces=old_auth
                )
                new_auth_serial = str(new_auth.serial)
            if new_sign is not None:
                _refuse_if_linked(session, new_sign, same_person_is_loop=person.id)
                if old_sign is not None:
                    if move:
                        old_sign.status = CertStatus.REVOKED.value
                        old_sign.revoked_reason = RevocationReason.BASIC_FACTS_CHANGED.value
                        old_sign.revoked_at = now
                    else:
                        _supersede(old_sign, now)
                _add_cert(
                    session, new_sign, LinkedCertKind.SIGN, card, person, now, replaces=old_sign
                )
                new_sign_serial = str(new_sign.serial)
            result = RenewResult(
                integrated_number=person.integrated_number,
                card_id=card.card_id,
                old_auth_serial=old_auth.serial,
                new_auth_serial=new_auth_serial,
                old_sign_serial=old_sign.serial if old_sign else None,
                new_sign_serial=new_sign_serial,
            )
            return result, done

        return self._run(Operation.RENEW_ON_CARD, operator, subject, body)

    # ---- revocation ---------------------------------------------------------------

    def revoke(
        self,
        serial: int | str,
        reason: RevocationReason | str,
        operator: Operator,
        *,
        issuer_key_id: str | None = None,
    ) -> RevokeResult:
        """Revoke a certificate. For loss, death, card return and key compromise the
        card's other certificate goes too; for a change of the basic 4 facts (a move)
        only the named one (normally the sign certificate). Revoking a certificate that
        is already revoked changes nothing and says so."""
        number = parse_serial(serial)
        issuer = normalize_key_id(issuer_key_id) if issuer_key_id else None
        try:
            why = RevocationReason(reason)
        except ValueError as exc:
            raise InvalidRequest(
                f"reason must be one of {[r.value for r in RevocationReason]}"
            ) from exc
        subject = Subject.certificate(issuer, number)

        def body(session: Session) -> tuple[RevokeResult, Subject]:
            cert = _one_cert(session, number, issuer)
            targets = [cert]
            if why.whole_card:
                targets += session.execute(
                    select(Certificate).where(
                        Certificate.card_id == cert.card_id, Certificate.id != cert.id
                    )
                ).scalars()
            now = self._clock()
            revoked, already = [], []
            for target in targets:
                if target.status == CertStatus.ACTIVE:
                    target.status = CertStatus.REVOKED.value
                    target.revoked_reason = why.value
                    target.revoked_at = now
                    revoked.append(target.serial)
                else:
                    already.append(target.serial)
            session.flush()
            still_active = session.execute(
                select(Certificate.id).where(
                    Certificate.card_id == cert.card_id,
                    Certificate.status == CertStatus.ACTIVE.value,
                )
            ).first()
            card = session.get(Card, cert.card_id)
            assert card is not None
            if (why.whole_card or still_active is None) and card.status == "active":
                card.status = "revoked"
            person = session.get(Person, cert.person_id)
            assert person is not None
            result = RevokeResult(person.integrated_number, tuple(revoked), tuple(already))
            return result, Subject.certificate(cert.issuer_key_id, cert.serial)

        return self._run(Operation.REVOKE, operator, subject, body)

    # ---- login --------------------------------------------------------------------

    def resolve_login(
        self,
        auth_serial: int | str,
        issuer_key_id: str | bytes,
        *,
        operator: Operator | None = None,
        now: dt.datetime | None = None,
    ) -> LoginResolution:
        """The portal symbol for a validated auth certificate. A revoked or superseded
        (renewed) certificate is refused (CERT_REVOKED), as is one outside its validity
        (CERT_EXPIRED) or one not linked (NOT_LINKED). With `operator`, the lookup and
        its result are audited."""
        serial = str(parse_serial(auth_serial))
        issuer = normalize_key_id(issuer_key_id)
        when = now or self._clock()
        try:
            resolution = self._resolve(serial, issuer, when)
        except LinkageError as exc:
            if operator is not None:
                self._record_refusal(
                    Operation.LOGIN_RESOLVE, operator, Subject.certificate(issuer, serial), exc
                )
            raise
        if operator is not None:
            self.audit.record_now(
                operator=operator,
                operation=Operation.LOGIN_RESOLVE,
                subject=Subject.certificate(issuer, serial),
                result="ok",
            )
        return resolution

    def _resolve(self, serial: str, issuer: str, when: dt.datetime) -> LoginResolution:
        # The kiosk's hot path: one indexed query on a bare connection.
        row = self.store.fetch_first(_RESOLVE_QUERY, {"serial": serial, "issuer": issuer})
        if row is None or row.kind != LinkedCertKind.AUTH:
            raise NotLinked(f"no auth certificate {issuer}:{serial} is linked")
        if row.status != CertStatus.ACTIVE:
            raise CertRevoked(
                f"certificate {serial} is {row.status} ({row.revoked_reason})",
                status=row.status,
                reason=row.revoked_reason,
            )
        if not row.not_before <= when <= row.not_after:
            raise CertExpired(f"certificate {serial} is outside its validity period")
        if row.symbol is None:
            raise NotLinked(f"person {row.integrated_number} has no portal symbol")
        return LoginResolution(row.symbol, row.integrated_number, serial)

    # ---- lookups for the counter ---------------------------------------------------

    def person(self, integrated_number: str, *, operator: Operator | None = None) -> PersonView:
        validate_integrated_number(integrated_number)
        with self.store.read() as session:
            view = _person_view(session, _person_by_number(session, integrated_number))
        self._audit_lookup(operator, Operation.PERSON_LOOKUP, Subject.person(integrated_number))
        return view

    def person_by_serial(
        self,
        serial: int | str,
        *,
        issuer_key_id: str | None = None,
        operator: Operator | None = None,
    ) -> PersonView:
        number = parse_serial(serial)
        issuer = normalize_key_id(issuer_key_id) if issuer_key_id else None
        with self.store.read() as session:
            cert = _one_cert(session, number, issuer)
            person = session.get(Person, cert.person_id)
            assert person is not None
            view = _person_view(session, person)
        self._audit_lookup(operator, Operation.PERSON_LOOKUP, Subject.certificate(issuer, number))
        return view

    def person_by_symbol(
        self, agency: str, symbol: str, *, operator: Operator | None = None
    ) -> PersonView:
        """The person holding `agency`'s `symbol` (the counter finds a resident this way:
        resident code -> the core -> the municipality's own symbol). Audited."""
        validate_agency(agency)
        with self.store.read() as session:
            person = session.execute(
                select(Person)
                .join(PersonSymbol)
                .where(PersonSymbol.agency == agency, PersonSymbol.symbol == symbol)
            ).scalar_one_or_none()
            view = _person_view(session, person) if person is not None else None
        if operator is not None:
            self.audit.record_now(
                operator=operator,
                operation=Operation.PERSON_LOOKUP,
                subject=Subject.person(view.integrated_number) if view else Subject.none(),
                result="ok" if view else "not_found",
            )
        if view is None:
            raise UnknownPerson("no person is linked for that resident")
        return view

    def person_by_mynumber(self, my_number: MyNumber, operator: Operator) -> PersonView:
        """Find a person by My Number (authorised officers only; always audited)."""
        digest = self._mynumber_hmac(my_number)
        with self.store.read() as session:
            person = session.execute(
                select(Person).where(Person.mynumber_hmac == digest)
            ).scalar_one_or_none()
            view = _person_view(session, person) if person is not None else None
        subject = Subject.person(view.integrated_number) if view else Subject.none()
        self.audit.record_now(
            operator=operator,
            operation=Operation.MYNUMBER_LOOKUP,
            subject=subject,
            result="ok" if view else "not_found",
        )
        if view is None:
            raise UnknownPerson("no person is registered with that My Number")
        return view

    def certificate(
        self, serial: int | str, *, issuer_key_id: str | None = None
    ) -> CertificateView:
        number = parse_serial(serial)
        issuer = normalize_key_id(issuer_key_id) if issuer_key_id else None
        with self.store.read() as session:
            return _cert_view(session, _one_cert(session, number, issuer))

    def chain(
        self, serial: int | str, *, issuer_key_id: str | None = None
    ) -> list[CertificateView]:
        """The renewal history through this certificate, oldest first."""
        number = parse_serial(serial)
        issuer = normalize_key_id(issuer_key_id) if issuer_key_id else None
        with self.store.read() as session:
            start = _one_cert(session, number, issuer)
            older: list[Certificate] = []
            cursor = start
            while cursor.replaces_id is not None:
                previous = session.get(Certificate, cursor.replaces_id)
                assert previous is not None
                older.append(previous)
                cursor = previous
            newer: list[Certificate] = []
            cursor = start
            while (nxt := _successor(session, cursor)) is not None:
                newer.append(nxt)
                cursor = nxt
            return [_cert_view(session, c) for c in [*reversed(older), start, *newer]]

    def current_certificate(
        self, serial: int | str, *, issuer_key_id: str | None = None
    ) -> CertificateView:
        """Follow the renewal chain forward: the newest certificate that replaced this
        one (itself when never renewed). Says nothing about whether it may log in."""
        return self.chain(serial, issuer_key_id=issuer_key_id)[-1]

    def _audit_lookup(
        self, operator: Operator | None, operation: Operation, subject: Subject
    ) -> None:
        if operator is not None:
            self.audit.record_now(
                operator=operator, operation=operation, subject=subject, result="ok"
            )


# ---- helpers (each runs inside the caller's session) ----------------------------------

_RESOLVE_QUERY = (
    select(
        Certificate.kind,
        Certificate.status,
        Certificate.revoked_reason,
        Certificate.not_before,
        Certificate.not_after,
        Person.integrated_number,
        PersonSymbol.symbol,
    )
    .join(Person, Person.id == Certificate.person_id)
    .outerjoin(
        PersonSymbol,
        and_(PersonSymbol.person_id == Person.id, PersonSymbol.agency == PORTAL_AGENCY),
    )
    .where(
        Certificate.serial == bindparam("serial"),
        Certificate.issuer_key_id == bindparam("issuer"),
    )
)


def _check_symbols(symbols: Mapping[str, str]) -> dict[str, str]:
    clean: dict[str, str] = {}
    for agency, symbol in symbols.items():
        validate_agency(agency)
        if not isinstance(symbol, str) or not 8 <= len(symbol) <= 64 or not symbol.isascii():
            raise InvalidRequest(f"symbol for {agency!r} is not a core symbol")
        clean[agency] = symbol
    if PORTAL_AGENCY not in clean:
        raise InvalidRequest("the person's portal symbol is required to link a card")
    return clean


def _check_distinct(auth: CertInfo, sign: CertInfo | None) -> None:
    if not isinstance(auth, CertInfo) or (sign is not None and not isinstance(sign, CertInfo)):
        raise InvalidRequest("certificates must be given as CertInfo")
    if sign is not None and (auth.serial, auth.issuer_key_id) == (sign.serial, sign.issuer_key_id):
        raise InvalidRequest("the auth and sign certificates are the same certificate")


def _person_by_number(session: Session, integrated_number: str) -> Person:
    person = session.execute(
        select(Person).where(Person.integrated_number == integrated_number)
    ).scalar_one_or_none()
    if person is None:
        raise UnknownPerson(f"no person with integrated number {integrated_number}")
    return person


def _find_cert(session: Session, cert: CertInfo) -> Certificate | None:
    return session.execute(
        select(Certificate).where(
            Certificate.serial == str(cert.serial), Certificate.issuer_key_id == cert.issuer_key_id
        )
    ).scalar_one_or_none()


def _one_cert(session: Session, serial: int, issuer: str | None) -> Certificate:
    query = select(Certificate).where(Certificate.serial == str(serial))
    if issuer is not None:
        query = query.where(Certificate.issuer_key_id == issuer)
    found = list(session.execute(query.limit(2)).scalars())
    if not found:
        raise UnknownSerial(f"serial {serial} is not linked to anyone")
    if len(found) > 1:
        raise AmbiguousSerial(f"serial {serial} exists under several issuers; give the issuer")
    return found[0]


def _refuse_if_linked(
    session: Session, cert: CertInfo, *, same_person_is_loop: int | None = None
) -> None:
    existing = _find_cert(session, cert)
    if existing is None:
        return
    if same_person_is_loop is not None and existing.person_id == same_person_is_loop:
        raise ChainLoop(f"serial {cert.serial} is already in this person's history")
    raise LinkConflict(f"serial {cert.serial} is already linked")


def _refuse_if_active_card(session: Session, person: Person) -> None:
    active = session.execute(
        select(Card.card_id).where(Card.person_id == person.id, Card.status == "active")
    ).first()
    if active is not None:
        raise ActiveCardExists(
            f"person {person.integrated_number} has active card {active[0]}; "
            "revoke it or renew instead"
        )


def _attach_symbols(session: Session, person: Person, symbols: dict[str, str]) -> None:
    held = {
        s.agency: s
        for s in session.execute(
            select(PersonSymbol).where(PersonSymbol.person_id == person.id)
        ).scalars()
    }
    for agency, symbol in symbols.items():
        if agency in held:
            if held[agency].symbol != symbol:
                raise SymbolConflict(f"the person already has another {agency} symbol")
            continue
        owner = session.execute(
            select(PersonSymbol.person_id).where(
                PersonSymbol.agency == agency, PersonSymbol.symbol == symbol
            )
        ).first()
        if owner is not None:
            raise SymbolConflict(f"the {agency} symbol belongs to another person")
        session.add(PersonSymbol(person_id=person.id, agency=agency, symbol=symbol))


def _new_card(session: Session, person: Person, now: dt.datetime, request_id: str | None) -> Card:
    if request_id is not None and not 1 <= len(request_id) <= 64:
        raise InvalidRequest("request_id must be 1-64 characters")
    card = Card(
        card_id=uuid.uuid4().hex,
        person_id=person.id,
        status="active",
        issued_at=now,
        request_id=request_id,
    )
    session.add(card)
    session.flush()
    return card


def _add_cert(
    session: Session,
    info: CertInfo,
    kind: LinkedCertKind,
    card: Card,
    person: Person,
    now: dt.datetime,
    *,
    replaces: Certificate | None = None,
) -> Certificate:
    cert = Certificate(
        serial=str(info.serial),
        issuer_key_id=info.issuer_key_id,
        kind=kind.value,
        not_before=info.not_before,
        not_after=info.not_after,
        status=CertStatus.ACTIVE.value,
        card_id=card.id,
        person_id=person.id,
        replaces_id=replaces.id if replaces is not None else None,
        created_at=now,
    )
    session.add(cert)
    session.flush()
    return cert


def _supersede(cert: Certificate, now: dt.datetime) -> None:
    if cert.status == CertStatus.ACTIVE:
        cert.status = CertStatus.SUPERSEDED.value
        cert.revoked_reason = RevocationReason.RENEWAL.value
        cert.revoked_at = now


def _successor(session: Session, cert: Certificate) -> Certificate | None:
    return session.execute(
        select(Certificate).where(Certificate.replaces_id == cert.id)
    ).scalar_one_or_none()


def _issue_replay(session: Session, request_id: str, auth: CertInfo) -> IssueResult | None:
    card = session.execute(select(Card).where(Card.request_id == request_id)).scalar_one_or_none()
    if card is None:
        return None
    certs = {
        c.kind: c
        for c in session.execute(
            select(Certificate).where(Certificate.card_id == card.id)
        ).scalars()
    }
    linked = certs.get(LinkedCertKind.AUTH.value)
    if linked is None or (linked.serial, linked.issuer_key_id) != (
        str(auth.serial),
        auth.issuer_key_id,
    ):
        raise LinkConflict(f"request id {request_id!r} was used for another card")
    person = session.get(Person, card.person_id)
    assert person is not None
    sign = certs.get(LinkedCertKind.SIGN.value)
    return IssueResult(
        person.integrated_number,
        card.card_id,
        linked.serial,
        sign.serial if sign else None,
        person_created=False,
        replayed=True,
    )


def _renew_replay(
    session: Session, old: Certificate, new_auth: CertInfo, request_id: str | None
) -> RenewResult | None:
    if old.status != CertStatus.SUPERSEDED:
        if (
            request_id is not None
            and session.execute(select(Card.id).where(Card.request_id == request_id)).first()
            is not None
        ):
            raise LinkConflict(f"request id {request_id!r} was used for another card")
        return None
    successor = _successor(session, old)
    if successor is None or (successor.serial, successor.issuer_key_id) != (
        str(new_auth.serial),
        new_auth.issuer_key_id,
    ):
        current = successor.serial if successor else "?"
        raise AlreadyRenewed(f"certificate {old.serial} was already renewed to {current}")
    card = session.get(Card, successor.card_id)
    person = session.get(Person, old.person_id)
    assert card is not None and person is not None
    old_sign = session.execute(
        select(Certificate).where(
            Certificate.card_id == old.card_id, Certificate.kind == LinkedCertKind.SIGN.value
        )
    ).scalar_one_or_none()
    new_sign = session.execute(
        select(Certificate).where(
            Certificate.card_id == card.id, Certificate.kind == LinkedCertKind.SIGN.value
        )
    ).scalar_one_or_none()
    return RenewResult(
        person.integrated_number,
        card.card_id,
        old.serial,
        successor.serial,
        old_sign.serial if old_sign else None,
        new_sign.serial if new_sign else None,
        replayed=True,
    )


def _same_card_replay(
    session: Session,
    person: Person,
    card: Card,
    named: Certificate,
    new_auth: CertInfo | None,
    new_sign: CertInfo | None,
) -> RenewResult | None:
    """The earlier result when these new certificates are already linked to this card
    (the same renewal committed before); LinkConflict when one of them is linked
    elsewhere; None when this renewal has not happened yet."""
    found = {
        kind: _find_cert(session, info)
        for kind, info in ((LinkedCertKind.AUTH, new_auth), (LinkedCertKind.SIGN, new_sign))
        if info is not None
    }
    if not any(found.values()):
        return None
    for cert in found.values():
        if cert is None or cert.card_id != card.id:
            raise LinkConflict("the new certificates are linked elsewhere or only in part")
    auth = found.get(LinkedCertKind.AUTH) or named
    sign = found.get(LinkedCertKind.SIGN)
    old_auth = session.get(Certificate, auth.replaces_id) if LinkedCertKind.AUTH in found else named
    old_sign = session.get(Certificate, sign.replaces_id) if sign and sign.replaces_id else None
    assert old_auth is not None
    return RenewResult(
        integrated_number=person.integrated_number,
        card_id=card.card_id,
        old_auth_serial=old_auth.serial,
        new_auth_serial=auth.serial,
        old_sign_serial=old_sign.serial if old_sign else None,
        new_sign_serial=sign.serial if sign else None,
        replayed=True,
    )


def _cert_view(session: Session, cert: Certificate) -> CertificateView:
    card = session.get(Card, cert.card_id)
    person = session.get(Person, cert.person_id)
    assert card is not None and person is not None
    previous = session.get(Certificate, cert.replaces_id) if cert.replaces_id else None
    successor = _successor(session, cert)
    return CertificateView(
        serial=cert.serial,
        issuer_key_id=cert.issuer_key_id,
        kind=cert.kind,
        status=cert.status,
        not_before=cert.not_before,
        not_after=cert.not_after,
        revoked_reason=cert.revoked_reason,
        revoked_at=cert.revoked_at,
        card_id=card.card_id,
        integrated_number=person.integrated_number,
        replaces_serial=previous.serial if previous else None,
        replaced_by_serial=successor.serial if successor else None,
    )


def _person_view(session: Session, person: Person) -> PersonView:
    symbols = {
        s.agency: s.symbol
        for s in session.execute(
            select(PersonSymbol)
            .where(PersonSymbol.person_id == person.id)
            .order_by(PersonSymbol.agency)
        ).scalars()
    }
    certs = session.execute(
        select(Certificate).where(Certificate.person_id == person.id).order_by(Certificate.id)
    ).scalars()
    return PersonView(
        integrated_number=person.integrated_number,
        symbols=symbols,
        certificates=tuple(_cert_view(session, c) for c in certs),
        has_mynumber_index=person.mynumber_hmac is not None,
    )
