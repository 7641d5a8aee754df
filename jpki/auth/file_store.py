"""A ChallengeStore kept in a small JSON file, for the command line: `auth challenge`
and `auth verify` run as separate processes, and single use must hold across them.

The file holds nonces, session ids and origins only (nothing secret about the holder).
Every operation reads, changes and rewrites the file under an exclusive lock."""

from __future__ import annotations

import fcntl
import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from jpki.auth.challenge import (
    DEFAULT_LIFETIME,
    Challenge,
    ChallengeBook,
    Clock,
    utc_now,
)

FILE_VERSION = 1


class ChallengeFileError(Exception):
    """The challenge file exists but cannot be read as one."""

    code = "CHALLENGE_STORE"


class FileChallengeStore:
    def __init__(
        self, path: Path, *, lifetime: timedelta = DEFAULT_LIFETIME, clock: Clock = utc_now
    ) -> None:
        if lifetime <= timedelta(0):
            raise ValueError("challenge lifetime must be positive")
        self.path = path
        self.lifetime = lifetime
        self._clock = clock

    def issue(self, session_id: str, origin: str, *, now: datetime | None = None) -> Challenge:
        with self._book() as book:
            return book.issue(session_id, origin, now or self._clock(), self.lifetime)

    def take(self, nonce: str, session_id: str, *, now: datetime | None = None) -> Challenge:
        with self._book() as book:
            return book.take(nonce, session_id, now or self._clock())

    def peek_session(self, nonce: str) -> str | None:
        """The session a live challenge was issued to (the CLI, acting as its own
        relying party, has no other place to keep it)."""
        with self._book() as book:
            challenge = book.live.get(nonce)
            return challenge.session_id if challenge else None

    @contextmanager
    def _book(self) -> Iterator[ChallengeBook]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        lock_path = self.path.with_name(self.path.name + ".lock")
        with lock_path.open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                book = self._load()
                # Saved even when the operation raises: an expired or replayed take
                # still consumed the nonce.
                try:
                    yield book
                finally:
                    self._save(book)
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _load(self) -> ChallengeBook:
        if not self.path.exists():
            return ChallengeBook()
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
            if raw.get("version") != FILE_VERSION:
                raise ChallengeFileError(f"{self.path}: unknown version {raw.get('version')!r}")
            live = {c["nonce"]: _challenge_from_json(c) for c in raw["live"]}
            consumed = {n: datetime.fromisoformat(t) for n, t in raw["consumed"].items()}
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ChallengeFileError(f"{self.path} is not a challenge file: {exc}") from exc
        return ChallengeBook(live, consumed)

    def _save(self, book: ChallengeBook) -> None:
        payload = {
            "version": FILE_VERSION,
            "live": [_challenge_to_json(c) for c in book.live.values()],
            "consumed": {n: t.isoformat() for n, t in book.consumed.items()},
        }
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text(json.dumps(payload, indent=1), encoding="utf-8")
        tmp.replace(self.path)


def _challenge_to_json(c: Challenge) -> dict[str, Any]:
    return {
        "nonce": c.nonce,
        "session_id": c.session_id,
        "origin": c.origin,
        "issued_at": c.issued_at.isoformat(),
        "expires_at": c.expires_at.isoformat(),
    }


def _challenge_from_json(raw: dict[str, Any]) -> Challenge:
    issued = datetime.fromisoformat(raw["issued_at"])
    expires = datetime.fromisoformat(raw["expires_at"])
    if issued.tzinfo is None or expires.tzinfo is None:
        raise ValueError("times must carry a timezone")
    return Challenge(str(raw["nonce"]), str(raw["session_id"]), str(raw["origin"]), issued, expires)
