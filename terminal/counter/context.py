"""What the counter's use cases work with, built by the CLI and by the service alike."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field

from jpki.auth import AuthTokenValidator, ChallengeStore
from jpki.validation import CertificateValidator
from terminal.audit.trail import Operator
from terminal.linkage.core_client import SymbolSource
from terminal.linkage.registry import LinkageRegistry

Clock = Callable[[], dt.datetime]
Progress = Callable[[str], None]


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def no_progress(_step: str) -> None:
    return None


@dataclass
class CounterContext:
    """The counter's parts. `challenges` + `token_validator` (bound to `origin`) prove
    that the card in the reader holds the auth key of the certificate being linked;
    `core` is the symbol core as the terminal's own municipality; `session_id` binds the
    proof's challenge to this counter session."""

    validator: CertificateValidator
    registry: LinkageRegistry
    core: SymbolSource
    challenges: ChallengeStore
    token_validator: AuthTokenValidator
    origin: str
    operator: Operator
    # Store the keyed My Number index when a My Number was read (needs the index key).
    index_my_number: bool = False
    session_id: str = field(default_factory=lambda: secrets.token_urlsafe(16))
    clock: Clock = field(default=utc_now)
