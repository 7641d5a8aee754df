"""Symbol derivation: keyed, one-way, domain-separated.

linkage symbol (連携用符号) = HMAC-SHA256(K_link, resident code), K_link = HMAC(master,
"linkage-key"); agency symbol (機関別符号) = HMAC-SHA256(K_agency, linkage symbol),
K_agency = HMAC(master, "agency-key:" + code). Both are the first 20 bytes as unpadded
base32 (32 characters). Knowing one agency's symbols (or even its key) reveals
nothing about another agency's symbols: translation needs the core's index.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

SYMBOL_BYTES = 20
SYMBOL_LENGTH = 32  # base32 of 20 bytes, no padding


def _b32(digest: bytes) -> str:
    return base64.b32encode(digest[:SYMBOL_BYTES]).decode("ascii")


def _subkey(master: bytes, label: str) -> bytes:
    return hmac.new(master, b"mynaterm-core/v1/" + label.encode(), hashlib.sha256).digest()


class SymbolDeriver:
    def __init__(self, master_key: bytes) -> None:
        self._link_key = _subkey(master_key, "linkage-key")
        self._master = master_key
        self._agency_keys: dict[str, bytes] = {}

    def linkage_symbol(self, resident_code: str) -> str:
        return _b32(hmac.new(self._link_key, resident_code.encode(), hashlib.sha256).digest())

    def agency_symbol(self, linkage_symbol: str, agency: str) -> str:
        key = self._agency_keys.get(agency)
        if key is None:
            key = self._agency_keys[agency] = _subkey(self._master, "agency-key:" + agency)
        return _b32(hmac.new(key, linkage_symbol.encode(), hashlib.sha256).digest())

    def __repr__(self) -> str:
        return "SymbolDeriver(<keys redacted>)"
