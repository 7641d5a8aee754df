"""Behaviours where clients may meet cards that differ, as switches on one software card.

The defaults are what real cards do according to the public reverse engineering
(real-card-notes.md); each switch turns on the opposite behaviour, for client authors
who want to test that their code survives it. All are kept in the state file."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any


@dataclass(frozen=True)
class CardOptions:
    # Re-selecting the applet that is already current keeps verified PINs on real cards
    # ([src]: JICSAP 5.1.3 rule 2, stated, not measured). True: it clears them.
    reselect_clears_pins: bool = False
    # A PC/SC warm reset kept verified PINs on the measured card ([obs]); only an unpower
    # cleared them. True: a warm reset clears like a power cycle.
    warm_reset_clears_pins: bool = False
    # The empty status query on a blocked PIN answers 63C0 on real cards ([obs]); True:
    # it answers 6984 like a VERIFY with data (what this card did before; OpenSC's jpki
    # driver then cannot bind the card).
    blocked_status_answers_6984: bool = False
    # After an unpower the measured card answered the first command with 6F00 ([obs]).
    # Off by default: one card's observation, very likely a property of that card and
    # reader pair, and on a software card it only makes every first command of every
    # tool fail; turn it on to prove a client retries.
    first_command_after_power_fails: bool = False
    # "Some cards" answer the status query of a verified PIN with 9000 [src]; this card
    # does. True: it answers 63Cx (tries left) whether verified or not.
    status_query_ignores_verified: bool = False
    # The CV certificate 7F21 is missing on older cards [src]. True: GET DATA 7F21 6A88.
    no_lower_cv_certificate: bool = False
    # 5F51 (the ATR) answers only with an applet selected on some cards [src]. True:
    # GET DATA 5F51 at the MF answers 6A88.
    atr_object_only_in_applets: bool = False

    def to_state(self) -> dict[str, bool]:
        return {f.name: bool(getattr(self, f.name)) for f in fields(self)}

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> CardOptions:
        """Options from a state file; switches the file does not name keep their
        defaults (files written before a switch existed)."""
        known = {f.name for f in fields(cls)}
        return replace(cls(), **{k: bool(v) for k, v in state.items() if k in known})
