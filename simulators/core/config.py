"""Configuration of the symbol core: master key, registered agencies, API tokens.

Keys never come from code. The master key is hex in $MYNATERM_CORE_MASTER_KEY or in the
file named by $MYNATERM_CORE_KEY_FILE. The agencies file (TOML, $MYNATERM_CORE_AGENCIES)
lists `[[agency]] code, name, resident_lookup, token_sha256, relay_url` (only the
SHA-256 of each API token is configured, so the file does not grant access when read).
Dev mode alone generates a random master key and dev agencies with tokens under
mynaterm_home()/core, files 0600.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import tomllib
from dataclasses import dataclass
from pathlib import Path

from simulators.core.errors import CoreConfigError
from simulators.home import mynaterm_home

MASTER_KEY_ENV = "MYNATERM_CORE_MASTER_KEY"
MASTER_KEY_FILE_ENV = "MYNATERM_CORE_KEY_FILE"
AGENCIES_ENV = "MYNATERM_CORE_AGENCIES"
MIN_KEY_BYTES = 32
AGENCY_CODE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")

# Agencies a dev core registers: the portal, the issuing municipality (the counter
# terminals' own agency, the only one allowed resident lookups), and two others to show
# that symbols differ per agency.
DEV_AGENCIES = (
    ("portal", "マイナポータル (portal)", False),
    ("city-13101", "千代田区 (counter terminals)", True),
    ("tax", "国税庁 (tax)", False),
    ("pension", "日本年金機構 (pension)", False),
)


@dataclass(frozen=True)
class Agency:
    code: str
    name: str
    # Only agencies that keep the resident register (municipalities) may turn a
    # resident-record code into symbols; the others ask with their own symbols.
    resident_lookup: bool = False
    # Where the core posts requests relayed to this agency (None: it takes none).
    relay_url: str | None = None


@dataclass(frozen=True)
class CoreConfig:
    master_key: bytes
    agencies: tuple[Agency, ...]
    # sha256(token) hex -> agency code
    token_hashes: dict[str, str]

    def __repr__(self) -> str:
        return f"CoreConfig(<key redacted>, agencies={[a.code for a in self.agencies]})"


def core_dir() -> Path:
    return mynaterm_home() / "core"


def token_sha256(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _write_private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return  # another process made it first; use theirs
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)


def _parse_key(raw: str, source: str) -> bytes:
    try:
        key = bytes.fromhex(raw.strip())
    except ValueError as exc:
        raise CoreConfigError(f"master key from {source} is not hex") from exc
    if len(key) < MIN_KEY_BYTES:
        raise CoreConfigError(f"master key from {source} is shorter than {MIN_KEY_BYTES} bytes")
    return key


def load_master_key(*, dev: bool = False) -> bytes:
    if os.environ.get(MASTER_KEY_ENV):
        return _parse_key(os.environ[MASTER_KEY_ENV], MASTER_KEY_ENV)
    path_text = os.environ.get(MASTER_KEY_FILE_ENV)
    if path_text:
        path = Path(path_text)
    elif dev:
        path = core_dir() / "master.key"
        if not path.exists():
            _write_private(path, secrets.token_hex(MIN_KEY_BYTES) + "\n")
    else:
        raise CoreConfigError(
            f"no core master key: set {MASTER_KEY_ENV} or {MASTER_KEY_FILE_ENV} "
            "(or use dev mode, which generates one)"
        )
    try:
        return _parse_key(path.read_text(), str(path))
    except OSError as exc:
        raise CoreConfigError(f"cannot read master key file {path}: {exc}") from exc


def load_agencies(path: Path) -> tuple[tuple[Agency, ...], dict[str, str]]:
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise CoreConfigError(f"cannot read agencies from {path}: {exc}") from exc
    agencies: list[Agency] = []
    tokens: dict[str, str] = {}
    for entry in document.get("agency", []):
        code = str(entry.get("code", ""))
        if not AGENCY_CODE.match(code):
            raise CoreConfigError(f"{path}: bad agency code {code!r}")
        lookup = entry.get("resident_lookup", False)
        if not isinstance(lookup, bool):
            raise CoreConfigError(f"{path}: resident_lookup of {code} must be true or false")
        relay_url = entry.get("relay_url")
        if relay_url is not None and not (
            isinstance(relay_url, str) and relay_url.startswith(("http://", "https://"))
        ):
            raise CoreConfigError(f"{path}: relay_url of {code} must be an http(s) URL")
        agencies.append(Agency(code, str(entry.get("name", code)), lookup, relay_url))
        digest = entry.get("token_sha256")
        if digest is not None:
            if not re.fullmatch(r"[0-9a-f]{64}", str(digest)):
                raise CoreConfigError(f"{path}: token_sha256 of {code} is not a SHA-256 hex")
            tokens[str(digest)] = code
    if len({a.code for a in agencies}) != len(agencies):
        raise CoreConfigError(f"{path}: agency codes must be unique")
    return tuple(agencies), tokens


def dev_agencies_file() -> Path:
    """Dev agencies with their tokens hashed, plus a 0600 `tokens.toml` holding the
    plain tokens, which dev clients (the counter terminal) read."""
    agencies_path = core_dir() / "agencies.toml"
    tokens_path = core_dir() / "tokens.toml"
    if not agencies_path.exists():
        tokens = {code: secrets.token_urlsafe(32) for code, _, _ in DEV_AGENCIES}
        _write_private(
            tokens_path,
            "# Dev API tokens of the symbol core. Not for production.\n"
            + "".join(f'{code} = "{tok}"\n' for code, tok in tokens.items()),
        )
        _write_private(
            agencies_path,
            "".join(
                f'[[agency]]\ncode = "{code}"\nname = "{name}"\n'
                f"resident_lookup = {'true' if lookup else 'false'}\n"
                f'token_sha256 = "{token_sha256(tokens[code])}"\n\n'
                for code, name, lookup in DEV_AGENCIES
            ),
        )
    return agencies_path


def dev_token(agency: str) -> str:
    """The plain dev token of an agency (dev mode only)."""
    path = core_dir() / "tokens.toml"
    try:
        tokens = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise CoreConfigError(f"no dev tokens at {path}: {exc}") from exc
    if agency not in tokens:
        raise CoreConfigError(f"no dev token for agency {agency!r}")
    return str(tokens[agency])


def load_core_config(*, dev: bool = False) -> CoreConfig:
    """Configuration from the environment; in dev mode missing pieces are generated."""
    master = load_master_key(dev=dev)
    if os.environ.get(AGENCIES_ENV):
        agencies_path = Path(os.environ[AGENCIES_ENV])
    elif dev:
        agencies_path = dev_agencies_file()
    else:
        raise CoreConfigError(f"no agencies configured: set {AGENCIES_ENV}")
    agencies, tokens = load_agencies(agencies_path)
    return CoreConfig(master, agencies, tokens)
