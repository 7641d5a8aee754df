"""The conformance table's row shape: one Fact per observed or stated fact in
real-card-notes.md (the public reverse engineering of real cards), written from the
facts alone, as raw APDUs, so the same rows run in process and through pcscd + vpcd.
Each facts_*.py module in this package exports FACTS: list[Fact]."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Step:
    """One command APDU and what a real card answers to it."""

    command: str  # hex, spaces allowed: "00 A4 04 0C 0A D392F000260100000001"
    sw: str  # expected status word in hex; 'x' matches any nibble: "63Cx"
    data: str | None = None  # exact response data in hex, when the fact fixes it
    length: int | None = None  # response data length, when the fact fixes only that


@dataclass(frozen=True)
class Fact:
    """A row of the table: the citation, the claim, and the APDUs that show it."""

    cite: str  # where in real-card-notes.md, with its tag: "§1 Blocked keys [obs]"
    claim: str  # the fact in one sentence
    steps: tuple[Step, ...]
    persona: str = "yamada-taro"  # the software card's persona (simulators/personas.toml)
    t0: bool = False  # run with the card in T=0 mode
