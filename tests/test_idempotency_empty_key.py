"""An empty idempotency key is no key, in process and over HTTP alike (one rule, in
``idempotency.supplied_key``): the official SDKs send no header for an empty key, and an
HTTP header written ``Idempotency-Key:`` with nothing after it arrives as the empty string."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import stripe

from customer_core import CustomerService, MemoryStore
from customer_core.testing import FakeClock

from .test_events import last_event
from .test_http import API_KEY, RunningServer

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def test_an_empty_key_runs_each_request_as_new(service: CustomerService) -> None:
    first = service.create(idempotency_key="", email="a@example.com")
    assert last_event(service)["request"] == {"id": None, "idempotency_key": None}
    second = service.create(idempotency_key="", email="a@example.com")
    assert first.id != second.id
    updated = service.update(first.id, idempotency_key="", name="Jenny")
    assert updated.name == "Jenny"
    outcome = service.perform("create", {"email": "b@example.com"}, idempotency_key="")
    assert outcome.replayed is False
    assert last_event(service)["request"] == {"id": None, "idempotency_key": None}
    assert [c.email for c in service.list().data] == [
        "b@example.com",
        "a@example.com",
        "a@example.com",
    ]


def test_an_empty_key_on_a_tax_id_create_is_no_key(service: CustomerService) -> None:
    customer = service.create()
    params = {"type": "eu_vat", "value": "DE123456789"}
    first = service.tax_ids.perform("create", params, customer=customer.id, idempotency_key="")
    again = service.tax_ids.perform("create", params, customer=customer.id, idempotency_key="")
    assert first.result.id != again.result.id  # type: ignore[union-attr]


@pytest.fixture(scope="module")
def server() -> Iterator[RunningServer]:
    with RunningServer(CustomerService(MemoryStore(), clock=FakeClock())) as running:
        yield running


def test_an_empty_header_is_no_key_over_http(server: RunningServer) -> None:
    headers = {**FORM, "Idempotency-Key": ""}
    ids = []
    for _ in range(2):
        status, answer_headers, body = server.request(
            "POST", "/v1/customers", b"email=wire@example.com", headers
        )
        assert status == 200, body
        assert "idempotent-replayed" not in answer_headers
        ids.append(body["id"])
    assert ids[0] != ids[1]
    status, _, events = server.request("GET", "/v1/events?limit=1")
    assert status == 200
    assert events["data"][0]["request"]["idempotency_key"] is None, json.dumps(events)


def test_an_empty_key_through_the_sdk_is_no_key(server: RunningServer) -> None:
    client = stripe.StripeClient(
        API_KEY,
        base_addresses={"api": f"http://127.0.0.1:{server.port}"},
        max_network_retries=0,
    )
    options: stripe.RequestOptions = {"idempotency_key": ""}
    first = client.v1.customers.create(params={"email": "sdk@example.com"}, options=options)
    again = client.v1.customers.create(params={"email": "sdk@example.com"}, options=options)
    assert first.id != again.id
