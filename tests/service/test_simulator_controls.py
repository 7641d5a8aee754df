"""Dev/demo simulator controls: insert and pull software cards; hidden otherwise."""

from __future__ import annotations

from fastapi.testclient import TestClient

from terminal.dev.wing import DevWing
from terminal.service import Settings, create_app
from terminal.service.context import ServiceContext
from tests.service.conftest import BASE_URL, ORIGIN, TEST_SECRET, Session


def test_insert_and_pull(
    client: TestClient, ctx: ServiceContext, kiosk: Session, card_templates
) -> None:  # type: ignore[no-untyped-def]
    DevWing.of(ctx).card_library["yamada-taro"] = card_templates["yamada-taro"].copy()
    cards = client.get("/api/simulator/cards", headers=kiosk.headers).json()
    assert cards == [{"label": "yamada-taro", "in_reader": None}]
    inserted = client.post(
        "/api/simulator/readers/1/insert", json={"card": "yamada-taro"}, headers=kiosk.headers
    )
    assert inserted.status_code == 200 and inserted.json()["card_present"] is True
    # the same plastic card moved to another reader leaves the first one
    client.post(
        "/api/simulator/readers/2/insert", json={"card": "yamada-taro"}, headers=kiosk.headers
    )
    assert client.get("/api/readers/1", headers=kiosk.headers).json()["card_present"] is False
    assert client.get("/api/simulator/cards", headers=kiosk.headers).json()[0]["in_reader"] == "2"
    pulled = client.post("/api/simulator/readers/2/remove", headers=kiosk.headers)
    assert pulled.json()["card_present"] is False
    unknown = client.post(
        "/api/simulator/readers/0/insert", json={"card": "nobody"}, headers=kiosk.headers
    )
    assert unknown.status_code == 404


def test_hidden_without_the_setting(operator_accounts) -> None:  # type: ignore[no-untyped-def]
    settings = Settings(
        session_secret=TEST_SECRET,
        trust="jpki-production",
        operators=operator_accounts,
        software_readers=1,
    )
    app = create_app(settings, extensions=[DevWing()])
    with TestClient(app, base_url=BASE_URL) as client:
        client.headers["Origin"] = ORIGIN
        token = client.post(
            "/api/session", json={"username": "admin1", "password": "admin-test-pass-1"}
        ).json()["token"]
        response = client.get("/api/simulator/cards", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 404


def test_the_product_without_the_dev_wing_has_no_simulator_route(operator_accounts) -> None:  # type: ignore[no-untyped-def]
    """Even with simulator_controls set, a service built without the dev wing has no
    simulator route at all (404 from routing), and no software reader."""
    settings = Settings(
        session_secret=TEST_SECRET,
        trust="jpki-production",
        operators=operator_accounts,
        software_readers=2,
    ).model_copy(update={"simulator_controls": True})  # past validation: dev-only setting
    app = create_app(settings)
    assert not [
        route for route in app.routes if getattr(route, "path", "").startswith("/api/simulator")
    ]
    with TestClient(app, base_url=BASE_URL) as client:
        client.headers["Origin"] = ORIGIN
        token = client.post(
            "/api/session", json={"username": "admin1", "password": "admin-test-pass-1"}
        ).json()["token"]
        headers = {"Authorization": f"Bearer {token}"}
        assert client.get("/api/readers", headers=headers).json() == []
        from terminal.dev.routes import router

        dev_routes = [
            (method, route.path.replace("{reader_id}", "0"))  # type: ignore[attr-defined]
            for route in router.routes
            for method in route.methods  # type: ignore[attr-defined]
        ]
        assert len(dev_routes) >= 3  # every route the dev wing would mount
        for method, path in dev_routes:
            response = client.request(method, path, headers=headers, json={"card": "x"})
            assert response.status_code == 404, (method, path, response.text)
        assert "/api/simulator" not in client.get("/openapi.json").text
