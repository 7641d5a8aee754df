"""Single-use login challenges (nonces), bound to a session and an origin.

A challenge is handed to the terminal, signed by the card together with the origin, and
must come back once, from the same session, before it expires. `take` deletes it, so a
captured token cannot be replayed; consumed nonces are remembered until they would have
expired, so a replay is reported as such rather than as an unknown nonce."""

from __future__ import annotations

import base64
import secrets
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from jpki.auth.errors import (
    ChallengeExpiredError,
    ChallengeNotFoundError,
    ChallengeReplayedError,
)
from jpki.clock import Clock as Clock  # re-exported
from jpki.clock import utc_now as utc_now

NONCE_BYTES = 32
DEFAULT_LIFETIME = timedelta(minutes=5)
# How long past its expiry a nonce is still remembered; after that it is simply unknown.
FORGET_AFTER = timedelta(minutes=5)
# A nonce is the base64url text of NONCE_BYTES random bytes, without padding.
NONCE_LENGTH = 43


@dataclass(frozen=True)
class Challenge:
    nonce: str
    session_id: str
    origin: str
    issued_at: datetime
    expires_at: datetime

    def expired(self, now: datetime) -> bool:
        return now >= self.expires_at


def new_nonce() -> str:
    """A fresh nonce: 32 bytes from the OS CSPRNG, base64url without padding."""
    return base64.urlsafe_b64encode(secrets.token_bytes(NONCE_BYTES)).rstrip(b"=").decode()


def looks_like_nonce(nonce: str) -> bool:
    """Shape check, so garbage never reaches a store lookup or a log line."""
    if len(nonce) != NONCE_LENGTH:
        return False
    try:
        return len(base64.urlsafe_b64decode(nonce + "=")) == NONCE_BYTES
    except ValueError:
        return False


class ChallengeStore(Protocol):
    def issue(self, session_id: str, origin: str, *, now: datetime | None = None) -> Challenge:
        """Create and remember a challenge for this session and origin."""
        ...

    def take(self, nonce: str, session_id: str, *, now: datetime | None = None) -> Challenge:
        """Remove and return the challenge. Raises ChallengeNotFoundError (unknown, or
        issued to another session), ChallengeReplayedError (already taken) or
        ChallengeExpiredError (taken too late; it is removed all the same)."""
        ...


class ChallengeBook:
    """The bookkeeping shared by stores: live challenges and consumed nonces. Not
    thread-safe by itself; stores wrap it in their own lock."""

    def __init__(
        self,
        live: dict[str, Challenge] | None = None,
        consumed: dict[str, datetime] | None = None,
    ) -> None:
        self.live: dict[str, Challenge] = live if live is not None else {}
        self.consumed: dict[str, datetime] = consumed if consumed is not None else {}

    def purge(self, now: datetime) -> None:
        """Forget what no one can present usefully any more: live challenges and consumed
        nonces whose expiry lies more than FORGET_AFTER in the past. Until then a late
        or repeated answer is still told apart (expired, replayed) from an unknown one.

        Both dicts are kept in insertion order, which is (nearly) expiry order, so only
        the oldest entries are looked at: amortised O(1) per operation. An entry out of
        order merely lingers until the ones before it go; `take` checks expiry itself."""
        horizon = now - FORGET_AFTER
        while self.live:
            nonce, challenge = next(iter(self.live.items()))
            if challenge.expires_at > horizon:
                break
            del self.live[nonce]
        while self.consumed:
            nonce, expires_at = next(iter(self.consumed.items()))
            if expires_at > horizon:
                break
            del self.consumed[nonce]

    def issue(self, session_id: str, origin: str, now: datetime, lifetime: timedelta) -> Challenge:
        if not session_id:
            raise ValueError("a challenge needs a session id")
        if not origin:
            raise ValueError("a challenge needs an origin")
        self.purge(now)
        challenge = Challenge(new_nonce(), session_id, origin, now, now + lifetime)
        self.live[challenge.nonce] = challenge
        return challenge

    def take(self, nonce: str, session_id: str, now: datetime) -> Challenge:
        self.purge(now)
        challenge = self.live.get(nonce)
        if challenge is None:
            if nonce in self.consumed:
                raise ChallengeReplayedError("this challenge was already used")
            raise ChallengeNotFoundError("no such challenge")
        if challenge.session_id != session_id:
            # Left in place: a stranger who learned the nonce must not be able to burn
            # the owner's challenge.
            raise ChallengeNotFoundError("no such challenge for this session")
        del self.live[nonce]
        self.consumed[nonce] = challenge.expires_at
        if challenge.expired(now):
            expired_at = challenge.expires_at.isoformat(timespec="seconds")
            raise ChallengeExpiredError(f"the challenge expired at {expired_at}")
        return challenge


class InMemoryChallengeStore:
    """A thread-safe ChallengeStore in process memory (one service instance)."""

    def __init__(self, *, lifetime: timedelta = DEFAULT_LIFETIME, clock: Clock = utc_now) -> None:
        if lifetime <= timedelta(0):
            raise ValueError("challenge lifetime must be positive")
        self.lifetime = lifetime
        self._clock = clock
        self._lock = threading.Lock()
        self._book = ChallengeBook()

    def issue(self, session_id: str, origin: str, *, now: datetime | None = None) -> Challenge:
        with self._lock:
            return self._book.issue(session_id, origin, now or self._clock(), self.lifetime)

    def take(self, nonce: str, session_id: str, *, now: datetime | None = None) -> Challenge:
        with self._lock:
            return self._book.take(nonce, session_id, now or self._clock())

    def __len__(self) -> int:
        with self._lock:
            return len(self._book.live)
