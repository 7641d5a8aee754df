"""The card's security state: PIN reference data with retry counters, which PINs are
verified in the current selection, and the private keys. Kept apart from the file
system so that access rules read "file says which PIN; security state says whether"."""

from __future__ import annotations

import hashlib
import hmac
import os
from dataclasses import dataclass, field
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed

from jpki.constants import PIN_DIGITS, PinKind
from simulators.card.filesystem import KeyName

# scrypt work factor for PIN reference data. A 4-digit PIN falls to any work factor
# (10^4 candidates), so this only keeps the PIN from being read off a state file at a
# glance and slows guessing the longer sign PIN; 2^14 costs ~60 ms per VERIFY.
SCRYPT_N = 2**14
SCRYPT_R = 8
SCRYPT_P = 1
SALT_BYTES = 16

SIGN_PIN_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")


def pin_format_ok(kind: PinKind, pin: bytes) -> bool:
    """The card's format rule: the sign PIN is 6-16 characters of A-Z 0-9 (upper case
    only: clients upper-case the input); every other key is a fixed number of digits
    (4 for the PINs, 6 for the era birth date, 12 for 照合番号A, 14 for 照合番号B)."""
    try:
        text = pin.decode("ascii")
    except UnicodeDecodeError:
        return False
    if kind is PinKind.SIGN:
        return 6 <= len(text) <= 16 and all(c in SIGN_PIN_ALPHABET for c in text)
    return len(text) == PIN_DIGITS[kind] and all("0" <= c <= "9" for c in text)


def _scrypt(pin: bytes, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(pin, salt=salt, n=n, r=r, p=p, maxmem=128 * r * n * p + 2**20, dklen=32)


@dataclass
class PinRecord:
    """Reference data of one PIN: a salted scrypt hash (the card only ever compares),
    the retry counter and its maximum. Blocked when no tries are left."""

    kind: PinKind
    salt: bytes
    digest: bytes
    tries_left: int
    max_tries: int
    kdf: dict[str, int] = field(
        default_factory=lambda: {"n": SCRYPT_N, "r": SCRYPT_R, "p": SCRYPT_P}
    )

    @classmethod
    def create(cls, kind: PinKind, pin: str, *, scrypt_n: int = SCRYPT_N) -> PinRecord:
        """`scrypt_n`: a lower work factor suits keys whose value the state file holds
        anyway (照合番号A is the My Number in EF 0001; the birth date is in the records)."""
        raw = pin.encode("ascii")
        if not pin_format_ok(kind, raw):
            raise ValueError(f"the {kind.value} PIN does not have the card's format")
        salt = os.urandom(SALT_BYTES)
        record = cls(
            kind,
            salt,
            b"",
            kind.max_tries,
            kind.max_tries,
            {"n": scrypt_n, "r": SCRYPT_R, "p": SCRYPT_P},
        )
        record.digest = record._hash(raw)
        return record

    @classmethod
    def unset(cls, kind: PinKind) -> PinRecord:
        """A PIN not yet set (a card before the holder chose PINs at the counter): no
        reference data, so nothing ever matches; VERIFY answers 6A88 (see admin.py)."""
        return cls(kind, b"", b"", kind.max_tries, kind.max_tries)

    @property
    def is_set(self) -> bool:
        return bool(self.digest)

    def _hash(self, pin: bytes) -> bytes:
        return _scrypt(pin, self.salt, self.kdf["n"], self.kdf["r"], self.kdf["p"])

    @property
    def blocked(self) -> bool:
        return self.tries_left <= 0

    def matches(self, candidate: bytes) -> bool:
        if not self.is_set:
            return False
        return hmac.compare_digest(self._hash(candidate), self.digest)

    def replace(self, new_pin: bytes) -> None:
        self.salt = os.urandom(SALT_BYTES)
        self.digest = self._hash(new_pin)
        self.tries_left = self.max_tries

    def __repr__(self) -> str:  # the hash is reference data: keep it out of logs too
        return f"PinRecord({self.kind.value}, tries_left={self.tries_left}/{self.max_tries})"

    def to_state(self) -> dict[str, Any]:
        return {
            "salt": self.salt.hex(),
            "scrypt": self.digest.hex(),
            "kdf": dict(self.kdf),
            "tries_left": self.tries_left,
            "max_tries": self.max_tries,
        }

    @classmethod
    def from_state(cls, kind: PinKind, state: dict[str, Any]) -> PinRecord:
        kdf = {k: int(state["kdf"][k]) for k in ("n", "r", "p")}
        record = cls(
            kind,
            bytes.fromhex(state["salt"]),
            bytes.fromhex(state["scrypt"]),
            int(state["tries_left"]),
            int(state["max_tries"]),
            kdf,
        )
        # An empty digest is a PIN not yet set (PinRecord.unset); anything else is 32 bytes.
        if not 0 <= record.tries_left <= record.max_tries <= 15 or len(record.digest) not in (
            0,
            32,
        ):
            raise ValueError(f"{kind.value} PIN record is inconsistent")
        return record


class KeyStore:
    """The card's RSA private keys, by key kind. Nothing outside the card OS's signing
    handler reaches them, and repr() never shows them."""

    __slots__ = ("_keys",)

    def __init__(self, keys: dict[KeyName, RSAPrivateKey]) -> None:
        self._keys = dict(keys)

    def __repr__(self) -> str:
        return f"KeyStore(<{len(self._keys)} private keys, not shown>)"

    def public_key(self, kind: KeyName) -> RSAPublicKey:
        return self._keys[kind].public_key()

    def key_size(self, kind: KeyName) -> int:
        return self._keys[kind].key_size

    def raw_sign(self, kind: KeyName, encoded_message: bytes) -> bytes:
        """RSA private operation on an already padded message of the key's size.

        The card pads the host's DigestInfo itself (PKCS#1 v1.5 type 1), so this is the
        textbook m^d mod n, computed with the CRT parameters."""
        numbers = self._keys[kind].private_numbers()
        n = numbers.public_numbers.n
        size = (n.bit_length() + 7) // 8
        m = int.from_bytes(encoded_message, "big")
        if len(encoded_message) != size or m >= n:
            raise ValueError("encoded message does not fit the modulus")
        s1 = pow(m, numbers.dmp1, numbers.p)
        s2 = pow(m, numbers.dmq1, numbers.q)
        h = (numbers.iqmp * (s1 - s2)) % numbers.p
        signature = s2 + h * numbers.q
        # A CRT fault would leak the key on a real card; check like one would.
        if pow(signature, numbers.public_numbers.e, n) != m:
            raise ValueError("RSA private operation failed its check")
        return signature.to_bytes(size, "big")

    def install(self, kind: KeyName, key: RSAPrivateKey) -> None:
        """Replace a key (the admin ACTIVATE command, simulators.card.admin)."""
        self._keys[kind] = key

    def copy(self) -> KeyStore:
        """Another store with the same (immutable) key objects."""
        return KeyStore(self._keys)

    def names(self) -> list[KeyName]:
        return list(self._keys)

    def has(self, kind: KeyName) -> bool:
        return kind in self._keys

    def sign_pss_sha256(self, kind: KeyName, digest: bytes) -> bytes:
        """RSASSA-PSS over a SHA-256 digest: MGF1-SHA-256, a fresh random salt of the
        digest's length (the salt length real cards use is not recorded; 32 is the
        usual choice and what verifiers with PSS.AUTO or DIGEST_LENGTH accept)."""
        scheme = padding.PSS(padding.MGF1(hashes.SHA256()), padding.PSS.DIGEST_LENGTH)
        key = self._keys[kind]
        signature = key.sign(digest, scheme, Prehashed(hashes.SHA256()))
        # Keys from a state file are not consistency-checked at load (state.py): check
        # the result instead, as raw_sign does.
        try:
            key.public_key().verify(signature, digest, scheme, Prehashed(hashes.SHA256()))
        except InvalidSignature:
            raise ValueError("RSA private operation failed its check") from None
        return signature

    def private_key_for_state(self, kind: KeyName) -> RSAPrivateKey:
        """Only for the state file writer (simulators.card.state)."""
        return self._keys[kind]


@dataclass
class SecurityState:
    """PIN records, keys, and the volatile security status: the PINs verified, and the
    applet (AID) they were verified in. Selecting another applet, or an unpower, ends
    it; re-selecting the owner applet and a warm reset do not (real-card-notes.md §0)."""

    pins: dict[PinKind, PinRecord]
    keys: KeyStore
    verified: set[PinKind] = field(default_factory=set)
    owner: bytes | None = None

    def clear_verified(self) -> None:
        self.verified.clear()
        self.owner = None

    def enter_applet(self, aid: bytes, *, reselect_clears: bool) -> None:
        """An applet was selected: the security status survives only a re-selection of
        the applet it belongs to (and not even that with `reselect_clears`)."""
        if aid != self.owner or reselect_clears:
            self.verified.clear()
        self.owner = aid

    def is_verified(self, kind: PinKind) -> bool:
        return kind in self.verified and not self.pins[kind].blocked
