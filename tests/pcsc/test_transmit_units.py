"""PcscConnection.transmit without pcscd: the SCard calls are scripted, so the tests can
say which PC/SC calls each answer costs. A good answer must cost one SCardTransmit and
nothing else (no presence query per APDU); a suspicious one (an error code, an empty or
1-byte "success") must still end in the right typed error."""

from __future__ import annotations

from typing import Any

import pytest

from card import pcsc
from card.errors import CardError, CardRemovedError, TransportError
from card.pcsc import PcscConnection

SUCCESS = 0
RESET_CARD = 0x80100068  # SCARD_W_RESET_CARD
NOT_TRANSACTED = 0x80100016  # SCARD_E_NOT_TRANSACTED: what vpcd reports for a lost card
PRESENT, ABSENT = 0x0004 | 0x0010, 0x0002


class ScriptedScard:
    """Stands in for pyscard's scard module inside card.pcsc: SCardTransmit answers from
    a script of (code, response bytes); SCardStatus reports `card_state`. Every call is
    logged; anything not scripted goes to the real module (error texts, constants)."""

    def __init__(self, real: Any, answers: list[tuple[int, bytes]], card_state: int) -> None:
        self._real = real
        self.answers = answers
        self.card_state = card_state
        self.calls: list[str] = []
        self.sent: list[list[int]] = []

    def SCardTransmit(self, handle: Any, pci: Any, apdu: list[int]) -> tuple[int, list[int]]:
        self.calls.append("transmit")
        self.sent.append(apdu)
        code, response = self.answers.pop(0)
        return code, list(response)

    def SCardStatus(self, handle: Any) -> tuple[int, str, int, int, list[int]]:
        self.calls.append("status")
        return SUCCESS, "reader", self.card_state, 2, []

    def SCardDisconnect(self, handle: Any, disposition: int) -> int:
        self.calls.append("disconnect")
        return SUCCESS

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


class FakeClock:
    """time for card.pcsc: sleep() advances monotonic(), so the 1 s presence grace
    after a suspicious answer costs no real time."""

    def __init__(self) -> None:
        self.now = 0.0

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


class NullContext:
    def release(self) -> None:
        pass


def _connection(
    monkeypatch: pytest.MonkeyPatch, answers: list[tuple[int, bytes]], card_state: int = PRESENT
) -> tuple[PcscConnection, ScriptedScard]:
    scripted = ScriptedScard(vars(pcsc)["scard"], answers, card_state)
    monkeypatch.setattr(pcsc, "scard", scripted)
    monkeypatch.setattr(pcsc, "time", FakeClock())
    # A connection as SCardConnect would leave it, without a reader behind it.
    connection = object.__new__(PcscConnection)
    connection.reader = "Scripted Reader 00 00"
    connection._context = NullContext()  # type: ignore[assignment]
    connection._handle = 1
    connection._pci = object()
    connection._closed = False
    connection._removed = None
    return connection, scripted


def test_a_good_answer_costs_one_transmit_and_nothing_else(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    connection, scripted = _connection(
        monkeypatch, [(SUCCESS, bytes.fromhex("01029000")), (SUCCESS, bytes.fromhex("63C2"))]
    )
    assert connection.transmit(bytes.fromhex("00B0000002")) == (b"\x01\x02", 0x9000)
    data, sw = connection.transmit(bytes.fromhex("00200080"))
    assert (data, sw) == (b"", 0x63C2) and type(data) is bytes
    assert scripted.calls == ["transmit", "transmit"]
    assert scripted.sent == [[0x00, 0xB0, 0x00, 0x00, 0x02], [0x00, 0x20, 0x00, 0x80]]


@pytest.mark.parametrize("answer", [b"", b"\x90"])
def test_a_short_success_from_a_pulled_card_is_a_removal(
    monkeypatch: pytest.MonkeyPatch, answer: bytes
) -> None:
    """vpcd answers an empty success when the card's socket closes mid-command."""
    connection, scripted = _connection(monkeypatch, [(SUCCESS, answer)], card_state=ABSENT)
    with pytest.raises(CardRemovedError, match="no status word: the card was removed"):
        connection.transmit(bytes.fromhex("00B0000002"))
    assert scripted.calls == ["transmit", "status", "disconnect"]  # handle let go at once
    with pytest.raises(CardRemovedError):  # and nothing more is sent
        connection.transmit(bytes.fromhex("00B0000002"))
    assert scripted.calls.count("transmit") == 1


def test_a_short_success_with_the_card_still_there_is_a_transport_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    connection, scripted = _connection(monkeypatch, [(SUCCESS, b"")], card_state=PRESENT)
    with pytest.raises(TransportError, match="returned 0 bytes, no status word") as caught:
        connection.transmit(bytes.fromhex("00B0000002"))
    assert not isinstance(caught.value, CardRemovedError)
    assert scripted.calls[0] == "transmit" and "status" in scripted.calls
    assert "disconnect" not in scripted.calls


@pytest.mark.parametrize(
    ("card_state", "expected"), [(ABSENT, CardRemovedError), (PRESENT, TransportError)]
)
def test_a_generic_failure_asks_whether_the_card_is_still_there(
    monkeypatch: pytest.MonkeyPatch, card_state: int, expected: type[Exception]
) -> None:
    connection, scripted = _connection(monkeypatch, [(NOT_TRANSACTED, b"")], card_state)
    with pytest.raises(expected) as caught:
        connection.transmit(bytes.fromhex("00A4040C02AAAA"))
    assert type(caught.value) is expected
    assert "status" in scripted.calls


def test_a_reset_by_another_program_keeps_the_handle(monkeypatch: pytest.MonkeyPatch) -> None:
    connection, scripted = _connection(
        monkeypatch, [(RESET_CARD, b""), (SUCCESS, bytes.fromhex("9000"))]
    )
    with pytest.raises(CardRemovedError, match="removed or reset"):
        connection.transmit(bytes.fromhex("00A4040C02AAAA"))
    # The handle survives a reset (the caller re-selects): the next command goes out.
    assert connection.transmit(bytes.fromhex("00A4040C02AAAA")) == (b"", 0x9000)
    assert scripted.calls == ["transmit", "transmit"]


def test_a_closed_connection_sends_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    connection, scripted = _connection(monkeypatch, [])
    connection._closed = True
    with pytest.raises(CardError, match="is closed"):
        connection.transmit(bytes.fromhex("00A4040C02AAAA"))
    assert scripted.calls == []
