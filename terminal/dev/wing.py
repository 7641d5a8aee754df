"""The dev wing as a service extension: software readers, the local test PKI, the
in-process symbol core and the simulator routes, plugged into the product service
through its seam (terminal.service.extensions):

    from terminal.dev.wing import DevWing
    app = create_app(settings, extensions=[DevWing()])
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from terminal.service.extensions import ServiceExtension

if TYPE_CHECKING:
    from fastapi import APIRouter

    from terminal.service.context import ServiceContext
    from terminal.service.settings import Settings


class DevWing(ServiceExtension):
    """What `settings` ask of the dev wing, added at start:
    - `software_readers` empty software readers ("Software Reader 0", ...);
    - trust=local-test-pki with a `pki_dir` (or dev mode: created under mynaterm home):
      the test PKI's validator (OCSP and CRLs answered in process);
    - dev mode without core_url: the in-process dev symbol core;
    - the simulator routes (/api/simulator/...), answering only with
      `simulator_controls` (else NOT_FOUND as if absent)."""

    name = "dev"

    def __init__(self) -> None:
        # Software cards the simulator controls may insert, by label. The same card
        # object is reused, so its PIN counters persist like a plastic card's.
        self.card_library: dict[str, Any] = {}

    @classmethod
    def of(cls, ctx: ServiceContext) -> DevWing:
        """The dev wing plugged into `ctx` (the simulator routes exist only then)."""
        wing = ctx.extension(cls)
        if wing is None:
            raise LookupError("the dev wing is not plugged into this service")
        return wing

    def routers(self) -> Sequence[APIRouter]:
        from terminal.dev.routes import router

        return (router,)

    def start(self, ctx: ServiceContext) -> None:
        from terminal.dev.slots import SOFTWARE_READER_NAME, add_software_reader

        settings = ctx.settings
        for index in range(settings.software_readers):
            name = SOFTWARE_READER_NAME.format(index=index)
            if ctx.readers.by_name(name) is None:
                add_software_reader(ctx.readers, name)
        if (
            ctx.validator is None
            and settings.trust == "local-test-pki"
            and (settings.pki_dir is not None or settings.dev)
        ):
            from terminal.dev.issuer import TestPkiAuthority
            from terminal.dev.local import attach_local_validation, open_local_pki

            pki = open_local_pki(settings.pki_dir, create=settings.dev)
            attach_local_validation(ctx, pki)
            if ctx.issuer is None:  # the counter's card-life flows (a model of J-LIS)
                ctx.issuer = TestPkiAuthority(pki)
        if ctx.core is None and ctx.registry is None and settings.dev and not settings.core_url:
            from terminal.dev.local import local_core_client

            ctx.core = local_core_client(settings.core_agency)


def needed_by(settings: Settings) -> bool:
    """Does `mynaterm serve` plug the dev wing in? Only in dev mode (`--dev`): a real
    service never gets software readers, simulator routes or the test PKI."""
    return settings.dev
