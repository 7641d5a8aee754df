"""card.pcsc and card.monitor logic that needs no pcscd: PC/SC codes -> typed errors,
ATR card capabilities, reader name resolution, monitor state machine (scripted context)."""

from __future__ import annotations

import time
from collections.abc import Sequence

import pytest

from card.errors import (
    CardRemovedError,
    CardTimeoutError,
    NoCardError,
    NoReaderError,
    PcscUnavailableError,
    ReaderBusyError,
    ReaderRemovedError,
    TransportError,
)
from card.monitor import EventKind, ReaderMonitor
from card.pcsc import (
    PNP_NOTIFICATION,
    STATE_CHANGED,
    STATE_EMPTY,
    STATE_PRESENT,
    STATE_UNKNOWN,
    ReaderState,
    atr_declares_extended_length,
    error_for_code,
    resolve_reader,
)

# (PC/SC code, card connected?, expected error type)
CODES = [
    (0x8010001D, False, PcscUnavailableError),  # SCARD_E_NO_SERVICE
    (0x8010001E, True, PcscUnavailableError),  # SCARD_E_SERVICE_STOPPED
    (0x8010000B, False, ReaderBusyError),  # SCARD_E_SHARING_VIOLATION
    (0x8010000B, True, ReaderBusyError),
    (0x8010000C, False, NoCardError),  # SCARD_E_NO_SMARTCARD
    (0x8010000C, True, CardRemovedError),
    (0x80100069, False, NoCardError),  # SCARD_W_REMOVED_CARD
    (0x80100069, True, CardRemovedError),
    (0x80100068, True, CardRemovedError),  # SCARD_W_RESET_CARD
    (0x80100067, True, CardRemovedError),  # SCARD_W_UNPOWERED_CARD
    (0x80100009, False, NoReaderError),  # SCARD_E_UNKNOWN_READER
    (0x8010002E, False, NoReaderError),  # SCARD_E_NO_READERS_AVAILABLE
    (0x80100017, False, NoReaderError),  # SCARD_E_READER_UNAVAILABLE
    (0x80100017, True, ReaderRemovedError),
    (0x8010000A, True, CardTimeoutError),  # SCARD_E_TIMEOUT
    (0x80100066, False, CardTimeoutError),  # SCARD_W_UNRESPONSIVE_CARD
    (0x80100016, True, TransportError),  # SCARD_E_NOT_TRANSACTED: generic
]


@pytest.mark.parametrize(("code", "connected", "expected"), CODES)
def test_pcsc_codes_become_typed_errors(code: int, connected: bool, expected: type) -> None:
    error = error_for_code(code, "sending a command", reader="R", card_expected=connected)
    assert type(error) is expected
    assert f"0x{code:08X}" in str(error)
    assert "'R'" in str(error)


def test_service_error_says_how_to_start_pcscd() -> None:
    message = str(error_for_code(0x8010001D, "connecting to pcscd"))
    assert "start pcscd" in message and "pcsc-stack up" in message


ATRS = [
    ("3BE000FF8131FE4514", False),  # My Number card (contact): no historical bytes
    ("3B8180018080", False),  # historical 0x80, no capabilities
    # historical: 80 73 C0 21 C0 -> card capabilities, third byte C0: b7 set = extended
    ("3B8F8001" + "8073C021C0" + "0000000000000000000000", True),
    ("3B8F8001" + "8073C02180" + "0000000000000000000000", False),
    ("3B8A8001" + "00" + "31C0640000000000", False),  # category 00: not compact-TLV tags
    ("", False),
    ("3B", False),
]


@pytest.mark.parametrize(("atr", "extended"), ATRS)
def test_extended_length_only_when_the_atr_declares_it(atr: str, extended: bool) -> None:
    assert atr_declares_extended_length(bytes.fromhex(atr)) is extended


NAMES = ["Virtual PCD 00 00", "Virtual PCD 00 01", "ACS ACR39U ICC Reader 00 00"]


@pytest.mark.parametrize(
    ("wanted", "found"),
    [("Virtual PCD 00 01", "Virtual PCD 00 01"), ("2", NAMES[2]), ("acr39", NAMES[2])],
)
def test_reader_by_name_index_or_unique_part(wanted: str, found: str) -> None:
    assert resolve_reader(wanted, NAMES) == found


@pytest.mark.parametrize("wanted", ["3", "virtual", "gemalto"])
def test_unresolvable_reader_names_the_readers(wanted: str) -> None:
    with pytest.raises(NoReaderError, match="Virtual PCD 00 00"):
        resolve_reader(wanted, NAMES)


def test_no_readers_at_all() -> None:
    with pytest.raises(NoReaderError, match="no PC/SC reader"):
        resolve_reader("0", [])


class ScriptedContext:
    """Stands in for PcscContext: each status_change() returns the next scripted answer
    (a list of (name, state, atr)), or raises it if it is an exception."""

    def __init__(self, readers: list[str], script: list[object]) -> None:
        self._readers = readers
        self.script = script
        self.released = False

    def readers(self) -> list[str]:
        return list(self._readers)

    def status_change(
        self, states: Sequence[tuple[str, int]], timeout: float
    ) -> list[ReaderState] | None:
        if not self.script:
            time.sleep(min(timeout, 0.05))  # like pcscd: nothing happens until the timeout
            return None
        step = self.script.pop(0)
        if isinstance(step, Exception):
            raise step
        if callable(step):
            step = step(self)
        assert isinstance(step, list)
        return [ReaderState(n, s, a) for n, s, a in step]

    def cancel(self) -> None:
        pass

    def release(self) -> None:
        self.released = True


def test_monitor_reports_detach_attach_and_a_lost_service() -> None:
    atr = bytes.fromhex("3BE000FF8131FE4514")
    contexts: list[ScriptedContext] = []

    def detach_b(context: ScriptedContext) -> list[tuple[str, int, bytes]]:
        context._readers = ["A"]
        return [
            ("A", STATE_PRESENT, atr),
            ("B", STATE_UNKNOWN | STATE_CHANGED, b""),
            (PNP_NOTIFICATION, STATE_CHANGED, b""),
        ]

    first = ScriptedContext(
        ["A", "B"],
        [
            [
                ("A", STATE_PRESENT | STATE_CHANGED, atr),
                ("B", STATE_EMPTY | STATE_CHANGED, b""),
                (PNP_NOTIFICATION, 0, b""),
            ],
            detach_b,
            PcscUnavailableError("pcscd gone"),
        ],
    )
    second = ScriptedContext(
        ["A"], [[("A", STATE_EMPTY | STATE_CHANGED, b""), (PNP_NOTIFICATION, 0, b"")]]
    )
    answers: list[object] = [first, PcscUnavailableError("down"), second]

    def factory() -> ScriptedContext:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        assert isinstance(answer, ScriptedContext)
        contexts.append(answer)
        return answer

    monitor = ReaderMonitor(retry_seconds=0.01, context_factory=factory)  # type: ignore[arg-type]
    events = [(e.kind, e.reader) for e in monitor.events(0.5)]
    assert events == [
        (EventKind.READER_ATTACHED, "A"),
        (EventKind.READER_ATTACHED, "B"),
        (EventKind.CARD_INSERTED, "A"),
        (EventKind.READER_DETACHED, "B"),
        (EventKind.CARD_REMOVED, "A"),  # pcscd lost: its readers go, cards first
        (EventKind.READER_DETACHED, "A"),
        (EventKind.SERVICE_LOST, None),
        (EventKind.SERVICE_RESTORED, None),
        (EventKind.READER_ATTACHED, "A"),
    ]
    assert first.released
    assert monitor.snapshot() == {"A": None}
