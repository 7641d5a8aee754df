"""Symbol core: stands in for the national core system (連携用符号 / 機関別符号)."""

from simulators.core.config import Agency, CoreConfig, load_core_config
from simulators.core.core import SymbolCore
from simulators.core.errors import (
    CoreConfigError,
    CoreError,
    Forbidden,
    InvalidResidentCode,
    Unauthenticated,
    UnknownAgency,
    UnknownSymbol,
)

__all__ = [
    "Agency",
    "CoreConfig",
    "CoreConfigError",
    "CoreError",
    "Forbidden",
    "InvalidResidentCode",
    "SymbolCore",
    "Unauthenticated",
    "UnknownAgency",
    "UnknownSymbol",
    "load_core_config",
]
