"""Challenge stores: single use, session binding, expiry with injected time, replay."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from jpki.auth import (
    ChallengeExpiredError,
    ChallengeFileError,
    ChallengeNotFoundError,
    ChallengeReplayedError,
    FileChallengeStore,
    InMemoryChallengeStore,
)
from jpki.auth.challenge import NONCE_LENGTH, looks_like_nonce

T0 = datetime(2026, 4, 1, 9, 0, tzinfo=UTC)
ORIGIN = "https://portal.example.jp"


@pytest.fixture(params=["memory", "file"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> InMemoryChallengeStore:
    if request.param == "memory":
        return InMemoryChallengeStore(clock=lambda: T0)
    return FileChallengeStore(tmp_path / "challenges.json", clock=lambda: T0)  # type: ignore[return-value]


def test_issued_nonce_is_32_random_bytes_base64url(store: InMemoryChallengeStore) -> None:
    a = store.issue("s1", ORIGIN)
    b = store.issue("s1", ORIGIN)
    assert a.nonce != b.nonce
    assert len(a.nonce) == NONCE_LENGTH and looks_like_nonce(a.nonce)
    assert "=" not in a.nonce and "+" not in a.nonce and "/" not in a.nonce
    assert a.expires_at - a.issued_at == timedelta(minutes=5)
    assert (a.session_id, a.origin) == ("s1", ORIGIN)


def test_take_is_single_use_and_a_second_take_is_a_replay(store: InMemoryChallengeStore) -> None:
    c = store.issue("s1", ORIGIN)
    assert store.take(c.nonce, "s1") == c
    with pytest.raises(ChallengeReplayedError) as info:
        store.take(c.nonce, "s1")
    assert info.value.code == "CHALLENGE_REPLAYED"


def test_unknown_nonce_is_not_found(store: InMemoryChallengeStore) -> None:
    store.issue("s1", ORIGIN)
    with pytest.raises(ChallengeNotFoundError) as info:
        store.take("A" * NONCE_LENGTH, "s1")
    assert info.value.code == "CHALLENGE_NOT_FOUND"


def test_other_session_cannot_take_nor_burn_the_challenge(store: InMemoryChallengeStore) -> None:
    c = store.issue("owner", ORIGIN)
    with pytest.raises(ChallengeNotFoundError):
        store.take(c.nonce, "intruder")
    assert store.take(c.nonce, "owner").nonce == c.nonce


def test_expired_challenge_is_refused_and_consumed(store: InMemoryChallengeStore) -> None:
    c = store.issue("s1", ORIGIN, now=T0)
    late = T0 + timedelta(minutes=5, seconds=1)
    with pytest.raises(ChallengeExpiredError) as info:
        store.take(c.nonce, "s1", now=late)
    assert info.value.code == "CHALLENGE_EXPIRED"
    with pytest.raises(ChallengeReplayedError):
        store.take(c.nonce, "s1", now=late)


def test_just_before_expiry_is_accepted(store: InMemoryChallengeStore) -> None:
    c = store.issue("s1", ORIGIN, now=T0)
    assert store.take(c.nonce, "s1", now=T0 + timedelta(minutes=4, seconds=59)) == c


def test_consumed_nonces_are_forgotten_after_their_expiry(store: InMemoryChallengeStore) -> None:
    c = store.issue("s1", ORIGIN, now=T0)
    store.take(c.nonce, "s1", now=T0)
    with pytest.raises(ChallengeNotFoundError):
        store.take(c.nonce, "s1", now=T0 + timedelta(minutes=11))


def test_issue_requires_session_and_origin(store: InMemoryChallengeStore) -> None:
    with pytest.raises(ValueError, match="needs a session id"):
        store.issue("", ORIGIN)
    with pytest.raises(ValueError, match="needs an origin"):
        store.issue("s1", "")


def test_file_store_enforces_single_use_across_instances(tmp_path: Path) -> None:
    path = tmp_path / "challenges.json"
    c = FileChallengeStore(path).issue("s1", ORIGIN)
    assert FileChallengeStore(path).peek_session(c.nonce) == "s1"
    FileChallengeStore(path).take(c.nonce, "s1")
    with pytest.raises(ChallengeReplayedError):
        FileChallengeStore(path).take(c.nonce, "s1")


def test_file_store_rejects_a_corrupt_file(tmp_path: Path) -> None:
    path = tmp_path / "challenges.json"
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(ChallengeFileError):
        FileChallengeStore(path).issue("s1", ORIGIN)


def test_memory_store_hands_each_challenge_to_exactly_one_of_many_threads() -> None:
    store = InMemoryChallengeStore()
    c = store.issue("s1", ORIGIN)
    wins: list[str] = []
    losses: list[str] = []
    barrier = threading.Barrier(8)

    def racer() -> None:
        barrier.wait()
        try:
            wins.append(store.take(c.nonce, "s1").nonce)
        except ChallengeReplayedError as exc:
            losses.append(exc.code)

    threads = [threading.Thread(target=racer) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(wins) == 1 and len(losses) == 7
