"""Plug a software card into pcscd's virtual reader driver (vsmartcard-vpcd).

vpcd listens on TCP (35963 for "Virtual PCD 00 00", 35964 for "... 00 01"); the card
connects as a client. Framing both ways: 2-byte big-endian length, then the payload. A
1-byte payload from vpcd is a control byte (00 power off, 01 power on, 02 reset, 04 get
ATR; only 04 is answered); anything longer is a command APDU, answered with data + SW.

Two rules keep pcscd healthy and fast:
- vpcd reads without a timeout, so the card ALWAYS answers: a bug on this side still
  answers 6F00 instead of leaving the reader hung inside pcscd.
- vpcd writes length and payload in two segments without TCP_NODELAY; with Linux
  delayed ACKs each APDU then waits ~40 ms for an ACK. Setting TCP_QUICKACK before every
  recv() (Linux resets it) plus TCP_NODELAY and one sendall() per reply removes that.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import struct
import threading
import time
from collections.abc import Callable
from typing import Protocol

log = logging.getLogger(__name__)

VPCD_PORT = 35963
POWER_OFF, POWER_ON, RESET, GET_ATR = 0x00, 0x01, 0x02, 0x04
SW_NO_PRECISE_DIAGNOSIS = b"\x6f\x00"
MINIMAL_ATR = b"\x3b\x00"  # direct convention, no interface or historical bytes
_TCP_QUICKACK = getattr(socket, "TCP_QUICKACK", None)


class VirtualCard(Protocol):
    """What the bridge needs from a card (simulators.card.SoftwareCard has it)."""

    @property
    def atr(self) -> bytes: ...

    def power_on(self) -> bytes: ...

    def power_off(self) -> None: ...

    def reset(self) -> bytes: ...

    def process(self, apdu: bytes) -> bytes: ...


class BridgeError(Exception):
    """The bridge could not reach vpcd (pcscd not running, wrong port)."""

    code = "PCSC_UNAVAILABLE"


class VpcdBridge:
    """One card in one vpcd reader slot. `insert()` connects and serves in a thread;
    `remove()` closes the socket, which vpcd reports as a pulled card.

    `apdu_count` counts command APDUs received (control bytes not included), so tests
    and benchmarks see exactly what any client (OpenSC, the project) sent."""

    def __init__(
        self,
        card: VirtualCard,
        host: str = "127.0.0.1",
        port: int = VPCD_PORT,
        *,
        quickack: bool = True,
    ) -> None:
        self.card = card
        self.host = host
        self.port = port
        self.quickack = quickack
        self.apdu_count = 0
        self.commands: list[bytes] | None = None  # set to [] to record command headers
        self.pull_on_apdu: int | None = None  # fault injection, see pull_after()
        self.on_apdu: Callable[[bytes], None] | None = None
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._served = threading.Event()
        self.last_error: BaseException | None = None

    # --- life cycle ----------------------------------------------------------------------

    def insert(self, timeout: float = 5.0) -> None:
        """Connect to vpcd (retrying until it listens, at most `timeout` s) and serve."""
        if self.inserted:
            return
        deadline = time.monotonic() + timeout
        while True:
            try:
                sock = socket.create_connection((self.host, self.port), timeout=1.0)
                break
            except OSError as exc:
                if time.monotonic() >= deadline:
                    raise BridgeError(
                        f"vpcd does not accept on {self.host}:{self.port} ({exc}); is pcscd "
                        "running with the vpcd driver? (`mynaterm pcsc-stack up`)"
                    ) from exc
                time.sleep(0.05)
        sock.settimeout(None)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._sock = sock
        self._served.clear()
        self._thread = threading.Thread(
            target=self._serve, args=(sock,), name=f"vpcd-{self.port}", daemon=True
        )
        self._thread.start()

    def remove(self) -> None:
        """Pull the card: close the socket and wait for the serving thread."""
        with self._lock:
            sock, self._sock = self._sock, None
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
        thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5.0)

    stop = remove

    @property
    def inserted(self) -> bool:
        return self._sock is not None

    def pull_after(self, apdus: int) -> None:
        """Fault injection: when the `apdus`-th command from now arrives, pull the card
        instead of answering it (a card yanked while the reader waits for its answer)."""
        self.pull_on_apdu = self.apdu_count + apdus

    def wait_powered(self, timeout: float = 5.0) -> bool:
        """Wait until vpcd has asked for the ATR once, i.e. pcscd noticed the card."""
        return self._served.wait(timeout)

    def __enter__(self) -> VpcdBridge:
        self.insert()
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()

    # --- serving -------------------------------------------------------------------------

    def _serve(self, sock: socket.socket) -> None:
        try:
            while True:
                header = self._recv_exact(sock, 2)
                if header is None:
                    return
                (length,) = struct.unpack(">H", header)
                payload = self._recv_exact(sock, length) if length else b""
                if payload is None:
                    return
                try:
                    reply = self._handle(payload)
                except _PullCard:
                    self.remove()
                    return
                if reply is not None:
                    # One segment: length and payload together (see module docstring).
                    sock.sendall(struct.pack(">H", len(reply)) + reply)
        except OSError as exc:
            if self._sock is sock:  # not a deliberate remove()
                self.last_error = exc
                log.warning("vpcd bridge on port %d: %s", self.port, exc)
        finally:
            with self._lock:
                if self._sock is sock:
                    self._sock = None
                    sock.close()

    def _recv_exact(self, sock: socket.socket, count: int) -> bytes | None:
        chunks = bytearray()
        while len(chunks) < count:
            if self.quickack and _TCP_QUICKACK is not None:
                sock.setsockopt(socket.IPPROTO_TCP, _TCP_QUICKACK, 1)
            chunk = sock.recv(count - len(chunks))
            if not chunk:
                return None
            chunks += chunk
        return bytes(chunks)

    def _handle(self, payload: bytes) -> bytes | None:
        if len(payload) == 1:
            return self._control(payload[0])
        self.apdu_count += 1
        if self.pull_on_apdu is not None and self.apdu_count >= self.pull_on_apdu:
            self.pull_on_apdu = None
            raise _PullCard
        if self.commands is not None:
            self.commands.append(payload[:4])
        if self.on_apdu is not None:
            try:
                self.on_apdu(payload)
            except Exception:  # a test hook must not leave vpcd without an answer
                log.exception("vpcd bridge: on_apdu hook failed")
        return self._process(payload)

    def _control(self, code: int) -> bytes | None:
        try:
            if code == GET_ATR:
                self._served.set()
                return bytes(self.card.atr)
            if code == POWER_ON:
                self.card.power_on()
            elif code == POWER_OFF:
                self.card.power_off()
            elif code == RESET:
                self.card.reset()
            else:
                log.warning("vpcd bridge: unknown control byte %02X ignored", code)
        except Exception:
            # The card is specified never to raise; if it does, vpcd must still work,
            # and a get-ATR must be answered or vpcd waits for it forever.
            log.exception("software card failed on control byte %02X", code)
            if code == GET_ATR:
                return MINIMAL_ATR
        return None

    def _process(self, apdu: bytes) -> bytes:
        try:
            response = bytes(self.card.process(apdu))
        except Exception as exc:
            # Log the type only: the exception text could echo a PIN from the APDU.
            log.error(
                "software card raised %s on INS %02X; answering 6F00", type(exc).__name__, apdu[1]
            )
            return SW_NO_PRECISE_DIAGNOSIS
        if len(response) < 2:
            log.error("software card answered %d bytes; answering 6F00", len(response))
            return SW_NO_PRECISE_DIAGNOSIS
        return response


class _PullCard(Exception):
    """Raised inside the serving thread to drop the connection without answering."""
