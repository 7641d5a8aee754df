"""The card's file tree: applets (DFs selected by AID) holding elementary files, each
with its access rule. Holds no secrets: key EFs only name the key they stand for."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from jpki.constants import KeyKind, PinKind


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


@dataclass(frozen=True)
class KeyFile:
    """A private key EF: selected before COMPUTE DIGITAL SIGNATURE, never readable."""

    fid: int
    key: KeyKind
    use_pin: PinKind


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


ElementaryFile = BinaryFile | KeyFile | PinFile | InternalFile


@dataclass
class Applet:
    aid: bytes
    label: str
    files: dict[int, ElementaryFile] = field(default_factory=dict)

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
