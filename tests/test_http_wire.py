"""Wire details real clients trip on: idempotent replay headers, Stripe-Version, strict
form decoding, HEAD/OPTIONS/CORS, long URLs and the shape of JSON bodies.

Driven through the HTTP server (the official stripe SDK and raw http.client requests)
and, where the transport applies, through the in-process ``StripeHTTPClient``.
"""

from __future__ import annotations

import pytest
import stripe

from customer_core import CustomerService, MemoryStore

from . import test_http
from .test_http import RunningServer

# test_http's fixtures: one server per module, the SDK client over it and in process.
server_service = test_http.server_service
server = test_http.server
client = test_http.client

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


# --- Idempotent-Replayed --------------------------------------------------------------------


def test_a_replay_says_so_and_echoes_the_key(client: stripe.StripeClient) -> None:
    first = client.v1.customers.create(
        params={"email": "replay@example.com"}, options={"idempotency_key": "replay-1"}
    )
    assert first.last_response.headers["idempotency-key"] == "replay-1"
    assert "idempotent-replayed" not in first.last_response.headers
    again = client.v1.customers.create(
        params={"email": "replay@example.com"}, options={"idempotency_key": "replay-1"}
    )
    assert again.id == first.id
    assert again.last_response.headers["idempotent-replayed"] == "true"
    assert again.last_response.headers["idempotency-key"] == "replay-1"
    assert again.last_response.idempotency_key == "replay-1"


def test_a_replayed_error_says_so(client: stripe.StripeClient) -> None:
    for attempt in range(2):
        with pytest.raises(stripe.InvalidRequestError) as caught:
            client.v1.customers.create(
                params={"payment_method": "pm_missing"}, options={"idempotency_key": "replay-err"}
            )
        assert caught.value.user_message == "No such PaymentMethod: 'pm_missing'"
        headers = caught.value.headers or {}
        assert headers.get("idempotent-replayed") == ("true" if attempt else None)


def test_replay_headers_on_the_raw_wire(server: RunningServer) -> None:
    sent = {**FORM, "Idempotency-Key": "raw-1"}
    status, first_headers, first = server.request(
        "POST", "/v1/customers", body=b"name=Raw", headers=sent
    )
    status, headers, body = server.request("POST", "/v1/customers", body=b"name=Raw", headers=sent)
    assert status == 200 and body == first
    assert headers["idempotent-replayed"] == "true" and headers["idempotency-key"] == "raw-1"
    assert (
        "idempotent-replayed" not in first_headers and first_headers["idempotency-key"] == "raw-1"
    )
    _, headers, _ = server.request("GET", f"/v1/customers/{first['id']}")
    assert "idempotent-replayed" not in headers and "idempotency-key" not in headers


def test_the_service_reports_replays() -> None:
    svc = CustomerService(MemoryStore())
    first = svc.perform("create", {"name": "A"}, idempotency_key="k")
    again = svc.perform("create", {"name": "A"}, idempotency_key="k")
    assert (first.replayed, again.replayed) == (False, True)
    assert again.result == first.result
    assert svc.perform("retrieve", id=first.result.id).replayed is False  # type: ignore[union-attr]
