"""Symbol core: stands in for the national core system (連携用符号 / 機関別符号)."""

from simulators.core.config import Agency, CoreConfig, load_core_config
from simulators.core.core import SymbolCore
from simulators.core.errors import (
    BadResidentCodeCheckDigit,
    CoreConfigError,
    CoreError,
    Forbidden,
    InvalidResidentCode,
    RelayRefused,
    Unauthenticated,
    UnknownAgency,
    UnknownResident,
    UnknownSymbol,
)
from simulators.core.register import IdentityClaim, ResidentRecord, ResidentRegister, Verdict

__all__ = [
    "Agency",
    "BadResidentCodeCheckDigit",
    "CoreConfig",
    "CoreConfigError",
    "CoreError",
    "Forbidden",
    "IdentityClaim",
    "InvalidResidentCode",
    "RelayRefused",
    "ResidentRecord",
    "ResidentRegister",
    "SymbolCore",
    "Unauthenticated",
    "UnknownAgency",
    "UnknownResident",
    "UnknownSymbol",
    "Verdict",
    "load_core_config",
]
