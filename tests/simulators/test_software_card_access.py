"""The file system's read rules: free, any one of several keys, never."""

from __future__ import annotations

from jpki.constants import PinKind
from simulators.card import SoftwareCard
from simulators.card.filesystem import BinaryFile, ReadAccess
from tests.simulators.software_card_apdu import SELECT_CARD_INFO, select_ef, tx


def test_any_of_rule_opens_with_either_key() -> None:
    rule = ReadAccess.after(PinKind.AUTH, PinKind.CARD_INFO)
    assert not rule.allows(lambda kind: False)
    assert rule.allows(lambda kind: kind is PinKind.CARD_INFO)
    assert rule.allows(lambda kind: kind is PinKind.AUTH)
    assert not rule.allows(lambda kind: kind is PinKind.SIGN)


def test_free_and_never() -> None:
    assert ReadAccess.free().allows(lambda kind: False)
    assert ReadAccess.free().is_free
    assert not ReadAccess.protected().allows(lambda kind: True)


def test_rules_survive_the_state_file(card: SoftwareCard) -> None:
    applet = card._state.filesystem.applet(bytes.fromhex("D3921000310001010408"))
    assert applet is not None
    applet.add(BinaryFile(0x0009, b"\x01\x02", ReadAccess.after(PinKind.AUTH, PinKind.CARD_INFO)))
    applet.add(BinaryFile(0x000C, b"\x03", ReadAccess.protected()))
    loaded = SoftwareCard.from_bytes(card.to_bytes())
    tx(loaded, SELECT_CARD_INFO)
    tx(loaded, select_ef(0x0009))
    assert tx(loaded, "00B0000000")[1] == 0x6982
    tx(loaded, select_ef(0x0011))
    assert tx(loaded, "0020008004" + b"1234".hex())[1] == 0x9000
    tx(loaded, select_ef(0x0009))
    assert tx(loaded, "00B0000000") == (b"\x01\x02", 0x9000)
    tx(loaded, select_ef(0x000C))
    assert tx(loaded, "00B0000000")[1] == 0x6982
