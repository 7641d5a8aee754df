"""Attach the lower layers to a ServiceContext: validation (trust anchors, revocation,
challenges, login tokens) and the linkage registry with its audit trail and the symbol
core. Used by the settings wiring, the demo and the tests, so all run the same code."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from jpki.auth import AuthTokenValidator, InMemoryChallengeStore
from jpki.validation import CertificateValidator, TrustStore
from terminal.service.context import ServiceContext
from terminal.service.revocation import RefreshingCrlRevocation, test_pki_crl_source


def attach_validation(ctx: ServiceContext, pki: Any, *, crl_max_age: float = 30.0) -> None:
    """Trust the test PKI's CA generations; revocation from its CRLs, re-read when older
    than `crl_max_age` seconds (hard fail when none is usable)."""
    trust = TrustStore([*pki.trust_anchors("auth"), *pki.trust_anchors("sign")])
    revocation = RefreshingCrlRevocation(test_pki_crl_source(pki), trust, max_age=crl_max_age)
    ctx.validator = CertificateValidator(trust, revocation=revocation)
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

    ctx.registry = LinkageRegistry(store, mynumber_index=mynumber_index)
    ctx.audit = ctx.registry.audit
    ctx.core = core
    ctx.mynumber_index = mynumber_index
