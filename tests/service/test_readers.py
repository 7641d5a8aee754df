"""Readers, card summary, per-reader serialisation, SSE events, metrics."""

from __future__ import annotations

import json
import threading

from fastapi.testclient import TestClient

from jpki.constants import PinKind
from terminal.service.context import ServiceContext
from tests.service.conftest import Session


def test_health_needs_no_session(client: TestClient) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert response.json()["readers"] == 3


def test_readers_list_software_readers(client: TestClient, kiosk: Session, insert_card) -> None:  # type: ignore[no-untyped-def]
    insert_card("1")
    readers = client.get("/api/readers", headers=kiosk.headers).json()
    assert [r["name"] for r in readers] == [f"Software Reader {i}" for i in range(3)]
    assert [r["card_present"] for r in readers] == [False, True, False]
    assert readers[1]["card_serial"] == 1 and not readers[1]["busy"]
    one = client.get("/api/readers/1", headers=kiosk.headers).json()
    assert one["id"] == "1" and one["kind"] == "software"


def test_card_summary_spends_no_pin_try(client: TestClient, kiosk: Session, insert_card) -> None:  # type: ignore[no-untyped-def]
    card = insert_card("0")
    before = {kind: card.pin_remaining(kind) for kind in PinKind}
    response = client.get("/api/readers/0/card", headers=kiosk.headers)
    assert response.status_code == 200, response.text
    summary = response.json()
    assert summary["token_info"] == "JPKIAPICCTOKEN2" and summary["mynumber_card"]
    kinds = [c["kind"] for c in summary["certificates"]]
    assert kinds == ["auth", "auth-ca", "sign-ca"]
    assert int(summary["certificates"][0]["serial"]) > 0
    pins = {p["kind"]: p for p in summary["pins"]}
    assert pins["auth"]["remaining"] == 3 and pins["sign"]["remaining"] == 5
    assert pins["cardinfo"]["max_tries"] == 3 and not pins["auth"]["blocked"]
    assert {kind: card.pin_remaining(kind) for kind in PinKind} == before


def test_card_errors_have_codes(client: TestClient, kiosk: Session) -> None:
    empty = client.get("/api/readers/2/card", headers=kiosk.headers)
    assert empty.status_code == 409 and empty.json()["error"]["code"] == "NO_CARD"
    missing = client.get("/api/readers/77/card", headers=kiosk.headers)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "NO_READER"
    invalid = client.get("/api/readers/abc/card", headers=kiosk.headers)
    assert invalid.status_code == 422 and invalid.json()["error"]["code"] == "VALIDATION_ERROR"


def test_busy_reader_is_refused_at_once(
    client: TestClient,
    ctx: ServiceContext,
    kiosk: Session,
    insert_card,  # type: ignore[no-untyped-def]
) -> None:
    insert_card("0")
    insert_card("1", "sato-hanako")
    with ctx.readers.session("0", "held-by-test"):
        response = client.get("/api/readers/0/card", headers=kiosk.headers)
        assert response.status_code == 409
        assert response.json()["error"]["code"] == "READER_BUSY"
        assert response.json()["error"]["operation"] == "held-by-test"
        # other readers are not held up: the card in reader 1 is read meanwhile (a bare
        # 409 would not tell READER_BUSY from NO_CARD)
        other = client.get("/api/readers/1/card", headers=kiosk.headers)
        assert other.status_code == 200, other.text
        assert other.json()["token_info"] == "JPKIAPICCTOKEN2"
    assert client.get("/api/readers/0/card", headers=kiosk.headers).status_code == 200


def test_card_pulled_during_an_operation(
    client: TestClient,
    ctx: ServiceContext,
    kiosk: Session,
    insert_card,  # type: ignore[no-untyped-def]
) -> None:
    insert_card("0")
    slot = ctx.readers.get("0").slot
    connection = slot.connect()
    real_transmit = connection.transmit
    calls = [0]

    def pull_after_two(apdu: bytes) -> tuple[bytes, int]:
        calls[0] += 1
        if calls[0] == 3:
            slot.remove()  # what a resident does when pulling the card mid-read
        return real_transmit(apdu)

    connection.transmit = pull_after_two  # type: ignore[method-assign]
    response = client.get("/api/readers/0/card", headers=kiosk.headers)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "CARD_REMOVED"
    state = client.get("/api/readers/0", headers=kiosk.headers).json()
    assert state["card_present"] is False and state["busy"] is False


def test_events_stream_snapshot_then_changes(
    client: TestClient,
    ctx: ServiceContext,
    kiosk: Session,
    insert_card,  # type: ignore[no-untyped-def]
) -> None:
    frames: list[dict] = []  # type: ignore[type-arg]

    def insert_when_subscribed() -> None:
        for _ in range(200):
            if ctx.readers.events.subscriber_count:
                insert_card("2")
                return
            threading.Event().wait(0.01)

    inserter = threading.Thread(target=insert_when_subscribed)
    inserter.start()
    with client.stream("GET", "/api/events?limit=2", headers=kiosk.headers) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        kinds = []
        for line in response.iter_lines():
            if line.startswith("event: "):
                kinds.append(line[7:])
            if line.startswith("data: "):
                frames.append(json.loads(line[6:]))
    inserter.join()
    assert kinds == ["snapshot", "card_inserted"]
    assert len(frames[0]["readers"]) == 3
    assert frames[1]["reader"]["id"] == "2" and frames[1]["reader"]["card_present"] is True


def test_events_stream_ends_after_max_seconds(client: TestClient, kiosk: Session) -> None:
    response = client.get("/api/events?max_seconds=0.2", headers=kiosk.headers)
    assert response.status_code == 200
    assert response.text.startswith("id: 0\nevent: snapshot\n")


def test_events_need_a_session(client: TestClient) -> None:
    assert client.get("/api/events?limit=1").status_code == 401


def test_metrics_in_prometheus_format(
    client: TestClient, kiosk: Session, admin: Session, insert_card
) -> None:  # type: ignore[no-untyped-def]
    insert_card("0")
    client.get("/api/readers/0/card", headers=kiosk.headers)
    client.get("/api/readers/1/card", headers=kiosk.headers)
    # Issue 14 #10: outside dev /metrics is not anonymous, and not for a kiosk
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers=kiosk.headers).status_code == 403
    response = client.get("/metrics", headers=admin.headers)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert 'mynaterm_card_operations_total{operation="read-card",outcome="OK"} 1.0' in text
    assert 'mynaterm_card_operations_total{operation="read-card",outcome="NO_CARD"} 1.0' in text
    assert 'route="/api/readers/{reader_id}/card"' in text  # templates, never raw ids
    assert "mynaterm_readers 3.0" in text
