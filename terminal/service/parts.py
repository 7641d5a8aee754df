"""Attach the lower layers to a ServiceContext: validation (a certificate validator and
the challenges and login tokens built on it) and the linkage registry with its audit
trail and the symbol core. Used by the settings wiring, the dev wing (demo, local test
PKI) and the tests, so all run the same code."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from jpki.auth import AuthTokenValidator, InMemoryChallengeStore
from terminal.service.context import ServiceContext

if TYPE_CHECKING:
    from jpki.validation import CertificateValidator


def attach_validator(ctx: ServiceContext, validator: CertificateValidator) -> None:
    """`validator` for certificates, and the challenge store and token validator built
    on it."""
    ctx.validator = validator
    ctx.challenges = InMemoryChallengeStore(
        lifetime=timedelta(seconds=ctx.settings.challenge_ttl_seconds)
    )
    ctx.token_validator = AuthTokenValidator(
        ctx.validator, ctx.challenges, ctx.settings.portal_origin
    )


def attach_registry(
    ctx: ServiceContext, store: Any, core: Any, *, mynumber_index: Any | None = None
) -> None:
    """The linkage registry on `store` (migrated), the core client for symbols, and the
    keyed My Number index (None: numbers are not indexed, reveal is unavailable)."""
    from terminal.linkage import LinkageRegistry
    from terminal.service.sessions import DbSessionStore

    ctx.registry = LinkageRegistry(store, mynumber_index=mynumber_index)
    # Sessions live in the same database: a sign-out holds across restarts.
    ctx.operators.use_store(DbSessionStore(store))
    ctx.audit = ctx.registry.audit
    ctx.core = core
    ctx.mynumber_index = mynumber_index
