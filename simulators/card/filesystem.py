"""The card's file tree: applets (DFs selected by AID) holding elementary files, each
with its access rule. Holds no secrets: key EFs only name the key they stand for."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from jpki.constants import KeyKind, PinKind


class CardKey(StrEnum):
    """The card's private keys beyond the two JPKI keys: each applet's own keys."""

    CARD_INFO_AP = "cardinfo-ap"  # 券面入力補助 AP key 0013: 80 2A 00 00, no credential
    CARD_INFO_SESSION = "cardinfo-session"  # its EF 0006 key (session-key delivery)
    SURFACE_CARD = "surface-card"  # 券面事項確認 AP card key: 80 2A 00 00, no credential
    COMMON_AUTH = "common-auth"  # 共通 AP EF 0019: INTERNAL AUTHENTICATE, no credential


KeyName = KeyKind | CardKey


@dataclass(frozen=True)
class ReadAccess:
    """Who may READ BINARY an EF.

    - free: `any_of` empty and not `never`;
    - `any_of`: readable once ANY ONE of these keys is verified (real cards open one EF
      with either of several credentials, e.g. the card-info PIN or 照合番号A);
    - `never`: no credential opens it (JPKI EF 0009), 6982 whatever is verified."""

    any_of: frozenset[PinKind] = frozenset()
    never: bool = False

    @classmethod
    def free(cls) -> ReadAccess:
        return FREE

    @classmethod
    def after(cls, *kinds: PinKind) -> ReadAccess:
        """Readable after any one of `kinds` is verified."""
        if not kinds:
            raise ValueError("ReadAccess.after needs at least one key")
        return cls(frozenset(kinds))

    @classmethod
    def protected(cls) -> ReadAccess:
        return cls(never=True)

    @property
    def is_free(self) -> bool:
        return not self.any_of and not self.never

    def allows(self, is_verified: Callable[[PinKind], bool]) -> bool:
        if self.never:
            return False
        return not self.any_of or any(is_verified(kind) for kind in self.any_of)

    def to_state(self) -> dict[str, object]:
        return {"any_of": sorted(kind.value for kind in self.any_of), "never": self.never}

    @classmethod
    def from_state(cls, any_of: Iterable[str], never: bool) -> ReadAccess:
        return cls(frozenset(PinKind(value) for value in any_of), bool(never))

    def __repr__(self) -> str:
        if self.never:
            return "ReadAccess(never)"
        if not self.any_of:
            return "ReadAccess(free)"
        return f"ReadAccess(any of {sorted(kind.value for kind in self.any_of)})"


FREE = ReadAccess()


@dataclass
class BinaryFile:
    """A transparent EF. `data` is the whole EF as stored, filler included.
    `access`: what must be verified before READ BINARY (see ReadAccess)."""

    fid: int
    data: bytes
    access: ReadAccess = FREE

    def __repr__(self) -> str:  # contents may be personal data (My Number)
        return f"BinaryFile({self.fid:04X}, {len(self.data)} bytes, {self.access!r})"


@dataclass
class RecordFile:
    """A record-structured EF (READ RECORD), records numbered from 1."""

    fid: int
    records: tuple[bytes, ...]
    access: ReadAccess = FREE

    def __repr__(self) -> str:
        return f"RecordFile({self.fid:04X}, {len(self.records)} records, {self.access!r})"


@dataclass(frozen=True)
class KeyFile:
    """A private key EF: selected before COMPUTE DIGITAL SIGNATURE, never readable.
    `use_pin` None: the key needs no credential. `internal_auth`: the key answers
    INTERNAL AUTHENTICATE (only the common AP's EF 0019 does on real cards)."""

    fid: int
    key: KeyName
    use_pin: PinKind | None
    internal_auth: bool = False


@dataclass(frozen=True)
class PinFile:
    """A PIN EF: selected before VERIFY / CHANGE REFERENCE DATA, never readable."""

    fid: int
    pin: PinKind


@dataclass(frozen=True)
class InternalFile:
    """An EF the card uses itself (a key reference such as JPKI 0016, the MF's 001E):
    selectable, never readable (READ BINARY 6981)."""

    fid: int


ElementaryFile = BinaryFile | RecordFile | KeyFile | PinFile | InternalFile


@dataclass
class Applet:
    """`default_key`: the key EF that COMPUTE DIGITAL SIGNATURE with P2=00 uses (the
    card-info and card-surface APs sign with their own key that way)."""

    aid: bytes
    label: str
    files: dict[int, ElementaryFile] = field(default_factory=dict)
    default_key: int | None = None

    def add(self, ef: ElementaryFile) -> None:
        if ef.fid in self.files:
            raise ValueError(f"duplicate EF {ef.fid:04X} in {self.label}")
        self.files[ef.fid] = ef


@dataclass
class FileSystem:
    applets: dict[bytes, Applet] = field(default_factory=dict)

    def add(self, applet: Applet) -> None:
        self.applets[applet.aid] = applet

    def applet(self, aid: bytes) -> Applet | None:
        return self.applets.get(aid)
