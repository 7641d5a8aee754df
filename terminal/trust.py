"""Where the terminal's certificate validator is assembled, in one place: trust anchors
(the real J-LIS CAs, or the ones a caller brings, e.g. the dev wing's test PKI), the
revocation policy and the revocation sources. The service's wiring, the CLI and the dev
wing all build theirs here, so they check the same way."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jpki.constants import CertKind
    from jpki.validation import CertificateValidator, RevocationPolicy, TrustStore
    from jpki.validation.revocation import RevocationChecker


def production_trust(kinds: Iterable[CertKind | str] = ("auth", "sign")) -> TrustStore:
    """The real J-LIS CA certificates shipped with jpki (every generation) of `kinds`."""
    from jpki.validation import TrustStore

    return TrustStore(
        [anchor.der for kind in kinds for anchor in TrustStore.jpki_production(kind).anchors]
    )


def make_validator(
    trust: TrustStore,
    policy: RevocationPolicy | None = None,
    *,
    revocation: RevocationChecker | None = None,
    **sources: Any,
) -> CertificateValidator:
    """The project's validator over `trust`: hard-fail revocation by default. Give a
    ready `revocation` checker, or its sources (`crl_store`, `crl_fetcher`, `ocsp`,
    `crl_locations`, `retry_after`) for a RevocationChecker under `policy`."""
    from jpki.validation import CertificateValidator, RevocationPolicy
    from jpki.validation.revocation import RevocationChecker

    policy = policy or RevocationPolicy()
    if revocation is None:
        revocation = RevocationChecker(policy, **sources)
    elif sources:
        raise TypeError("give a revocation checker or its sources, not both")
    return CertificateValidator(trust, policy, revocation=revocation)
