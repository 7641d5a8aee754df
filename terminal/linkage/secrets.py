"""Secrets the terminal needs from configuration (never from code): the My Number
index key. A dev mode generates one and keeps it in a 0600 file."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

from jpki.mynumber import MyNumber
from terminal.home import mynaterm_home
from terminal.linkage.errors import LinkageError

MYNUMBER_KEY_ENV = "MYNATERM_MYNUMBER_INDEX_KEY"
MYNUMBER_KEY_FILE_ENV = "MYNATERM_MYNUMBER_INDEX_KEY_FILE"
MIN_KEY_BYTES = 32


class SecretMissing(LinkageError):
    code = "SECRET_MISSING"


def read_key(*, env: str, file_env: str, dev_file: Path | None = None) -> bytes:
    """A key from $env (hex), else the file named by $file_env (hex text), else — only
    when `dev_file` is given (dev mode) — that file, generated (0600) if absent."""
    raw = os.environ.get(env)
    source = env
    if raw is None and os.environ.get(file_env):
        path = Path(os.environ[file_env])
        try:
            raw, source = path.read_text().strip(), str(path)
        except OSError as exc:
            raise SecretMissing(f"cannot read key file {path}: {exc}") from exc
    if raw is None and dev_file is not None:
        return _dev_key(dev_file)
    if raw is None:
        raise SecretMissing(f"no key configured: set {env} or {file_env}")
    try:
        key = bytes.fromhex(raw)
    except ValueError as exc:
        raise SecretMissing(f"key from {source} is not hex") from exc
    if len(key) < MIN_KEY_BYTES:
        raise SecretMissing(f"key from {source} is shorter than {MIN_KEY_BYTES} bytes")
    return key


def _dev_key(path: Path) -> bytes:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        # O_EXCL: two processes starting at once do not overwrite each other's key.
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_hex(MIN_KEY_BYTES) + "\n")
    return bytes.fromhex(path.read_text().strip())


class MyNumberIndex:
    """Keyed one-way index of My Numbers: HMAC-SHA256 under a configured secret. The
    registry stores only this digest; without the key it does not reveal the number
    (12 digits are too few to resist a plain unkeyed hash)."""

    def __init__(self, key: bytes) -> None:
        if len(key) < MIN_KEY_BYTES:
            raise SecretMissing(f"My Number index key must be at least {MIN_KEY_BYTES} bytes")
        self._key = key

    @classmethod
    def from_config(cls, *, dev: bool = False) -> MyNumberIndex:
        dev_file = mynaterm_home() / "terminal" / "mynumber-index.key" if dev else None
        return cls(
            read_key(env=MYNUMBER_KEY_ENV, file_env=MYNUMBER_KEY_FILE_ENV, dev_file=dev_file)
        )

    def digest(self, my_number: MyNumber) -> str:
        if not isinstance(my_number, MyNumber):
            raise TypeError("digest() takes a MyNumber")
        message = b"mynaterm/mynumber-index/v1:" + my_number.reveal().encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()

    def __repr__(self) -> str:
        return "MyNumberIndex(<key redacted>)"
