"""The card's file tree: applets (DFs selected by AID) holding elementary files, each
with its access rule. Holds no secrets: key EFs only name the key they stand for."""

from __future__ import annotations

from dataclasses import dataclass, field

from jpki.constants import KeyKind, PinKind


@dataclass
class BinaryFile:
    """A transparent EF. `data` is the whole EF as stored, filler included.
    `read_pin`: the PIN that must be verified before READ BINARY (None: free)."""

    fid: int
    data: bytes
    read_pin: PinKind | None = None

    def __repr__(self) -> str:  # contents may be personal data (My Number)
        return f"BinaryFile({self.fid:04X}, {len(self.data)} bytes, read_pin={self.read_pin})"


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


ElementaryFile = BinaryFile | KeyFile | PinFile


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
