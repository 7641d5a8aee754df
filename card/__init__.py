"""APDU layer: command/response encoding, status words, BER-TLV, the Connection seam
and the ISO 7816 transport protocol above it. Transport-free except card.pcsc."""

from __future__ import annotations

from card.apdu import CommandApdu, Response
from card.connection import Connection
from card.errors import (
    ApduError,
    CardError,
    CardRemovedError,
    MalformedResponseError,
    TransportError,
)
from card.protocol import CardChannel
from card.sw import StatusWord, describe_sw

__all__ = [
    "ApduError",
    "CardChannel",
    "CardError",
    "CardRemovedError",
    "CommandApdu",
    "Connection",
    "MalformedResponseError",
    "Response",
    "StatusWord",
    "TransportError",
    "describe_sw",
]
