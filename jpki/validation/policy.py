"""What revocation checking must achieve, as one frozen object."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

RevocationMode = Literal["hard-fail", "soft-fail"]
RevocationSource = Literal["ocsp", "crl"]

_SOURCES = ("ocsp", "crl")


@dataclass(frozen=True)
class RevocationPolicy:
    """hard-fail (default): a verified "good" from a CRL or OCSP is required, anything
    else is RevocationUnknownError. soft-fail: when no source can decide, the result says
    "not-checked" and why; a verified "revoked" always fails.

    Sources are tried in `sources` order; the first verified answer decides."""

    mode: RevocationMode = "hard-fail"
    sources: tuple[RevocationSource, ...] = ("ocsp", "crl")
    crl_max_clock_skew: timedelta = timedelta(minutes=5)
    ocsp_max_clock_skew: timedelta = timedelta(minutes=5)
    # An OCSP answer older than this (by thisUpdate) is stale even before its nextUpdate;
    # J-LIS refreshes answers about every 15 minutes.
    ocsp_max_age: timedelta = timedelta(hours=1)
    ocsp_timeout: float = 5.0
    crl_timeout: float = 30.0
    require_nonce: bool = True
    max_crl_bytes: int = 200 * 1024 * 1024
    max_crl_entries: int = 5_000_000

    def __post_init__(self) -> None:
        if self.mode not in ("hard-fail", "soft-fail"):
            raise ValueError(f"unknown revocation mode {self.mode!r}")
        if not self.sources or any(s not in _SOURCES for s in self.sources):
            raise ValueError(f"sources must be a non-empty subset of {_SOURCES}")
        if len(set(self.sources)) != len(self.sources):
            raise ValueError("sources must not repeat")
        for name in ("crl_max_clock_skew", "ocsp_max_clock_skew", "ocsp_max_age"):
            if getattr(self, name) < timedelta(0):
                raise ValueError(f"{name} must not be negative")
        if self.ocsp_timeout <= 0 or self.crl_timeout <= 0:
            raise ValueError("timeouts must be positive")
        if self.max_crl_bytes <= 0 or self.max_crl_entries <= 0:
            raise ValueError("CRL caps must be positive")

    @property
    def soft_fail(self) -> bool:
        return self.mode == "soft-fail"
