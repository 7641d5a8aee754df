"""Start and stop a real pcscd with vpcd virtual readers, for tests, CI and developers.

pcscd's client socket path is fixed (/run/pcscd/pcscd.comm), so there is one pcscd per
machine. PcscStack therefore:
- takes an exclusive lock (a file lock inherited by the pcscd it starts, so it is held as
  long as that pcscd lives), so two test runs on one machine queue instead of fighting;
- refuses to start when some other pcscd runs, unless told to reuse it;
- runs pcscd with a private reader.conf.d (`pcscd -c DIR`) that it writes itself.

vpcd slots: one reader.conf entry gives two readers (ports P and P+1). Debian's vpcd
keeps its per-slot state in globals indexed by slot only, so two entries that load the
same .so share (and garble) their state; each extra entry therefore loads its own copy
of the driver file, which dlopen() treats as a separate library.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

PCSCD = Path("/usr/sbin/pcscd")
VPCD_DRIVER = Path("/usr/lib/pcsc/drivers/serial/libifdvpcd.so")
RUN_DIR = Path("/run/pcscd")
PCSCD_SOCKET = RUN_DIR / "pcscd.comm"
PCSCD_PIDFILE = RUN_DIR / "pcscd.pid"
LOCK_FILE = Path(tempfile.gettempdir()) / "mynaterm-pcscd.lock"
BASE_PORT = 35963
SLOTS_PER_ENTRY = 2  # VPCDSLOTS of Debian's build
APT_PACKAGES = ("pcscd", "libpcsclite-dev", "vsmartcard-vpcd", "opensc", "swig")


class PcscStackError(Exception):
    """The stack cannot be started; the message says what to do."""

    code = "PCSC_STACK"


class MissingPackagesError(PcscStackError):
    pass


@dataclass(frozen=True)
class VirtualReader:
    name: str
    port: int


def reader_names(entries: int) -> list[VirtualReader]:
    """Names pcscd gives the vpcd slots of `entries` reader.conf entries."""
    readers = []
    for entry in range(entries):
        friendly = "Virtual PCD" if entry == 0 else f"Virtual PCD {entry + 1}"
        for slot in range(SLOTS_PER_ENTRY):
            port = BASE_PORT + entry * SLOTS_PER_ENTRY + slot
            readers.append(VirtualReader(f"{friendly} 00 {slot:02X}", port))
    return readers


def write_reader_conf(directory: Path, entries: int) -> Path:
    """Write DIR/reader.conf.d (for `pcscd -c`) with `entries` vpcd entries, 2 readers
    each, ports 35963 upwards; copies the driver for entries after the first (see the
    module docstring). Returns the reader.conf.d path."""
    conf_dir = directory / "reader.conf.d"
    driver_dir = directory / "drivers"  # outside conf_dir: pcscd parses every file there
    conf_dir.mkdir(parents=True, exist_ok=True)
    for old in conf_dir.iterdir():
        old.unlink()
    blocks = []
    for entry in range(entries):
        port = BASE_PORT + entry * SLOTS_PER_ENTRY
        driver = VPCD_DRIVER
        if entry > 0:
            driver_dir.mkdir(parents=True, exist_ok=True)
            driver = driver_dir / f"libifdvpcd-{entry}.so"
            shutil.copyfile(VPCD_DRIVER.resolve(), driver)
        friendly = "Virtual PCD" if entry == 0 else f"Virtual PCD {entry + 1}"
        blocks.append(
            f'FRIENDLYNAME "{friendly}"\n'
            f"DEVICENAME   /dev/null:0x{port:04X}\n"
            f"LIBPATH      {driver}\n"
            f"CHANNELID    0x{port:04X}\n"
        )
    (conf_dir / "vpcd").write_text("\n".join(blocks))
    return conf_dir


def missing_packages() -> list[str]:
    missing = []
    if not PCSCD.exists():
        missing.append("pcscd")
    if not VPCD_DRIVER.exists():
        missing.append("vsmartcard-vpcd")
    return missing


def install_command(packages: list[str] | tuple[str, ...] = APT_PACKAGES) -> str:
    return "apt-get install -y --no-install-recommends " + " ".join(packages)


def ensure_packages(*, install: bool = False) -> None:
    """Raise MissingPackagesError naming the apt-get command, or run it if `install`."""
    missing = missing_packages()
    if not missing:
        return
    if not install:
        raise MissingPackagesError(
            f"missing {', '.join(missing)}; install with: {install_command(missing)}"
        )
    subprocess.run(["apt-get", "install", "-y", "--no-install-recommends", *missing], check=True)


def running_pcscd_pid() -> int | None:
    """The pid of a live pcscd (by its pid file and /proc), else None."""
    try:
        pid = int(PCSCD_PIDFILE.read_bytes().strip(b"\0\n ") or b"0")
    except (OSError, ValueError):
        pid = 0
    if pid > 0 and _is_pcscd(pid):
        return pid
    # A pcscd started without a pid file (or by someone else): look for the socket.
    return _any_pcscd_pid()


def _is_pcscd(pid: int) -> bool:
    """A live pcscd process. A zombie (exited, not yet reaped by its parent) keeps its
    /proc entry and name but no longer holds the socket or the lock: not running."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    name_end = stat.rfind(")")
    name = stat[stat.find("(") + 1 : name_end]
    state = stat[name_end + 2 : name_end + 3]
    return name == "pcscd" and state not in ("Z", "X")


def _any_pcscd_pid() -> int | None:
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and _is_pcscd(int(entry.name)):
            return int(entry.name)
    return None


def remove_stale_files() -> None:
    """A crashed pcscd leaves its socket and pid file; the next one (and our "wait for
    the socket") would be fooled by them."""
    if running_pcscd_pid() is None:
        for path in (PCSCD_SOCKET, PCSCD_PIDFILE):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()


def port_accepts(port: int, host: str = "127.0.0.1", timeout: float = 0.2) -> bool:
    """True when vpcd listens on `port`. Connecting briefly is harmless: vpcd sees a
    card that is inserted and pulled before its next poll."""
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout):
        return True
    return False


def _listening_ports() -> set[int]:
    """Local TCP ports in LISTEN state (from /proc, so nothing connects to vpcd)."""
    ports: set[int] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                if len(fields) > 3 and fields[3] == "0A":
                    ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


@dataclass
class PcscStack:
    """pcscd with `entries` x 2 vpcd readers. Use as a context manager, or start()/stop().

    `reuse`: accept an already running pcscd (its vpcd readers must listen) and leave it
    running at the end. `lock_wait`: seconds to queue behind another PcscStack."""

    entries: int = 1
    workdir: Path | None = None
    reuse: bool = False
    debug_apdus: bool = False
    lock_wait: float = 0.0
    start_timeout: float = 10.0
    pid: int | None = field(default=None, init=False)
    reused: bool = field(default=False, init=False)
    _lock_fd: int | None = field(default=None, init=False, repr=False)
    _tempdir: tempfile.TemporaryDirectory[str] | None = field(default=None, init=False, repr=False)

    @property
    def readers(self) -> list[VirtualReader]:
        return reader_names(self.entries)

    @property
    def log_path(self) -> Path:
        assert self.workdir is not None
        return self.workdir / "pcscd.log"

    def start(self) -> PcscStack:
        ensure_packages()
        running = running_pcscd_pid()
        if running is not None and self.reuse:
            self._adopt(running)
            return self
        # Queue behind another PcscStack first: its pcscd holds the lock while it lives.
        self._take_lock()
        try:
            running = running_pcscd_pid()
            if running is not None:
                raise PcscStackError(
                    f"pcscd is already running (pid {running}); one pcscd per machine. Stop "
                    f"it (`kill {running}` or `mynaterm pcsc-stack down`), or reuse it "
                    "(MYNATERM_PCSCD_REUSE=1 / --reuse)"
                )
            self._launch()
        except BaseException:
            self._release_lock()
            raise
        return self

    def _adopt(self, pid: int) -> None:
        ports = [reader.port for reader in self.readers]
        if not self._wait_ports(ports, self.start_timeout):
            raise PcscStackError(
                f"pcscd (pid {pid}) runs but vpcd does not listen on "
                f"{ports}; it was started without the vpcd readers"
            )
        self.pid = pid
        self.reused = True

    def _take_lock(self) -> None:
        fd = os.open(LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o666)
        deadline = time.monotonic() + self.lock_wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    os.close(fd)
                    running = running_pcscd_pid()
                    who = f"pcscd (pid {running})" if running else "another mynaterm process"
                    raise PcscStackError(
                        f"{who} holds {LOCK_FILE}: another test run or `pcsc-stack up` uses "
                        "the virtual readers; stop it first (`mynaterm pcsc-stack down`)"
                    ) from None
                time.sleep(0.2)
        self._lock_fd = fd

    def _release_lock(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    def _launch(self) -> None:
        if self.workdir is None:
            self._tempdir = tempfile.TemporaryDirectory(prefix="mynaterm-pcscd-")
            self.workdir = Path(self._tempdir.name)
        self.workdir.mkdir(parents=True, exist_ok=True)
        conf_dir = write_reader_conf(self.workdir, self.entries)
        remove_stale_files()
        argv = [str(PCSCD), "--foreground", "-c", str(conf_dir)]
        if self.debug_apdus:
            argv += ["-d", "-a"]
        ports = [reader.port for reader in self.readers]
        busy = sorted(set(ports) & _listening_ports())
        if busy:
            raise PcscStackError(f"ports {busy} are already in use; vpcd needs them")
        with open(self.log_path, "wb") as log:
            # setsid: pcscd must not get the terminal's Ctrl-C before we stop it cleanly;
            # pass_fds: pcscd inherits the lock and holds it while it lives.
            process = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                pass_fds=(self._lock_fd,) if self._lock_fd is not None else (),
            )
        self.pid = process.pid
        self._process = process
        if not self._wait_ready(ports):
            self._terminate()
            raise PcscStackError(
                f"pcscd did not come up within {self.start_timeout:g} s; "
                f"log: {self.log_path}:\n{self._log_tail()}"
            )

    def _wait_ready(self, ports: list[int]) -> bool:
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                return False
            if PCSCD_SOCKET.exists() and set(ports) <= _listening_ports():
                return True
            time.sleep(0.05)
        return False

    @staticmethod
    def _wait_ports(ports: list[int], timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while True:
            if set(ports) <= _listening_ports():
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.05)

    def _log_tail(self) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-20:])
        return ""

    def stop(self) -> None:
        """Stop the pcscd this stack started (a reused one is left running)."""
        try:
            if self.pid is not None and not self.reused:
                self._terminate()
        finally:
            self.pid = None
            self._release_lock()
            if self._tempdir is not None:
                self._tempdir.cleanup()
                self._tempdir = None
                self.workdir = None

    def _terminate(self) -> None:
        process = getattr(self, "_process", None)
        if process is None:
            return
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
        remove_stale_files()

    def take_down(self) -> None:
        """Stop only the pcscd process (lock and config kept): for tests of what clients
        see while pcscd is gone. bring_up() starts it again."""
        if self.reused:
            raise PcscStackError("cannot stop a pcscd this stack did not start")
        self._terminate()

    def bring_up(self) -> None:
        if self.reused:
            raise PcscStackError("cannot start a pcscd this stack did not start")
        self._launch()

    def __enter__(self) -> PcscStack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


# --- a pcscd left running for developers (`mynaterm pcsc-stack up|down|status`) ----------

STATE_FILE = "pcsc-stack.json"


def start_background(workdir: Path, *, entries: int = 1, install: bool = False) -> PcscStack:
    """Start pcscd with vpcd readers and leave it running after this process exits.
    Its pid and settings go to WORKDIR/pcsc-stack.json for stop_background()."""
    import json

    ensure_packages(install=install)
    stack = PcscStack(entries=entries, workdir=workdir).start()
    state = {"pid": stack.pid, "entries": entries, "log": str(stack.log_path)}
    (workdir / STATE_FILE).write_text(json.dumps(state))
    stack._release_lock()  # pcscd holds its inherited copy of the lock from now on
    return stack


def background_state(workdir: Path) -> dict[str, object] | None:
    """The recorded state if that pcscd still runs, else None."""
    import json

    try:
        state = json.loads((workdir / STATE_FILE).read_text())
    except (OSError, ValueError):
        return None
    pid = state.get("pid")
    if isinstance(pid, int) and _is_pcscd(pid):
        return dict(state)
    return None


def stop_background(workdir: Path, timeout: float = 5.0) -> int:
    """Stop the pcscd started by start_background(); returns its pid. Refuses (with the
    command to use) when the running pcscd is not the recorded one."""
    state = background_state(workdir)
    if state is None:
        running = running_pcscd_pid()
        (workdir / STATE_FILE).unlink(missing_ok=True)
        if running is None:
            raise PcscStackError("pcscd is not running")
        raise PcscStackError(
            f"pcscd (pid {running}) was not started by `mynaterm pcsc-stack "
            f"up` here; stop it yourself: kill {running}"
        )
    pid = int(str(state["pid"]))
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while _is_pcscd(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    if _is_pcscd(pid):
        os.kill(pid, signal.SIGKILL)
        time.sleep(0.2)
    remove_stale_files()
    (workdir / STATE_FILE).unlink(missing_ok=True)
    return pid


def main(argv: list[str] | None = None) -> int:
    """`python -m simulators.pcsc_stack [--entries N] [--install]`: run pcscd with vpcd
    in the foreground until Ctrl-C (scripts/pcsc-stack.sh wraps this)."""
    import argparse

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--entries", type=int, default=1)
    parser.add_argument("--install", action="store_true", help="apt-get missing packages")
    parser.add_argument("--debug-apdus", action="store_true", help="pcscd -d -a")
    args = parser.parse_args(argv)
    try:
        ensure_packages(install=args.install)
        stack = PcscStack(entries=args.entries, debug_apdus=args.debug_apdus).start()
    except PcscStackError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    try:
        for reader in stack.readers:
            print(f"{reader.name}: 127.0.0.1:{reader.port}")
        print(f"pcscd pid {stack.pid}, log {stack.log_path}; Ctrl-C stops", flush=True)
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        while True:
            time.sleep(3600)
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        stack.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
