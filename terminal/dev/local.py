"""The embedded defaults a terminal runs on with no network: the local test PKI (trust
anchors, OCSP and CRLs answered in process, or over HTTP when its server runs), the
symbol core in process (dev keys under $MYNATERM_HOME/core), and the SQLite store.

The CLI, the demo and the dev wing's service extension all build their parts here, so
they behave the same. Part of the dev wing: the product never imports this module."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jpki.validation import CertificateValidator, FetchError, RevocationPolicy, TrustStore
from jpki.validation.ocsp import OcspClient
from jpki.validation.revocation import RevocationChecker
from simulators.pki.errors import PkiError, PkiStateError
from terminal.home import mynaterm_home
from terminal.trust import make_validator

if TYPE_CHECKING:
    from terminal.service.context import ServiceContext

# The test PKI's errors, for the CLI's error handling (the product names no simulator).
__all__ = ["PkiError", "PkiStateError"]

COUNTER_AGENCY = "city-13101"  # the dev core's agency for counter terminals


def open_local_pki(directory: Path | None = None, *, create: bool = False) -> Any:
    """The test PKI in `directory` (default $MYNATERM_HOME/pki). Without `create`, a
    missing PKI raises the PKI's state error (create one with `mynaterm pki init`)."""
    from simulators.pki import TestPki

    path = directory if directory is not None else mynaterm_home() / "pki"
    return TestPki.open_or_create(path) if create else TestPki.open(path)


class LocalPkiSources:
    """The local test PKI's OCSP responder and CRL distribution points, answered in
    process (the same bytes `mynaterm pki serve` gives over HTTP). The validator still
    does everything it does with remote sources: signatures, CertID, nonce, freshness,
    CRL partition and number."""

    def __init__(self, pki: Any) -> None:
        self.pki = pki

    def post(self, url: str, request_der: bytes, timeout: float) -> bytes:
        return bytes(self.pki.ocsp_response(request_der))

    def fetch(self, url: str) -> bytes:
        try:
            return bytes(self.pki.crl_for_url(url))
        except PkiError as exc:
            raise FetchError(f"{url}: {exc}", reason_code="FETCH_NOT_FOUND") from exc


def crls_of(pki: Any, kind: str, now: datetime) -> list[bytes]:
    """The current CRL of every partition of `kind` in the local test PKI."""
    return [pki.crl(kind, partition, now=now) for partition in pki.partitions(kind)]


def local_trust(pki: Any) -> TrustStore:
    return TrustStore([*pki.trust_anchors("auth"), *pki.trust_anchors("sign")])


def validator_for(
    pki: Any, policy: RevocationPolicy | None = None, *, ocsp_cache: bool = True
) -> CertificateValidator:
    """The project's validator over the local PKI: its anchors; revocation by OCSP, then
    by the partition's CRL (verified by the CrlStore); hard fail by default. OCSP answers
    are cached until their nextUpdate like at a real terminal; `ocsp_cache=False` asks
    every time (tests that revoke and expect the refusal at once)."""
    policy = policy or RevocationPolicy()
    sources = LocalPkiSources(pki)
    revocation = RevocationChecker(
        policy, crl_fetcher=sources, ocsp=OcspClient(sources, cache=ocsp_cache)
    )
    return make_validator(local_trust(pki), policy, revocation=revocation)


def local_core_client(agency: str = COUNTER_AGENCY) -> Any:
    """An in-process symbol core with dev keys (generated once under
    $MYNATERM_HOME/core), and a client authenticated as `agency`."""
    from simulators.core.config import dev_token
    from simulators.core.core import SymbolCore
    from terminal.dev.core_client import InProcessCoreClient

    core = SymbolCore.from_environment(dev=True)
    return InProcessCoreClient(core, dev_token(agency))


def attach_local_validation(ctx: ServiceContext, pki: Any, *, ocsp_cache: bool = True) -> None:
    """The project's validator over the local test PKI (`validator_for`) attached to a
    service context, with the challenge store and token validator built on it."""
    from terminal.service.parts import attach_validator

    attach_validator(ctx, validator_for(pki, ocsp_cache=ocsp_cache))
    # The test card issuer beside the PKI (made on first use) certifies the cards'
    # 券面 records: its roots are what the counter checks card faces against.
    from simulators.card.issuer import card_issuer_for

    ctx.card_issuer_keys = dict(card_issuer_for(pki).trusted_roots())


def local_trust_if_present(directory: Path | None = None) -> tuple[TrustStore, Path] | None:
    """The test PKI's anchors when a test PKI exists in `directory` (default
    $MYNATERM_HOME/pki), else None."""
    from simulators.pki import TestPki

    path = directory if directory is not None else mynaterm_home() / "pki"
    if not TestPki.exists(path):
        return None
    return local_trust(TestPki.open(path)), path


def persona_resident_code(persona_id: str) -> str:
    """The resident code of a test persona (simulators/personas.toml)."""
    from simulators.personas import get_persona

    return get_persona(persona_id).resident_code
