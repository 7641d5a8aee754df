"""The one error table (terminal.codes): every code raised in the tree has a line, exit
numbers are shared only inside declared groups, the README documents the table as it
is, and the service answers each code with the table's status."""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections import defaultdict
from pathlib import Path

import pytest

from terminal.codes import CODES, SHARED_EXITS, describe, exit_code

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("card", "jpki", "terminal", "simulators")

# Where a stable code is written in the tree: class attributes, ServiceError(...),
# `code=` / `reason_code=` arguments, (code, status) pairs and {status: code} maps.
_CODE = r"([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*)"
PATTERNS = [
    re.compile(r"\bcode(?:\s*:\s*(?:ClassVar\[str\]|str))?\s*=\s*\"" + _CODE + '"'),
    re.compile(r"ServiceError\(\s*\"" + _CODE + '"'),
    re.compile(r"\b(?:reason_)?code\s*=\s*\"" + _CODE + '"'),
    re.compile(r"\b\d{3}\s*[,:]\s*\"" + _CODE + '"'),
]


def codes_in_tree() -> dict[str, set[str]]:
    found: dict[str, set[str]] = defaultdict(set)
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if path.name == "codes.py" and path.parent.name == "terminal":
                continue  # the table itself
            text = path.read_text(encoding="utf-8")
            for pattern in PATTERNS:
                for match in pattern.finditer(text):
                    found[match.group(1)].add(str(path.relative_to(ROOT)))
    return found


def test_the_scan_finds_codes_at_all() -> None:
    # A scanner that silently finds nothing would make the next test pass vacuously.
    found = codes_in_tree()
    for code in ("PIN_INCORRECT", "CERT_REVOKED", "CRL_PARTITION", "HOST_NOT_ALLOWED"):
        assert code in found, code


def test_every_code_in_the_tree_has_an_entry() -> None:
    missing = {code: sorted(paths) for code, paths in codes_in_tree().items() if code not in CODES}
    assert not missing, f"codes without a line in terminal/codes.py: {missing}"


def _error_classes() -> list[type[BaseException]]:
    for package in PACKAGES:
        module = importlib.import_module(package)
        for info in pkgutil.walk_packages(module.__path__, package + "."):
            if ".migrations" in info.name:
                continue  # Alembic scripts run only inside Alembic
            importlib.import_module(info.name)
    seen: list[type[BaseException]] = []
    stack: list[type[BaseException]] = [BaseException]
    while stack:
        cls = stack.pop()
        for sub in cls.__subclasses__():
            if sub not in seen:
                seen.append(sub)
                stack.append(sub)
    return [cls for cls in seen if cls.__module__.split(".")[0] in PACKAGES]


def test_every_exception_class_carries_a_known_code() -> None:
    unknown = {
        f"{cls.__module__}.{cls.__qualname__}": code
        for cls in _error_classes()
        if isinstance(code := cls.__dict__.get("code", getattr(cls, "code", None)), str)
        and code not in CODES
    }
    assert not unknown, unknown


def test_exit_numbers_are_shared_only_inside_declared_groups() -> None:
    by_exit: dict[int, list[str]] = defaultdict(list)
    for entry in CODES.values():
        assert 1 <= entry.exit <= 125, entry  # 126 and up belong to the shell
        by_exit[entry.exit].append(entry.code)
    shared = {number: codes for number, codes in by_exit.items() if len(codes) > 1}
    undeclared = {n: c for n, c in shared.items() if n not in SHARED_EXITS}
    assert not undeclared, f"codes sharing an exit number outside SHARED_EXITS: {undeclared}"
    unused = set(SHARED_EXITS) - set(shared)
    assert not unused, f"SHARED_EXITS groups with fewer than two codes: {unused}"


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("CERT_REVOKED", "CARD_REMOVED"),
        ("PIN_INCORRECT", "CERT_UNTRUSTED"),
        ("PIN_INCORRECT", "PIN_BLOCKED"),
        ("NO_CARD", "CARD_REMOVED"),
        ("NO_CARD", "NO_READER"),
        ("CERT_REVOKED", "CERT_EXPIRED"),
        ("CERT_REVOKED", "REVOCATION_UNKNOWN"),
        ("STORE_UNAVAILABLE", "STORE_BUSY"),
        ("STORE_UNAVAILABLE", "PCSC_UNAVAILABLE"),
        ("UNKNOWN_SERIAL", "PIN_BLOCKED"),
        ("PIN_FORMAT", "PIN_INCORRECT"),
    ],
)
def test_codes_a_script_tells_apart_exit_differently(first: str, second: str) -> None:
    assert exit_code(first) != exit_code(second)


def test_the_readme_documents_the_table_as_it_is() -> None:
    from terminal.codes import markdown_table

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert markdown_table() in readme, "paste `python -m terminal.codes` into the README"


def test_exceptions_map_to_their_code_in_the_service() -> None:
    from card.errors import CardRemovedError, InvalidPinError, PinBlockedError
    from jpki.errors import PinFormatError
    from jpki.validation.errors import CertificateRevokedError
    from terminal.linkage.core_client import CoreClientError
    from terminal.service.errors import to_service_error

    cases: list[tuple[BaseException, str]] = [
        (CardRemovedError("gone"), "CARD_REMOVED"),
        (InvalidPinError(b"", 0x63C2), "PIN_INCORRECT"),
        (InvalidPinError(b"", 0x63C0), "PIN_BLOCKED"),  # the exhausting try
        (PinBlockedError(b"", 0x6983), "PIN_BLOCKED"),
        (PinFormatError("the auth PIN is 4 digits"), "PIN_FORMAT"),
        (
            CertificateRevokedError(serial=5, revoked_at=None, reason=None, source="crl"),
            "CERT_REVOKED",
        ),
        (CoreClientError("nope", code="FORBIDDEN"), "CORE_ERROR"),  # never a 403 to the operator
        (CoreClientError("bad", code="INVALID_RESIDENT_CODE"), "INVALID_RESIDENT_CODE"),
    ]
    for exc, code in cases:
        mapped = to_service_error(exc)
        assert mapped is not None and mapped.code == code, (exc, mapped)
        assert mapped.status == CODES[code].http
        failure = describe(exc)
        assert failure is not None and failure.exit == CODES[code].exit
    assert to_service_error(InvalidPinError(b"", 0x63C2)).fields["remaining"] == 2  # type: ignore[union-attr]
    assert to_service_error(RuntimeError("no code")) is None


def test_cli_only_codes_are_codes_of_the_table() -> None:
    from terminal.codes import CLI_ONLY
    from terminal.service.errors import STATUS

    assert set(CODES) >= CLI_ONLY
    assert set(STATUS) == set(CODES) - CLI_ONLY
