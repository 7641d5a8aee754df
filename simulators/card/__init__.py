"""The software Individual Number Card (card OS, file system, security state) and a
Connection to it. See software_card.SoftwareCard and state (the state file holds the
card's private keys).

The names below load on first use (PEP 562), so that importing a light submodule such
as simulators.card.options (the CLI's help text needs it) does not build the whole card
and its cryptography at start-up."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from simulators.card.connection import SoftwareCardConnection
    from simulators.card.errors import SwError
    from simulators.card.software_card import T0_ATR, SoftwareCard
    from simulators.card.state import CardStateError

_WHERE = {
    "SoftwareCardConnection": "simulators.card.connection",
    "SwError": "simulators.card.errors",
    "T0_ATR": "simulators.card.software_card",
    "SoftwareCard": "simulators.card.software_card",
    "CardStateError": "simulators.card.state",
}

__all__ = ["T0_ATR", "CardStateError", "SoftwareCard", "SoftwareCardConnection", "SwError"]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
