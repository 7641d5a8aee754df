"""The software Individual Number Card (card OS, file system, security state) and a
Connection to it. See software_card.SoftwareCard and state (the state file holds the
card's private keys)."""

from __future__ import annotations

from simulators.card.connection import SoftwareCardConnection
from simulators.card.errors import SwError
from simulators.card.software_card import T0_ATR, SoftwareCard
from simulators.card.state import CardStateError

__all__ = ["T0_ATR", "CardStateError", "SoftwareCard", "SoftwareCardConnection", "SwError"]
