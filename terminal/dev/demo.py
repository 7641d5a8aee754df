"""`mynaterm demo`: everything on embedded defaults, in one process.

State lives under <mynaterm home>/demo: the test PKI (served over HTTP for CRLs and
OCSP), one software card per persona (PIN counters are saved at exit, like plastic),
the symbol core's index, the terminal database (SQLite) and the My Number index key.
Operator passwords are generated at each start and printed once."""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from terminal.dev.issuer import TestPkiAuthority
from terminal.dev.local import attach_local_validation
from terminal.dev.slots import SOFTWARE_READER_NAME, add_software_reader
from terminal.dev.wing import DevWing
from terminal.service.app import create_app
from terminal.service.context import ServiceContext
from terminal.service.parts import attach_registry
from terminal.service.passwords import hash_password
from terminal.service.settings import OperatorAccount, Role, Settings

log = logging.getLogger("mynaterm.demo")

DEMO_AGENCY = "city-demo"
DEMO_ROLES = {
    "clerk": Role.CLERK,
    "officer": Role.OFFICER,
    "kiosk": Role.KIOSK,
    "admin": Role.ADMIN,
}


class DemoError(Exception):
    """The demo could not start (state directory unusable, port taken, ...)."""


@dataclass
class DemoSetup:
    app: FastAPI
    settings: Settings
    port: int
    home: Path
    credentials: dict[str, str]
    linked_readers: list[str]
    pki_url: str | None
    closers: list[Any] = field(default_factory=list)
    # Which persona's card sits in which reader (the README's tour names them).
    cards: list[dict[str, Any]] = field(default_factory=list)

    def announcement(self) -> dict[str, Any]:
        base = f"http://127.0.0.1:{self.port}"
        return {
            "counter": f"{base}/counter",
            "kiosk": f"{base}/kiosk?reader={self.linked_readers[0] if self.linked_readers else 0}",
            "health": f"{base}/health",
            "pki": self.pki_url,
            "home": str(self.home),
            "operators": [
                {"username": name, "password": password, "role": name}
                for name, password in self.credentials.items()
            ],
            "linked_readers": self.linked_readers,
            "cards": self.cards,
        }

    def print(self, console: Any) -> None:
        info = self.announcement()
        console.print("[bold]mynaterm demo[/] (software cards, test PKI, symbol core)")
        console.print(f"  counter page : {info['counter']}")
        console.print(f"  kiosk page   : {info['kiosk']}")
        if self.pki_url:
            console.print(f"  test PKI     : {self.pki_url} (CRLs, OCSP)")
        console.print("  operators (generated now, shown once):")
        for entry in info["operators"]:
            console.print(f"    {entry['username']:<8} {entry['password']}")
        console.print("  cards in the readers (test PINs: simulators/personas.toml):")
        for card in self.cards:
            state = "linked (kiosk)" if card["linked"] else "not linked (counter issuance)"
            console.print(f"    {card['reader_name']}: {card['persona']} - {state}")

    def close(self) -> None:
        for closer in reversed(self.closers):
            with contextlib.suppress(Exception):
                closer()


def _secret_file(path: Path, size: int = 32) -> bytes:
    """A random key kept across demo runs (mode 0600)."""
    if path.exists():
        return path.read_bytes()
    key = secrets.token_bytes(size)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(key)
    return key


def build_demo(*, home: Path | None = None, port: int = 8700, readers: int = 3) -> DemoSetup:
    from terminal.home import mynaterm_home

    home = (home or mynaterm_home() / "demo").resolve()
    try:
        home.mkdir(parents=True, exist_ok=True)
        return _build(home, port, readers)
    except DemoError:
        raise
    except OSError as exc:
        raise DemoError(f"cannot prepare the demo under {home}: {exc}") from exc


def _build(home: Path, port: int, readers: int) -> DemoSetup:
    from simulators.card import SoftwareCard
    from simulators.core.config import Agency, CoreConfig, token_sha256
    from simulators.core.core import SymbolCore
    from simulators.personas import load_personas
    from simulators.pki import TestPki, serve
    from terminal.db.engine import open_store
    from terminal.dev.core_client import InProcessCoreClient
    from terminal.linkage.secrets import MyNumberIndex

    closers: list[Any] = []
    pki = TestPki.open_or_create(home / "pki")
    pki_url: str | None = None
    try:
        server = serve(pki)
        closers.append(server.stop)
        pki_url = pki.base_url
    except OSError as exc:  # another demo holds the port; revocation works in process
        log.warning("test PKI not served: %s", exc)

    credentials = {name: secrets.token_urlsafe(12) for name in DEMO_ROLES}
    settings = Settings(
        dev=True,
        port=port,
        software_readers=readers,
        simulator_controls=True,
        operators=[
            OperatorAccount(username=name, password_hash=hash_password(password), roles=[role])
            for (name, role), password in zip(DEMO_ROLES.items(), credentials.values(), strict=True)
        ],
        terminal_id="demo-terminal",
    )
    wing = DevWing()
    app = create_app(settings, extensions=[wing])
    ctx: ServiceContext = app.state.ctx
    attach_local_validation(ctx, pki, ocsp_cache=False)  # revocations show at once in the demo
    ctx.issuer = TestPkiAuthority(pki)  # PIN setting, reset, renewal on the card (issue 15)

    core_token = secrets.token_urlsafe(16)
    core = SymbolCore(
        CoreConfig(
            _secret_file(home / "core" / "master.key"),
            (Agency("portal", "Portal"), Agency(DEMO_AGENCY, "Demo city", resident_lookup=True)),
            {token_sha256(core_token): DEMO_AGENCY},
        ),
        index_path=home / "core" / "index.db",
    )
    closers.append(core.close)
    store = open_store(f"sqlite:///{home / 'terminal.db'}")
    closers.append(store.close)
    attach_registry(
        ctx,
        store,
        InProcessCoreClient(core, core_token),
        mynumber_index=MyNumberIndex(_secret_file(home / "mynumber-index.key")),
    )

    cards_dir = home / "cards"
    cards_dir.mkdir(exist_ok=True)
    personas = load_personas()
    for persona in personas:
        path = cards_dir / f"{persona.id}.card"
        card = SoftwareCard.load(path) if path.exists() else SoftwareCard.create(persona, pki)
        card.save(path)
        wing.card_library[persona.id] = card
        closers.append(lambda card=card, path=path: card.save(path))

    linked: list[str] = []
    cards: list[dict[str, Any]] = []
    for index, persona in enumerate(personas[:readers]):
        reader = add_software_reader(ctx.readers, SOFTWARE_READER_NAME.format(index=index))
        ctx.readers.insert_software_card(reader.id, wing.card_library[persona.id], persona.id)
        # Reader 0 keeps an unlinked card for the counter's issuance; the others are
        # linked now so that the kiosk works at once.
        if index > 0 and _link(ctx, reader.id, persona):
            linked.append(reader.id)
        cards.append(
            {
                "reader": reader.id,
                "reader_name": reader.name,
                "persona": persona.id,
                "linked": reader.id in linked,
            }
        )
    ctx.closers.extend(closers)
    return DemoSetup(
        app, settings, port, home, credentials, linked, pki_url, closers=[], cards=cards
    )


def _link(ctx: ServiceContext, reader_id: str, persona: Any) -> bool:
    """Link the card's auth certificate as the counter would have (no PIN needed: the
    auth certificate is public). Idempotent across demo runs (fixed request id)."""
    from jpki.constants import CertKind
    from jpki.jpki_ap import JpkiSession
    from terminal.audit.trail import Operator
    from terminal.linkage import CertInfo, LinkageError, PersonRef
    from terminal.linkage.core_client import symbols_for_issuance

    with ctx.readers.session(reader_id, "demo-setup") as card:
        auth = JpkiSession(card.channel).read_certificate(CertKind.AUTH)
    ctx.need_validator().validate(auth, CertKind.AUTH)
    info = CertInfo.from_der(auth)
    try:
        ctx.need_registry().issue(
            PersonRef(),
            info,
            None,
            symbols_for_issuance(ctx.need_core(), persona.resident_code),
            Operator("demo-setup", "demo-terminal"),
            request_id=f"demo-{info.serial:x}"[:64],
        )
    except LinkageError as exc:
        log.warning("demo card %s not linked: %s", persona.id, exc.code)
        return False
    return True
