"""Fixtures shared by every layer: a test PKI, software cards created once per session
(RSA-2048 key generation is the slow part) and copied per test, and card channels over
each transport."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from card.protocol import CardChannel
from simulators.card import SoftwareCard, SoftwareCardConnection
from simulators.personas import Persona, get_persona

# The pcscd + vpcd fixtures (pcsc_channel_factory, pcsc_stack), usable from any test.
pytest_plugins = ("tests.pcsc.fixtures",)

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

# Public J-LIS certificates (real CAs, a published test vector), copied into the
# repository: tests never read a path outside the checkout.
REAL_JPKI_DIR = Path(__file__).parent / "jpki" / "data"


def require_or_skip(condition: bool, reason: str) -> None:
    """In CI a missing real part is a failure; on a developer machine, a skip."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"required in CI: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def pki_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from simulators.pki import TestPki

    directory = tmp_path_factory.mktemp("pki")
    TestPki.open_or_create(directory)
    return directory


@pytest.fixture(scope="session")
def test_pki(pki_dir: Path):  # type: ignore[no-untyped-def]
    from simulators.pki import TestPki

    return TestPki.open_or_create(pki_dir)


@pytest.fixture(scope="session")
def persona() -> Persona:
    return get_persona("yamada-taro")


@pytest.fixture(scope="session")
def card_templates(test_pki) -> dict[str, SoftwareCard]:  # type: ignore[no-untyped-def]
    """One card per persona id, made on first use."""
    return _TemplateCache(test_pki)


class _TemplateCache(dict[str, SoftwareCard]):
    def __init__(self, issuer: object) -> None:
        super().__init__()
        self.issuer = issuer

    def __missing__(self, persona_id: str) -> SoftwareCard:
        card = SoftwareCard.create(get_persona(persona_id), self.issuer)  # type: ignore[arg-type]
        self[persona_id] = card
        return card


@pytest.fixture
def software_card(card_templates: dict[str, SoftwareCard], persona: Persona) -> SoftwareCard:
    """A fresh copy of the persona's card: PIN counters at their maximum."""
    return card_templates[persona.id].copy()


@pytest.fixture(params=["inprocess", "pcsc"])
def transport(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def connect(transport: str, request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    """connect(card, **channel_options) -> CardChannel over the parametrized transport:
    in process, or through pyscard -> pcscd -> vpcd -> the same software card."""
    if transport == "inprocess":

        def in_process(card: SoftwareCard, **options: object) -> CardChannel:
            return CardChannel(SoftwareCardConnection(card), **options)  # type: ignore[arg-type]

        return in_process
    try:
        return request.getfixturevalue("pcsc_channel_factory")
    except pytest.FixtureLookupError:
        require_or_skip(False, "the pcscd + vpcd transport fixture is not available")


@pytest.fixture
def channel(connect, software_card: SoftwareCard) -> Iterator[CardChannel]:  # type: ignore[no-untyped-def]
    yield connect(software_card)
