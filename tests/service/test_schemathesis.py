"""Property-based API test: schemathesis generates requests from the app's own OpenAPI
document (as an admin, so routes are exercised past authentication, with cards in the
readers and the lower layers wired) and no input may produce a 5xx."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from terminal.dev.slots import add_software_reader
from terminal.service.context import ServiceContext
from tests.service.conftest import ORIGIN, PASSWORDS

pytestmark = pytest.mark.slow

# /api/events streams until its limit; it has its own tests (test_readers.py).
EXCLUDED = r"^/api/events"


@pytest.fixture
def service_settings(service_settings):  # type: ignore[no-untyped-def]
    # schemathesis' ASGI client fetches /openapi.json as "testserver".
    return service_settings.model_copy(
        update={"allowed_hosts": ["127.0.0.1", "testserver"], "expose_openapi": True}
    )


@pytest.fixture
def api_schema(app, wired: ServiceContext, insert_card):  # type: ignore[no-untyped-def]
    for index in range(2):
        add_software_reader(wired.readers, f"Software Reader {index}")
    insert_card("0")
    insert_card("1", "sato-hanako")
    schema = schemathesis.openapi.from_asgi("/openapi.json", app).exclude(path_regex=EXCLUDED)
    # Signing out would revoke the admin token the generated requests carry.
    return schema.exclude(path="/api/session", method="DELETE")


@pytest.fixture
def admin_headers(app) -> dict[str, str]:  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    with TestClient(app, base_url=ORIGIN) as client:
        response = client.post(
            "/api/session",
            json={"username": "admin1", "password": PASSWORDS["admin1"]},
            headers={"Origin": ORIGIN},
        )
    return {"Authorization": f"Bearer {response.json()['token']}", "Origin": ORIGIN}


def test_no_server_errors(api_schema, admin_headers: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    headers = {**admin_headers, "Host": "127.0.0.1:8700"}
    checked = []
    statuses: dict[int, int] = {}
    for result in api_schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(
            max_examples=20,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def no_5xx(case) -> None:  # type: ignore[no-untyped-def]
            response = case.call(headers=headers)
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
            assert response.status_code < 500, (case.method, case.path, response.text[:500])

        no_5xx()
        checked.append(f"{operation.method.upper()} {operation.path}")
    assert "POST /api/readers/{reader_id}/login" in checked
    assert "POST /api/issuance" in checked
    assert len(checked) >= 20
    # the generated inputs got past authentication and validation, not only refused
    assert statuses.get(200, 0) > 0 and statuses.get(422, 0) > 0, statuses
    assert sum(statuses.values()) >= 100, statuses
    print("statuses:", dict(sorted(statuses.items())))
