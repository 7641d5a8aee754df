"""The software card's persistent memory as one JSON document.

THE STATE FILE IS THE CARD'S MEMORY. It holds the card's two RSA private keys in clear
(PKCS#8 PEM), because a software card has no secure element to keep them in, plus the
personal data in its files (full My Number, basic 4 facts). PINs are stored only as
salted scrypt hashes with their retry counters. The file is written with mode 0600,
atomically (temporary file in the same directory, fsync, os.replace), and must never be
logged, committed or shared; treat it like a private key file.

What a reset clears (selection, verified PINs, a pending T=0 response) is not stored.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

from jpki.constants import KeyKind, PinKind
from simulators.card.filesystem import (
    Applet,
    BinaryFile,
    CardKey,
    ElementaryFile,
    FileSystem,
    InternalFile,
    KeyFile,
    KeyName,
    PinFile,
    ReadAccess,
    RecordFile,
)
from simulators.card.options import CardOptions
from simulators.card.security import KeyStore, PinRecord, SecurityState

STATE_FORMAT = "mynaterm-software-card"
STATE_VERSION = 1
STATE_FILE_MODE = 0o600
WARNING = (
    "This file is a software card's memory: it holds the card's private keys in clear "
    "and personal data. PINs are salted scrypt hashes. Keep it mode 0600; never log, "
    "commit or share it."
)


class CardStateError(ValueError):
    """A card state file that cannot be read: missing, not JSON, or inconsistent."""

    code = "CARD_FILE"


@dataclass
class CardState:
    """Everything the card keeps across power cycles."""

    persona_id: str
    filesystem: FileSystem
    security: SecurityState
    options: CardOptions
    t0: bool
    integrity_public_key: bytes  # SubjectPublicKeyInfo DER
    mf_objects: dict[int, bytes] = field(default_factory=dict)  # GET DATA at the MF
    # The issuer's administration key (EC P-256 SubjectPublicKeyInfo DER) that EXTERNAL
    # AUTHENTICATE checks (simulators.card.admin); None on cards made without one.
    issuer_key: bytes | None = None

    @property
    def reselect_clears_pins(self) -> bool:
        return self.options.reselect_clears_pins

    def __repr__(self) -> str:
        return f"CardState(persona_id={self.persona_id!r}, <memory not shown>)"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: Any) -> bytes:
    if not isinstance(text, str):
        raise CardStateError("expected base64 text")
    return base64.b64decode(text.encode("ascii"), validate=True)


def _key_name(value: str) -> KeyName:
    try:
        return KeyKind(value)
    except ValueError:
        return CardKey(value)


def _file_to_state(ef: ElementaryFile) -> dict[str, Any]:
    if isinstance(ef, BinaryFile):
        return {
            "fid": ef.fid,
            "type": "binary",
            "access": ef.access.to_state(),
            "data": _b64(ef.data),
        }
    if isinstance(ef, RecordFile):
        return {
            "fid": ef.fid,
            "type": "records",
            "access": ef.access.to_state(),
            "records": [_b64(record) for record in ef.records],
        }
    if isinstance(ef, KeyFile):
        return {
            "fid": ef.fid,
            "type": "key",
            "key": ef.key.value,
            "use_pin": ef.use_pin.value if ef.use_pin else None,
            "internal_auth": ef.internal_auth,
        }
    if isinstance(ef, InternalFile):
        return {"fid": ef.fid, "type": "internal"}
    return {"fid": ef.fid, "type": "pin", "pin": ef.pin.value}


def _file_from_state(entry: dict[str, Any]) -> ElementaryFile:
    fid = int(entry["fid"])
    if not 0 <= fid <= 0xFFFF:
        raise CardStateError(f"file id {fid} out of range")
    kind = entry["type"]
    read_pin = entry.get("read_pin")
    if kind == "binary":
        if "access" in entry:
            rule = entry["access"]
            access = ReadAccess.from_state(rule["any_of"], rule["never"])
        else:  # files written before ReadAccess: one optional PIN
            access = ReadAccess.after(PinKind(read_pin)) if read_pin else ReadAccess.free()
        return BinaryFile(fid, _unb64(entry["data"]), access)
    if kind == "records":
        rule = entry["access"]
        return RecordFile(
            fid,
            tuple(_unb64(record) for record in entry["records"]),
            ReadAccess.from_state(rule["any_of"], rule["never"]),
        )
    if kind == "key":
        use_pin = entry.get("use_pin")
        return KeyFile(
            fid,
            _key_name(entry["key"]),
            PinKind(use_pin) if use_pin else None,
            bool(entry.get("internal_auth", False)),
        )
    if kind == "pin":
        return PinFile(fid, PinKind(entry["pin"]))
    if kind == "internal":
        return InternalFile(fid)
    raise CardStateError(f"unknown file type {kind!r}")


def _key_pem(key: RSAPrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")


def encode_state(state: CardState) -> bytes:
    document = {
        "format": STATE_FORMAT,
        "version": STATE_VERSION,
        "warning": WARNING,
        "persona_id": state.persona_id,
        "options": {**state.options.to_state(), "t0": state.t0},
        "mf_objects": {f"{tag:04X}": _b64(value) for tag, value in state.mf_objects.items()},
        "applets": [
            {
                "aid": applet.aid.hex().upper(),
                "label": applet.label,
                "default_key": applet.default_key,
                "files": [_file_to_state(ef) for ef in applet.files.values()],
            }
            for applet in state.filesystem.applets.values()
        ],
        "pins": {kind.value: record.to_state() for kind, record in state.security.pins.items()},
        "keys": {
            kind.value: _key_pem(state.security.keys.private_key_for_state(kind))
            for kind in state.security.keys.names()
        },
        "integrity_public_key": _b64(state.integrity_public_key),
        "issuer_key": None if state.issuer_key is None else _b64(state.issuer_key),
    }
    return json.dumps(document, ensure_ascii=False, indent=1).encode("utf-8")


def decode_state(raw: bytes) -> CardState:
    try:
        document = json.loads(raw.decode("utf-8"))
        if not isinstance(document, dict) or document.get("format") != STATE_FORMAT:
            raise CardStateError("not a software card state file")
        if document.get("version") != STATE_VERSION:
            raise CardStateError(f"unsupported state version {document.get('version')!r}")
        filesystem = FileSystem()
        for entry in document["applets"]:
            default_key = entry.get("default_key")
            applet = Applet(
                bytes.fromhex(entry["aid"]),
                str(entry["label"]),
                default_key=int(default_key) if default_key is not None else None,
            )
            for file_entry in entry["files"]:
                applet.add(_file_from_state(file_entry))
            filesystem.add(applet)
        pins = {
            PinKind(k): PinRecord.from_state(PinKind(k), v) for k, v in document["pins"].items()
        }
        if set(pins) != set(PinKind):
            raise CardStateError("state file lacks a PIN record")
        keys: dict[KeyName, RSAPrivateKey] = {}
        for name, pem in document["keys"].items():
            kind = _key_name(name)
            # The full RSA consistency check costs ~70 ms per key and would dominate every
            # CLI command on a card file; it is not needed for safety: KeyStore.raw_sign
            # verifies each result with the public key, so an inconsistent key fails.
            key = serialization.load_pem_private_key(
                pem.encode("ascii"), password=None, unsafe_skip_rsa_key_validation=True
            )
            if not isinstance(key, RSAPrivateKey):
                raise CardStateError(f"{kind.value} key is not RSA")
            keys[kind] = key
        if not set(KeyKind) <= set(keys):
            raise CardStateError("state file lacks a JPKI key")
        options = document["options"]
        return CardState(
            persona_id=str(document["persona_id"]),
            filesystem=filesystem,
            security=SecurityState(pins, KeyStore(keys)),
            options=CardOptions.from_state({k: v for k, v in options.items() if k != "t0"}),
            t0=bool(options["t0"]),
            integrity_public_key=_unb64(document["integrity_public_key"]),
            mf_objects={
                int(tag, 16): _unb64(value) for tag, value in document.get("mf_objects", {}).items()
            },
            # Absent in files written before the issuer's commands existed.
            issuer_key=(
                None if document.get("issuer_key") is None else _unb64(document["issuer_key"])
            ),
        )
    except CardStateError:
        raise
    # Deliberately no exception text: it could quote the file's contents.
    except (KeyError, TypeError, ValueError, AttributeError, UnicodeError) as exc:
        raise CardStateError(f"software card state is malformed ({type(exc).__name__})") from None


def write_state(path: Path, raw: bytes) -> None:
    """Atomic, private write: a 0600 temporary file beside `path`, then os.replace."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, STATE_FILE_MODE)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(raw)
            handle.flush()
            os.fsync(handle.fileno())
        tmp.chmod(STATE_FILE_MODE)  # umask cannot widen it, but be explicit
        tmp.replace(path)  # os.replace: atomic on POSIX
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise


def read_state(path: Path) -> CardState:
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise CardStateError(f"cannot read software card state {path}: {exc.strerror}") from None
    return decode_state(raw)
