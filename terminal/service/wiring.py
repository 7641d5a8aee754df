"""Builds the service's parts from its settings: readers first, then the lower layers
(validation, challenges, linkage registry, audit) as far as they are configured."""

from __future__ import annotations

import logging
import threading

from terminal.service.context import ServiceContext

log = logging.getLogger("mynaterm.service")

SOFTWARE_READER_NAME = "Software Reader {index}"


def build_from_settings(ctx: ServiceContext) -> None:
    settings = ctx.settings
    for index in range(settings.software_readers):
        name = SOFTWARE_READER_NAME.format(index=index)
        if ctx.readers.by_name(name) is None:
            ctx.readers.add_software_reader(name)
    if settings.pcsc:
        _add_pcsc_readers(ctx)
    # Parts passed in by the caller (tests, the demo) are kept as they are.
    if ctx.validator is None:
        _attach_validation(ctx)
    if ctx.registry is None:
        _attach_registry(ctx)


def _attach_validation(ctx: ServiceContext) -> None:
    settings = ctx.settings
    if settings.trust == "jpki-production":
        from datetime import timedelta

        from jpki.auth import AuthTokenValidator, InMemoryChallengeStore
        from jpki.validation import CertificateValidator, RevocationPolicy, TrustStore
        from jpki.validation.revocation import RevocationChecker

        policy = RevocationPolicy()
        anchors = [
            anchor.der
            for kind in ("auth", "sign")
            for anchor in TrustStore.jpki_production(kind).anchors
        ]
        crl_dir = str(settings.crl_dir) if settings.crl_dir else None
        ctx.validator = CertificateValidator(
            TrustStore(anchors),
            policy,
            revocation=RevocationChecker.with_defaults(policy, crl_directory=crl_dir),
        )
        ctx.challenges = InMemoryChallengeStore(
            lifetime=timedelta(seconds=settings.challenge_ttl_seconds)
        )
        ctx.token_validator = AuthTokenValidator(
            ctx.validator, ctx.challenges, settings.portal_origin
        )
        return
    if settings.pki_dir is None and not settings.dev:
        log.warning("no pki_dir: certificate validation and login are not available")
        return
    from terminal.local import open_local_pki
    from terminal.service.parts import attach_validation

    attach_validation(ctx, open_local_pki(settings.pki_dir, create=settings.dev))


def _attach_registry(ctx: ServiceContext) -> None:
    settings = ctx.settings
    if settings.database_url is None and not settings.dev:
        log.warning("no database_url: linkage, login and the audit trail are not available")
        return
    from terminal.db.engine import open_store
    from terminal.linkage.errors import LinkageError
    from terminal.linkage.secrets import MyNumberIndex
    from terminal.service.parts import attach_registry

    store = open_store(settings.database_url)
    ctx.closers.append(store.close)
    core: object | None = None
    if settings.core_url is not None and settings.core_token is not None:
        from terminal.linkage.core_client import CoreClient

        client = CoreClient(
            settings.core_url, settings.core_token.get_secret_value(), agency=settings.core_agency
        )
        ctx.closers.append(client.close)
        core = client
    elif settings.dev:
        from terminal.local import local_core_client

        core = local_core_client(settings.core_agency)
    try:
        index: object | None = MyNumberIndex.from_config(dev=settings.dev)
    except LinkageError as exc:  # no key configured: numbers are simply not indexed
        log.warning("My Number index unavailable (%s): reveal is disabled", exc.code)
        index = None
    attach_registry(ctx, store, core, mynumber_index=index)


def _add_pcsc_readers(ctx: ServiceContext) -> None:
    """Follow pcscd with a ReaderMonitor in a daemon thread: readers come and go, card
    presence updates the pages. The monitor reconnects by itself when pcscd restarts."""
    from card.monitor import EventKind, ReaderEvent, ReaderMonitor
    from terminal.service.readers import PcscSlot

    monitor = ReaderMonitor()
    manager = ctx.readers

    def on_event(event: ReaderEvent) -> None:
        name = event.reader
        if name is None:
            return
        reader = manager.by_name(name)
        if event.kind is EventKind.READER_ATTACHED and reader is None:
            manager.add(name, PcscSlot(name))
        elif event.kind is EventKind.READER_DETACHED and reader is not None:
            manager.remove_reader(reader.id)
        elif event.kind in (EventKind.CARD_INSERTED, EventKind.CARD_REMOVED) and reader:
            manager.set_presence(reader.id, event.kind is EventKind.CARD_INSERTED)

    def run() -> None:
        try:
            monitor.watch(on_event)
        except Exception as exc:  # the service keeps serving software readers
            log.warning("PC/SC monitor stopped: %s", type(exc).__name__)

    thread = threading.Thread(target=run, name="pcsc-monitor", daemon=True)
    thread.start()
    ctx.closers.append(monitor.close)
