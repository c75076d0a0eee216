"""Events over HTTP with the official SDK (server and in process), and on the command line."""

from __future__ import annotations

from pathlib import Path

import pytest
import stripe

from . import test_http
from .test_cli import run

# test_http's fixtures: one server per module, the SDK client over it and in process.
server_service = test_http.server_service
client = test_http.client
server = test_http.server


def test_events_through_the_sdk(client: stripe.StripeClient) -> None:
    customer = client.v1.customers.create(
        params={"email": "jenny@example.com", "metadata": {"plan": "gold"}},
        options={"idempotency_key": "events-http-1"},
    )
    client.v1.customers.update(customer.id, params={"metadata": {"plan": "", "seats": "3"}})
    updated = client.v1.events.list(params={"type": "customer.updated", "limit": 1}).data[0]
    assert updated.object == "event" and updated.id.startswith("evt_")
    assert updated.data.object["id"] == customer.id
    assert updated.data.previous_attributes.to_dict() == {
        "metadata": {"plan": "gold", "seats": None}
    }
    created = client.v1.events.list(params={"types": ["customer.created"], "limit": 1}).data[0]
    assert created.data.object["id"] == customer.id
    assert created.request.idempotency_key == "events-http-1"
    # request.id is the Request-Id header of the create's response.
    assert created.request.id == customer.last_response.request_id
    assert created.request.id.startswith("req_")
    again = client.v1.events.retrieve(created.id)
    assert again.to_dict() == created.to_dict()
    wildcard = client.v1.events.list(params={"type": "customer.*", "limit": 2})
    assert [event.id for event in wildcard.data] == [updated.id, created.id]


def test_event_errors_through_the_sdk(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.events.retrieve("evt_missing")
    assert (caught.value.http_status, caught.value.code) == (404, "resource_missing")
    assert caught.value.user_message == "No such event: 'evt_missing'"
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.events.list(params={"type": "customer.*", "types": ["customer.created"]})
    assert (caught.value.http_status, caught.value.param) == (400, "types")
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.events.list(params={"starting_after": "evt_missing"})
    assert (caught.value.http_status, caught.value.param) == (400, "starting_after")


def test_events_are_read_only_routes(server: test_http.RunningServer) -> None:
    status, _, body = server.request("POST", "/v1/events", b"type=customer.created")
    assert (
        status == 404 and "Unrecognized request URL (POST: /v1/events)" in body["error"]["message"]
    )
    status, _, body = server.request("DELETE", "/v1/events/evt_1")
    assert status == 404
    status, _, body = server.request("GET", "/v1/events?limit=2&type=customer.%2A")
    assert status == 200 and body["object"] == "list" and body["url"] == "/v1/events"


def test_events_on_the_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = str(tmp_path / "customers.db")
    _, customer, _ = run(capsys, "create", "--db", data, "-d", "email=a@example.com")
    run(capsys, "update", customer["id"], "--db", data, "-d", "name=A")  # type: ignore[index]
    status, page, _ = run(capsys, "events", "list", "--db", data, "-d", "type=customer.*")
    assert status == 0
    assert [event["type"] for event in page["data"]] == [  # type: ignore[index]
        "customer.updated",
        "customer.created",
    ]
    event_id = page["data"][1]["id"]  # type: ignore[index]
    status, event, _ = run(capsys, "events", "retrieve", event_id, "--db", data)
    assert status == 0 and event["data"]["object"]["id"] == customer["id"]  # type: ignore[index]
    status, _, error = run(capsys, "events", "retrieve", "evt_missing", "--db", data)
    assert status == 1 and error == "error: No such event: 'evt_missing'\n"
    status, _, error = run(capsys, "events", "list", "--db", data, "-d", "limit=0")
    assert (status, error) == (1, "error: limit: This value must be greater than or equal to 1.\n")
