"""PC/SC readers through pcscd. The ONLY module of the project that imports pyscard.

The low-level `smartcard.scard` API is used throughout because the high-level one turns
the PC/SC return codes into a few generic exceptions, and the codes are what tell "card
pulled" from "someone else holds the card" from "pcscd is not running".

Extended length: `PcscConnection.extended_length` says whether CardChannel may send
extended APDUs. pcsc-lite itself carries APDUs up to 64 KiB and vpcd forwards them, but
neither the reader nor the card can be asked in a portable way (SCARD_ATTR_MAXINPUT is
CCID-only; vpcd answers "unsupported"). So by default it is True only when the card
declares extended Lc/Le in its ATR (card capabilities, ISO 7816-4 8.1.1.2.7) and the
reader does not report a smaller maximum. The My Number card's contact ATR has no
historical bytes, so the project reads it with short APDUs, as every other client does.
Callers that know better pass `extended_length=True/False` to `open_reader`.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Literal, NoReturn

from card.errors import (
    CardError,
    CardRemovedError,
    CardTimeoutError,
    NoCardError,
    NoReaderError,
    PcscNotInstalledError,
    PcscUnavailableError,
    ReaderBusyError,
    ReaderRemovedError,
    TransportError,
)

try:
    from smartcard import scard
except ModuleNotFoundError as exc:  # pyscard is an optional extra
    if exc.name not in ("smartcard", "smartcard.scard"):
        raise
    raise PcscNotInstalledError(
        "PC/SC readers need pyscard, which is not installed: pip install 'mynaterm[pcsc]'"
    ) from None

Protocol = Literal["T0", "T1", "any"]

# pyscard exposes these as module attributes without type information.
_S: Any = scard

PNP_NOTIFICATION = "\\\\?PnP?\\Notification"
# The largest command APDU of the short form: CLA INS P1 P2 Lc 255 bytes Le.
_SHORT_APDU_MAX = 261
# SCardStatus card states (pcsc-lite values; pyscard does not export them).
_CARD_PRESENT = 0x0004
_CARD_POWERED = 0x0010
_SUCCESS: int = scard.SCARD_S_SUCCESS

START_PCSCD_HINT = (
    "start pcscd: `pcscd` (Debian: apt-get install pcscd), or `mynaterm pcsc-stack up` for "
    "the virtual readers; on a systemd host `systemctl start pcscd.socket`"
)

_PROTOCOLS = {
    "T0": _S.SCARD_PROTOCOL_T0,
    "T1": _S.SCARD_PROTOCOL_T1,
    "any": _S.SCARD_PROTOCOL_T0 | _S.SCARD_PROTOCOL_T1,
}


# --- reader states (values fixed by the PC/SC specification) ---------------------------

STATE_UNAWARE: int = _S.SCARD_STATE_UNAWARE
STATE_IGNORE: int = _S.SCARD_STATE_IGNORE
STATE_CHANGED: int = _S.SCARD_STATE_CHANGED
STATE_UNKNOWN: int = _S.SCARD_STATE_UNKNOWN
STATE_UNAVAILABLE: int = _S.SCARD_STATE_UNAVAILABLE
STATE_EMPTY: int = _S.SCARD_STATE_EMPTY
STATE_PRESENT: int = _S.SCARD_STATE_PRESENT
STATE_EXCLUSIVE: int = _S.SCARD_STATE_EXCLUSIVE
STATE_INUSE: int = _S.SCARD_STATE_INUSE
STATE_MUTE: int = _S.SCARD_STATE_MUTE


@dataclass(frozen=True)
class ReaderInfo:
    """One reader as pcscd sees it right now."""

    name: str
    card_present: bool
    atr: bytes | None
    exclusive: bool = False  # another client holds the card exclusively
    in_use: bool = False  # another client holds a shared connection to the card
    mute: bool = False  # a card is there but did not answer to reset


@dataclass(frozen=True)
class ReaderState:
    """One entry of SCardGetStatusChange: reader name, event state flags, ATR."""

    name: str
    state: int
    atr: bytes

    @property
    def present(self) -> bool:
        return bool(self.state & STATE_PRESENT) and not self.state & STATE_UNKNOWN

    @property
    def gone(self) -> bool:
        """The reader no longer exists (detached, or pcscd lost it)."""
        return bool(self.state & (STATE_UNKNOWN | STATE_IGNORE))


# --- error mapping -----------------------------------------------------------------------

_SERVICE_CODES = frozenset({_S.SCARD_E_NO_SERVICE, _S.SCARD_E_SERVICE_STOPPED})
_NO_READER_CODES = frozenset({_S.SCARD_E_UNKNOWN_READER, _S.SCARD_E_NO_READERS_AVAILABLE})
_NO_CARD_CODES = frozenset(
    {_S.SCARD_E_NO_SMARTCARD, _S.SCARD_W_REMOVED_CARD, _S.SCARD_W_UNPOWERED_CARD}
)
_CARD_GONE_CODES = frozenset(
    {
        _S.SCARD_W_REMOVED_CARD,
        _S.SCARD_W_RESET_CARD,
        _S.SCARD_E_NO_SMARTCARD,
        _S.SCARD_W_UNPOWERED_CARD,
    }
)


def _code_text(hr: int) -> str:
    try:
        text = str(scard.SCardGetErrorMessage(hr))
    except Exception:  # pragma: no cover - pyscard always has a message; be safe anyway
        text = "unknown error"
    return f"{text} (0x{hr & 0xFFFFFFFF:08X})"


def error_for_code(
    hr: int, action: str, *, reader: str | None = None, card_expected: bool = False
) -> TransportError:
    """The typed error for a PC/SC return code. `card_expected` is True once a card
    connection exists: a missing card then means it was pulled mid-operation."""
    where = f" on reader {reader!r}" if reader else ""
    text = f"{action}{where}: {_code_text(hr)}"
    if hr in _SERVICE_CODES:
        return PcscUnavailableError(f"PC/SC service not available ({text}); {START_PCSCD_HINT}")
    if hr == _S.SCARD_E_SHARING_VIOLATION:
        return ReaderBusyError(f"{text}: another program is using the card")
    if card_expected and hr in _CARD_GONE_CODES:
        return CardRemovedError(f"{text}: the card was removed or reset")
    if hr in _NO_CARD_CODES:
        return NoCardError(f"{text}: no card in the reader")
    if hr in _NO_READER_CODES:
        return NoReaderError(text)
    if hr == _S.SCARD_E_READER_UNAVAILABLE:
        if card_expected:
            return ReaderRemovedError(f"{text}: the reader was detached")
        return NoReaderError(text)
    if hr in (_S.SCARD_E_TIMEOUT, _S.SCARD_W_UNRESPONSIVE_CARD):
        return CardTimeoutError(text)
    if hr == _S.SCARD_W_RESET_CARD:
        return CardRemovedError(f"{text}: the card was reset by another program")
    return TransportError(text)


def _check(hr: int, action: str, **kwargs: Any) -> None:
    if hr != _S.SCARD_S_SUCCESS:
        raise error_for_code(hr, action, **kwargs)


# --- context -----------------------------------------------------------------------------


class PcscContext:
    """An SCARDCONTEXT: the client's session with pcscd. Used for listing readers and
    watching their state; each PcscConnection owns its own."""

    def __init__(self) -> None:
        try:
            hr, handle = scard.SCardEstablishContext(_S.SCARD_SCOPE_USER)
        except Exception as exc:  # pyscard raises when libpcsclite itself cannot load
            raise PcscUnavailableError(f"cannot reach PC/SC: {exc}; {START_PCSCD_HINT}") from exc
        _check(hr, "connecting to pcscd")
        self.handle: Any = handle
        self._released = False

    def readers(self) -> list[str]:
        hr, names = scard.SCardListReaders(self.handle, [])
        if hr in (_S.SCARD_E_NO_READERS_AVAILABLE, _S.SCARD_E_READER_UNAVAILABLE):
            return []
        _check(hr, "listing readers")
        return [str(name) for name in names]

    def status_change(
        self, states: Sequence[tuple[str, int]], timeout: float
    ) -> list[ReaderState] | None:
        """Block until one of `states` (reader name, current state) differs, at most
        `timeout` seconds. Returns None on timeout or cancel."""
        millis = max(0, int(timeout * 1000))
        hr, result = scard.SCardGetStatusChange(self.handle, millis, list(states))
        if hr in (_S.SCARD_E_TIMEOUT, _S.SCARD_E_CANCELLED):
            return None
        _check(hr, "watching readers")
        return [ReaderState(str(name), int(state), bytes(atr)) for name, state, atr in result]

    def cancel(self) -> None:
        """Wake a status_change() blocked in another thread."""
        if not self._released:
            scard.SCardCancel(self.handle)

    def is_valid(self) -> bool:
        return not self._released and scard.SCardIsValidContext(self.handle) == _S.SCARD_S_SUCCESS

    def release(self) -> None:
        if not self._released:
            self._released = True
            scard.SCardReleaseContext(self.handle)

    def __enter__(self) -> PcscContext:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def _reader_info(state: ReaderState) -> ReaderInfo:
    present = state.present
    return ReaderInfo(
        name=state.name,
        card_present=present,
        atr=state.atr if present and state.atr else None,
        exclusive=bool(state.state & STATE_EXCLUSIVE),
        in_use=bool(state.state & STATE_INUSE),
        mute=bool(state.state & STATE_MUTE),
    )


def list_readers() -> list[ReaderInfo]:
    """Every reader pcscd knows, with card presence and ATR. Raises PcscUnavailableError
    when pcscd is not running; an empty list when it runs without readers."""
    with PcscContext() as context:
        names = context.readers()
        if not names:
            return []
        states = context.status_change([(name, STATE_UNAWARE) for name in names], 0)
        if states is None:  # every reader vanished between the two calls
            return []
        return [_reader_info(state) for state in states]


def resolve_reader(name_or_index: str, names: Sequence[str]) -> str:
    """The reader meant by an exact name, a 0-based index, or a unique case-insensitive
    part of a name (`--reader 1`, `--reader "PCD 00 01"`)."""
    if not names:
        raise NoReaderError("no PC/SC reader is attached")
    if name_or_index in names:
        return name_or_index
    if name_or_index.isdigit():
        index = int(name_or_index)
        if index < len(names):
            return names[index]
        raise NoReaderError(f"no reader with index {index}; readers: {list(names)}")
    wanted = name_or_index.casefold()
    matches = [name for name in names if wanted in name.casefold()]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise NoReaderError(f"no reader named {name_or_index!r}; readers: {list(names)}")
    raise NoReaderError(f"{name_or_index!r} matches several readers: {matches}")


# --- ATR: does the card declare extended length? --------------------------------------


def atr_declares_extended_length(atr: bytes) -> bool:
    """True when the ATR's historical bytes carry card capabilities (compact TLV tag 7x)
    whose third byte has b7 set: "extended Lc and Le fields" (ISO 7816-4)."""
    historical = _historical_bytes(atr)
    if not historical or historical[0] != 0x80:
        return False
    body = historical[1:]
    i = 0
    while i < len(body):
        tag, length = body[i] >> 4, body[i] & 0x0F
        value = body[i + 1 : i + 1 + length]
        if tag == 0x7 and len(value) >= 3:
            return bool(value[2] & 0x40)
        i += 1 + length
    return False


def _historical_bytes(atr: bytes) -> bytes:
    if len(atr) < 2:
        return b""
    count = atr[1] & 0x0F
    i = 1
    y = atr[1] >> 4
    while True:
        i += bin(y).count("1")  # skip TAi..TDi that are present
        if not y & 0x8 or i >= len(atr):
            break
        y = atr[i] >> 4
    start = i + 1
    return atr[start : start + count]


# --- connection --------------------------------------------------------------------------


class PcscConnection:
    """A card in a PC/SC reader, as a card.connection.Connection.

    Exclusive by default: a JPKI session holds verified-PIN state that another program
    could spoil by selecting another applet in between."""

    def __init__(
        self,
        context: PcscContext,
        reader: str,
        *,
        shared: bool,
        protocol: Protocol,
        extended_length: bool | None,
    ) -> None:
        self.reader = reader
        self._context = context
        self._share = _S.SCARD_SHARE_SHARED if shared else _S.SCARD_SHARE_EXCLUSIVE
        self._preferred = _PROTOCOLS[protocol]
        hr, handle, active = scard.SCardConnect(
            context.handle, reader, self._share, self._preferred
        )
        _check(hr, "connecting to the card", reader=reader)
        self._handle: Any = handle
        self._protocol = int(active)
        self._pci: Any = (
            _S.SCARD_PCI_T0 if self._protocol == _S.SCARD_PROTOCOL_T0 else _S.SCARD_PCI_T1
        )
        self._closed = False
        self._removed: str | None = None
        self.atr = self._read_atr()
        if extended_length is None:
            extended_length = (
                atr_declares_extended_length(self.atr) and self._reader_allows_extended()
            )
        self.extended_length = extended_length

    @property
    def protocol(self) -> str:
        return "T0" if self._protocol == _S.SCARD_PROTOCOL_T0 else "T1"

    def transmit(self, apdu: bytes) -> tuple[bytes, int]:
        # The path of every good APDU is kept to the bare minimum (the benchmark compares
        # it with a bare SCardTransmit loop); every check that needs a PC/SC call or
        # builds an error runs only when the answer is already suspicious.
        if self._closed or self._removed is not None:
            self._require_open()
        hr, response = scard.SCardTransmit(self._handle, self._pci, list(apdu))
        if hr != _SUCCESS or len(response) < 2:
            self._raise_for_failed_transmit(hr, response)
        return bytes(response[:-2]), (response[-2] << 8) | response[-1]

    def _raise_for_failed_transmit(self, hr: int, response: Sequence[int]) -> NoReturn:
        if hr == _S.SCARD_W_RESET_CARD:
            # Someone else reset the card: our handle survives (reset() recovers it),
            # but every selection of this session is gone (verified PINs may not be).
            raise error_for_code(hr, "sending a command", reader=self.reader, card_expected=True)
        if hr != _SUCCESS:
            raise self._removed_or(self._transmit_error(hr))
        # vpcd answers an empty "success" when the card's socket closes mid-command;
        # other drivers may too. Either the card went away or the link is broken.
        text = f"reader {self.reader!r} returned {len(response)} bytes, no status word"
        if not self._card_still_present():
            raise self._removed_or(CardRemovedError(f"{text}: the card was removed"))
        raise TransportError(text)

    def reset(self) -> bytes:
        """Warm reset (SCardReconnect with SCARD_RESET_CARD); returns the new ATR. Every
        applet selection is gone afterwards; verified PINs may survive it (they did on
        the measured real card), so a reset is no logout: see AppletSession.logout."""
        self._require_open()
        hr, active = scard.SCardReconnect(
            self._handle, self._share, self._preferred, _S.SCARD_RESET_CARD
        )
        _check(hr, "resetting the card", reader=self.reader, card_expected=True)
        self._protocol = int(active)
        self.atr = self._read_atr()
        return self.atr

    def close(self) -> None:
        """Disconnect leaving the card powered, and end the PC/SC context."""
        if self._closed:
            return
        self._closed = True
        try:
            if self._removed is None:
                scard.SCardDisconnect(self._handle, _S.SCARD_LEAVE_CARD)
        finally:
            self._context.release()

    def __enter__(self) -> PcscConnection:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _require_open(self) -> None:
        if self._closed:
            raise CardError(f"connection to {self.reader!r} is closed")
        if self._removed is not None:
            raise CardRemovedError(self._removed)

    def _removed_or(self, error: TransportError) -> TransportError:
        """On a removal, let go of the card handle at once: an exclusive handle to a
        pulled card would otherwise keep the NEXT card in this reader busy."""
        if isinstance(error, CardRemovedError) and self._removed is None:
            self._removed = f"{error} (connection to {self.reader!r} no longer usable)"
            scard.SCardDisconnect(self._handle, _S.SCARD_LEAVE_CARD)
        return error

    def _read_atr(self) -> bytes:
        hr, _reader, _state, _protocol, atr = scard.SCardStatus(self._handle)
        _check(hr, "reading the ATR", reader=self.reader, card_expected=True)
        return bytes(atr)

    def _reader_allows_extended(self) -> bool:
        try:
            hr, value = scard.SCardGetAttrib(self._handle, _S.SCARD_ATTR_MAXINPUT)
        except SystemError:  # pyscard quirk on some failures; means "not reported"
            return True
        if hr != _S.SCARD_S_SUCCESS or len(value) < 4:
            return True  # not reported: pcsc-lite carries extended APDUs itself
        return int.from_bytes(bytes(value[:4]), "little") > _SHORT_APDU_MAX

    def _transmit_error(self, hr: int) -> TransportError:
        if hr in _SERVICE_CODES:
            return error_for_code(hr, "sending a command", reader=self.reader)
        error = error_for_code(hr, "sending a command", reader=self.reader, card_expected=True)
        # A generic failure (vpcd and many drivers report a pulled card as a
        # communication error): ask pcscd whether the card is still there.
        generic = type(error) is TransportError or isinstance(error, CardTimeoutError)
        if generic and not self._card_still_present():
            return CardRemovedError(f"{error}: the card was removed")
        return error

    def _card_still_present(self, grace: float = 1.0) -> bool:
        """After a failed exchange: is the card still there? pcscd notices a removal
        only at its next presence poll (~400 ms for vpcd), so ask for up to `grace` s."""
        deadline = time.monotonic() + grace
        while True:
            hr, _reader, state, _protocol, _atr = scard.SCardStatus(self._handle)
            if hr != _S.SCARD_S_SUCCESS or not int(state) & _CARD_PRESENT:
                return False
            if time.monotonic() >= deadline:
                return True
            time.sleep(0.05)


def open_reader(
    name_or_index: str,
    *,
    shared: bool = False,
    protocol: Protocol = "any",
    timeout: float = 0.0,
    extended_length: bool | None = None,
) -> PcscConnection:
    """Connect to the card in a reader (exact name, index, or unique part of a name).

    `timeout`: seconds to wait for a card to be inserted before NoCardError (0 = it must
    be there now). Exclusive unless `shared`; a card held by another program raises
    ReaderBusyError at once (never waits)."""
    context = PcscContext()
    try:
        reader = resolve_reader(name_or_index, context.readers())
        if timeout > 0:
            _wait_for_card(context, reader, timeout)
        return PcscConnection(
            context, reader, shared=shared, protocol=protocol, extended_length=extended_length
        )
    except BaseException:
        context.release()
        raise


def _wait_for_card(context: PcscContext, reader: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    known = STATE_UNAWARE
    while True:
        states = context.status_change([(reader, known)], max(0.0, deadline - time.monotonic()))
        if states is None:
            raise NoCardError(f"no card inserted in {reader!r} within {timeout:g} s")
        state = states[0]
        if state.gone:
            raise ReaderRemovedError(f"reader {reader!r} was detached")
        if state.present and not state.state & STATE_MUTE:
            return
        known = state.state & ~STATE_CHANGED
        if time.monotonic() >= deadline:
            raise NoCardError(f"no card inserted in {reader!r} within {timeout:g} s")


def wait_for_reader(reader: str, *, present: bool, timeout: float) -> bool:
    """Wait until pcscd sees a card in `reader` (present=True) or sees it empty; False
    after `timeout` s. Swapping cards needs both: pcscd polls vpcd every ~400 ms, and a
    card swapped within one poll looks unpowered to clients."""
    deadline = time.monotonic() + timeout
    with PcscContext() as context:
        known = STATE_UNAWARE
        while True:
            states = context.status_change([(reader, known)], max(0.0, deadline - time.monotonic()))
            if states is None:
                return False
            state = states[0]
            if state.gone:
                raise NoReaderError(f"no reader named {reader!r}")
            if state.present == present and not state.state & STATE_MUTE:
                return True
            known = state.state & ~STATE_CHANGED
            if time.monotonic() >= deadline:
                return False


def replay(connection: PcscConnection, apdus: Sequence[bytes]) -> list[int]:
    """Send `apdus` with bare SCardTransmit calls and return the status words: the
    baseline that benchmarks compare the project's protocol and session code against.
    No error mapping, no checks: benchmarks only."""
    connection._require_open()
    handle, pci = connection._handle, connection._pci
    words = []
    for apdu in apdus:
        _hr, response = scard.SCardTransmit(handle, pci, list(apdu))
        words.append((response[-2] << 8) | response[-1] if len(response) >= 2 else -1)
    return words
