"""Builds the service's parts from its settings: PC/SC readers, then the lower layers
(validation, challenges, linkage registry, audit) as far as they are configured.

Runs after the extensions' `start` (terminal.service.extensions): what they attached
(the dev wing's software readers, local test PKI validator, in-process core) is kept."""

from __future__ import annotations

import logging
import threading

from terminal.service.context import ServiceContext

log = logging.getLogger("mynaterm.service")


def build_from_settings(ctx: ServiceContext) -> None:
    settings = ctx.settings
    if settings.pcsc:
        _add_pcsc_readers(ctx)
    # Parts passed in by the caller (tests, the demo, extensions) are kept as they are.
    if ctx.validator is None:
        _attach_validation(ctx)
    if ctx.registry is None:
        _attach_registry(ctx)


def _attach_validation(ctx: ServiceContext) -> None:
    settings = ctx.settings
    if settings.trust == "jpki-production":
        from jpki.validation import RevocationPolicy
        from jpki.validation.revocation import RevocationChecker
        from terminal.service.parts import attach_validator
        from terminal.trust import make_validator, production_trust

        policy = RevocationPolicy()
        crl_dir = str(settings.crl_dir) if settings.crl_dir else None
        trust = production_trust()
        index_key = settings.crl_index_key
        attach_validator(
            ctx,
            make_validator(
                trust,
                policy,
                revocation=RevocationChecker.with_defaults(
                    policy,
                    crl_directory=crl_dir,
                    # Persisted CRL indexes are believed after a restart only under this
                    # key; without it each is rebuilt from its signed CRL, re-verified.
                    crl_index_key=index_key.get_secret_value().encode() if index_key else None,
                    trust=trust.anchors,
                ),
            ),
        )
        return
    # trust = local-test-pki: only the dev wing (terminal.dev) can open the test PKI; it
    # attached the validator already when it is plugged in and configured.
    log.warning(
        "trust=local-test-pki needs the dev wing and a pki_dir (or dev mode): "
        "certificate validation and login are not available"
    )


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
    core: object | None = ctx.core  # an extension's (the dev wing's in-process core)
    if core is None and settings.core_url is not None and settings.core_token is not None:
        from terminal.linkage.core_client import CoreClient

        client = CoreClient(
            settings.core_url, settings.core_token.get_secret_value(), agency=settings.core_agency
        )
        ctx.closers.append(client.close)
        core = client
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
