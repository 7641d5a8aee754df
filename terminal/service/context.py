"""What the routes share: settings, readers, operators, metrics and the lower layers'
objects (validation, challenges, linkage registry, audit). Tests build one with
emulator-backed parts and pass it to create_app."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from jpki.clock import utc_now
from terminal.service.errors import ServiceError
from terminal.service.metrics import ServiceMetrics
from terminal.service.readers import ReaderManager
from terminal.service.security import OperatorDirectory
from terminal.service.settings import Settings

if TYPE_CHECKING:
    # Type-only: importing the lower layers here would pull SQLAlchemy, httpx and the
    # stores into every import of the service; they are attached at startup.
    from jpki.auth import AuthTokenValidator, ChallengeStore
    from jpki.validation import CertificateValidator
    from terminal.audit.trail import AuditTrail
    from terminal.counter.cardlife import IssuingAuthority
    from terminal.linkage import LinkageRegistry
    from terminal.linkage.core_client import SymbolSource
    from terminal.linkage.secrets import MyNumberIndex
    from terminal.service.extensions import ServiceExtension

_Part = TypeVar("_Part")
_Ext = TypeVar("_Ext")


def not_configured(what: str) -> ServiceError:
    """The answer of a route whose lower-layer part this service was started without."""
    return ServiceError("NOT_AVAILABLE", f"{what} is not configured in this service")


def _need(part: _Part | None, what: str) -> _Part:
    if part is None:
        raise not_configured(what)
    return part


@dataclass
class ServiceContext:
    settings: Settings
    operators: OperatorDirectory
    readers: ReaderManager = field(default_factory=ReaderManager)
    metrics: ServiceMetrics = field(default_factory=ServiceMetrics)
    # Lower layers; None until configured (routes needing one answer NOT_AVAILABLE
    # through the need_* accessors below).
    validator: CertificateValidator | None = None
    challenges: ChallengeStore | None = None
    token_validator: AuthTokenValidator | None = None
    registry: LinkageRegistry | None = None
    audit: AuditTrail | None = None
    core: SymbolSource | None = None
    mynumber_index: MyNumberIndex | None = None
    # Issuer keys that certify the 券面 applets' CV certificates (jpki.cvc), by key id.
    # Empty: card faces are shown as "not-checked", never "valid".
    card_issuer_keys: dict[bytes, Any] = field(default_factory=dict)
    # The issuing authority of the card's admin channel (issue 15; a model): the test
    # PKI in the dev wing, else not configured.
    issuer: IssuingAuthority | None = None
    # What create_app(settings, extensions=[...]) plugged in (e.g. the dev wing).
    extensions: list[ServiceExtension] = field(default_factory=list)
    # The service's notion of now for validation and challenges (tests move it).
    clock: Callable[[], datetime] = field(default=utc_now)
    # Things to close at shutdown (servers, engines), in reverse order.
    closers: list[Callable[[], object]] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.readers.on_outcome is None:
            self.readers.on_outcome = lambda operation, code: self.metrics.card_operations.labels(
                operation, code
            ).inc()

    def extension(self, kind: type[_Ext]) -> _Ext | None:
        """The plugged-in extension of class `kind`, if any."""
        return next((ext for ext in self.extensions if isinstance(ext, kind)), None)

    # `what` names the part in the NOT_AVAILABLE message, from the caller's point of
    # view ("login (challenge store)").

    def need_validator(self, what: str = "the certificate validator") -> CertificateValidator:
        return _need(self.validator, what)

    def need_challenges(self, what: str = "the challenge store") -> ChallengeStore:
        return _need(self.challenges, what)

    def need_token_validator(self, what: str = "the token validator") -> AuthTokenValidator:
        return _need(self.token_validator, what)

    def need_registry(self, what: str = "the linkage registry") -> LinkageRegistry:
        return _need(self.registry, what)

    def need_audit(self, what: str = "the audit trail") -> AuditTrail:
        return _need(self.audit, what)

    def need_core(self, what: str = "the symbol core") -> SymbolSource:
        return _need(self.core, what)

    def need_mynumber_index(self, what: str = "the My Number index") -> MyNumberIndex:
        return _need(self.mynumber_index, what)

    def need_issuer(self, what: str = "the issuing authority") -> IssuingAuthority:
        return _need(self.issuer, what)
