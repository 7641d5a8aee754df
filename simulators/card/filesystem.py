"""The card's file tree: applets (DFs selected by AID) holding elementary files, each
with its access rule. Holds no secrets: key EFs only name the key they stand for."""

from __future__ import annotations

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


@dataclass
class BinaryFile:
    """A transparent EF. `data` is the whole EF as stored, filler included.
    `read_pin`: a key that must be verified before READ BINARY (None: free);
    `also_by`: further keys any one of which opens it as well (real cards open e.g. the
    card-info My Number with the PIN *or* 照合番号A)."""

    fid: int
    data: bytes
    read_pin: PinKind | None = None
    also_by: frozenset[PinKind] = frozenset()

    def __repr__(self) -> str:  # contents may be personal data (My Number)
        return f"BinaryFile({self.fid:04X}, {len(self.data)} bytes, read_pin={self.read_pin})"

    @property
    def opened_by(self) -> frozenset[PinKind]:
        """Every key that opens this EF; empty when it is free."""
        return self.also_by | {self.read_pin} if self.read_pin is not None else frozenset()


@dataclass
class RecordFile:
    """A record-structured EF (READ RECORD), records numbered from 1."""

    fid: int
    records: tuple[bytes, ...]
    read_pin: PinKind | None = None

    def __repr__(self) -> str:
        return f"RecordFile({self.fid:04X}, {len(self.records)} records, read_pin={self.read_pin})"


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


ElementaryFile = BinaryFile | RecordFile | KeyFile | PinFile


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
