"""Server-side operator sessions and the sign-in lockout.

A session token is 32 random bytes; the service keeps only its SHA-256, with who, which
page, when it was made, last seen, when it expires and whether it was signed out. So a
signed-out token stays dead after a restart (the store is the terminal database when
one is configured) and a session left alone expires on idle.

The lockout keeps per-account state for the accounts that exist, and a separate,
bounded table for names that do not, so spraying unknown names can neither grow memory
without bound nor push a real account's failures out. A lock is a back-off that always
expires (doubling per lock, capped); attempts while locked are refused without being
counted, so nobody can keep an account locked for longer than the cap by guessing its
name. Locks are per (account, client address): a stranger's guesses lock the
stranger's address, never a client that has not failed for that account (the clerk at
their own terminal); guesses from many addresses add up to an account-wide ceiling that
then locks every address that took part (distributed guessing)."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Literal, Protocol

if TYPE_CHECKING:
    from terminal.db.engine import Store

Page = Literal["counter", "kiosk"]
PAGES: tuple[Page, ...] = ("counter", "kiosk")


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(32)


@dataclass(frozen=True)
class SessionRecord:
    token_sha256: str
    username: str
    roles: tuple[str, ...]
    page: Page
    created_at: dt.datetime
    last_seen_at: dt.datetime
    expires_at: dt.datetime
    revoked_at: dt.datetime | None = None


class SessionStore(Protocol):
    def put(self, record: SessionRecord) -> None: ...
    def get(self, token_sha256: str) -> SessionRecord | None: ...
    def touch(self, token_sha256: str, at: dt.datetime) -> None: ...
    def revoke(self, token_sha256: str, at: dt.datetime) -> None: ...
    def revoke_operator(self, username: str, at: dt.datetime) -> int: ...


class MemorySessionStore:
    """Sessions in this process only (no database configured): they end with it, so a
    signed-out token cannot come back after a restart either."""

    # Live sessions beyond this evict the oldest (a flood of sign-ins cannot exhaust
    # memory; the evicted ones simply have to sign in again).
    MAX_SESSIONS = 10_000

    def __init__(self) -> None:
        self._records: OrderedDict[str, SessionRecord] = OrderedDict()
        self._lock = threading.Lock()

    def put(self, record: SessionRecord) -> None:
        with self._lock:
            self._records[record.token_sha256] = record
            while len(self._records) > self.MAX_SESSIONS:
                self._records.popitem(last=False)

    def get(self, token_sha256: str) -> SessionRecord | None:
        return self._records.get(token_sha256)

    def touch(self, token_sha256: str, at: dt.datetime) -> None:
        with self._lock:
            record = self._records.get(token_sha256)
            if record is not None:
                self._records[token_sha256] = replace(record, last_seen_at=at)

    def revoke(self, token_sha256: str, at: dt.datetime) -> None:
        with self._lock:
            record = self._records.get(token_sha256)
            if record is not None:
                self._records[token_sha256] = replace(record, revoked_at=at)

    def revoke_operator(self, username: str, at: dt.datetime) -> int:
        with self._lock:
            hits = [k for k, r in self._records.items() if r.username == username]
            for key in hits:
                self._records[key] = replace(self._records[key], revoked_at=at)
        return len(hits)


class DbSessionStore:
    """Sessions in the terminal database (table operator_sessions, migration 0003)."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def put(self, record: SessionRecord) -> None:
        from sqlalchemy import delete

        from terminal.db.models import OperatorSession

        with self._store.write() as session:
            # Expired rows are of no use to anyone: drop them as new ones come in.
            session.execute(
                delete(OperatorSession).where(OperatorSession.expires_at < record.created_at)
            )
            session.add(
                OperatorSession(
                    token_sha256=record.token_sha256,
                    operator_id=record.username,
                    roles=",".join(record.roles),
                    page=record.page,
                    created_at=record.created_at,
                    last_seen_at=record.last_seen_at,
                    expires_at=record.expires_at,
                    revoked_at=None,
                )
            )

    def get(self, token_sha256: str) -> SessionRecord | None:
        from terminal.db.models import OperatorSession

        with self._store.read() as session:
            row = session.get(OperatorSession, token_sha256)
            if row is None:
                return None
            page: Page = "kiosk" if row.page == "kiosk" else "counter"
            return SessionRecord(
                token_sha256=row.token_sha256,
                username=row.operator_id,
                roles=tuple(r for r in row.roles.split(",") if r),
                page=page,
                created_at=row.created_at,
                last_seen_at=row.last_seen_at,
                expires_at=row.expires_at,
                revoked_at=row.revoked_at,
            )

    def touch(self, token_sha256: str, at: dt.datetime) -> None:
        from sqlalchemy import update

        from terminal.db.models import OperatorSession

        with self._store.write() as session:
            session.execute(
                update(OperatorSession)
                .where(OperatorSession.token_sha256 == token_sha256)
                .values(last_seen_at=at)
            )

    def revoke(self, token_sha256: str, at: dt.datetime) -> None:
        from sqlalchemy import update

        from terminal.db.models import OperatorSession

        with self._store.write() as session:
            session.execute(
                update(OperatorSession)
                .where(OperatorSession.token_sha256 == token_sha256)
                .values(revoked_at=at)
            )

    def revoke_operator(self, username: str, at: dt.datetime) -> int:
        from sqlalchemy import update

        from terminal.db.models import OperatorSession

        with self._store.write() as session:
            result = session.execute(
                update(OperatorSession)
                .where(OperatorSession.operator_id == username)
                .where(OperatorSession.revoked_at.is_(None))
                .values(revoked_at=at)
            )
            return int(getattr(result, "rowcount", 0) or 0)


# ---------------------------------------------------------------------------------------
# Lockout


@dataclass
class _Failures:
    times: list[float]
    locked_until: float = 0.0
    locks: int = 0  # consecutive locks: the back-off doubles with each
    last_lock: float = 0.0


class SignInLockout:
    """Failed sign-ins, per (account, client) and per account, with expiring back-off."""

    MAX_FAILURES = 5  # per (account, client) within the window, then a lock
    ACCOUNT_CEILING = 50  # per account from all clients within the window, then a lock
    WINDOW = 300.0
    BASE_LOCK = 30.0
    MAX_LOCK = 900.0  # a lock never lasts longer than this
    MAX_UNKNOWN = 10_000  # unknown user names remembered (least recently seen goes)

    def __init__(self, known: frozenset[str]) -> None:
        self._known = set(known)
        self._pair: dict[tuple[str, str], _Failures] = {}
        self._account: dict[str, _Failures] = {}
        self._unknown: OrderedDict[tuple[str, str], _Failures] = OrderedDict()
        self._lock = threading.Lock()

    def add_known(self, username: str) -> None:
        with self._lock:
            self._known.add(username)

    def locked(self, username: str, client: str, now: float | None = None) -> float:
        """Seconds until sign-in may be tried again (0: not locked)."""
        now = time.monotonic() if now is None else now
        with self._lock:
            pair, account = self._entries(username, client, create=False)
            if pair is None:
                # A client that has not failed for this account is never locked out by
                # others' guesses: the clerk at their own terminal still signs in.
                return 0.0
            waits = [pair.locked_until - now]
            if account is not None:
                waits.append(account.locked_until - now)
        return max(0.0, *waits)

    def failed(self, username: str, client: str, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        with self._lock:
            pair, account = self._entries(username, client, create=True)
            assert pair is not None
            self._count(pair, now, self.MAX_FAILURES)
            if account is not None:
                self._count(account, now, self.ACCOUNT_CEILING)

    def succeeded(self, username: str, client: str) -> None:
        with self._lock:
            self._pair.pop((username, client), None)  # the account ceiling stays
            self._unknown.pop((username, client), None)

    def _entries(
        self, username: str, client: str, *, create: bool
    ) -> tuple[_Failures | None, _Failures | None]:
        key = (username, client)
        if username in self._known:
            pair = self._pair.get(key)
            if pair is None and create:
                # Bounded by accounts x client addresses; addresses are few at a counter,
                # and the oldest pair entries go first if that ever grows.
                pair = self._pair[key] = _Failures([])
                if len(self._pair) > self.MAX_UNKNOWN * 4:
                    self._pair.pop(next(iter(self._pair)))
            account = self._account.get(username)
            if account is None and create:
                account = self._account[username] = _Failures([])
            return pair, account
        entry = self._unknown.get(key)
        if entry is None and create:
            entry = self._unknown[key] = _Failures([])
            while len(self._unknown) > self.MAX_UNKNOWN:
                self._unknown.popitem(last=False)  # only unknown names are ever forgotten
        elif entry is not None:
            self._unknown.move_to_end(key)
        return entry, None

    def _count(self, entry: _Failures, now: float, limit: int) -> None:
        if entry.locked_until > now:
            return  # attempts while locked do not extend the lock
        if entry.last_lock and now - entry.last_lock > self.MAX_LOCK + self.WINDOW:
            entry.locks = 0  # quiet for long enough: the back-off starts over
        entry.times = [t for t in entry.times if now - t < self.WINDOW]
        entry.times.append(now)
        if len(entry.times) >= limit:
            entry.locks += 1
            entry.locked_until = now + min(self.MAX_LOCK, self.BASE_LOCK * 2 ** (entry.locks - 1))
            entry.last_lock = now
            entry.times = []
