"""Wire details real clients trip on: idempotent replay headers, Stripe-Version, strict
form decoding, HEAD/OPTIONS/CORS, long URLs and the shape of JSON bodies.

Driven through the HTTP server (the official stripe SDK and raw http.client requests)
and, where the transport applies, through the in-process ``StripeHTTPClient``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import stripe

from customer_core import CustomerService, MemoryStore
from customer_core.testing import StripeHTTPClient

from .test_http import API_KEY, RunningServer

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[RunningServer, CustomerService]]:
    service = CustomerService(MemoryStore())
    with RunningServer(service) as server:
        yield server, service


@pytest.fixture
def server(served: tuple[RunningServer, CustomerService]) -> RunningServer:
    return served[0]


@pytest.fixture(params=["server", "in_process"])
def client(request: pytest.FixtureRequest, server: RunningServer) -> stripe.StripeClient:
    if request.param == "server":
        return stripe.StripeClient(
            API_KEY,
            base_addresses={"api": f"http://127.0.0.1:{server.port}"},
            max_network_retries=0,
        )
    return stripe.StripeClient(
        API_KEY, http_client=StripeHTTPClient(CustomerService(MemoryStore())), max_network_retries=0
    )


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
