"""Headers from the test doubles match whatever the case of their names, as over HTTP with
``requests`` or ``httpx``; and ``mock_stripe`` leaves a client pointed at a local server alone."""

from __future__ import annotations

import json
import urllib.request

import pytest
import stripe

from customer_core import CustomerService, MemoryStore
from customer_core.testing import mock_stripe
from customer_core.testing.headers import Headers
from customer_core.testing.mock import StripeMock
from customer_core.testing.pytest_plugin import CustomerServer
from customer_core.testing.receiver import WebhookReceiver
from customer_core.testing.stripe_client import StripeHTTPClient

from .test_webhook_delivery import FAST


def test_headers_match_names_whatever_their_case() -> None:
    headers = Headers([("Request-Id", "req_1"), ("content-type", "application/json")])
    assert headers["request-id"] == headers["REQUEST-ID"] == "req_1"
    assert headers.get("Content-Type") == "application/json"
    assert headers.get("Stripe-Signature") is None
    assert "CONTENT-TYPE" in headers and 1 not in headers
    assert list(headers) == ["Request-Id", "content-type"]  # the names as given
    assert headers == {"request-id": "req_1", "Content-Type": "application/json"}
    assert headers != {"request-id": "req_1"}
    assert headers != {"request-id": "req_2", "Content-Type": "application/json"}
    with pytest.raises(KeyError):
        headers["Idempotent-Replayed"]


def test_a_replay_under_mock_stripe_shows_stripe_s_headers() -> None:
    with mock_stripe():
        client = stripe.StripeClient("sk_test_headers")
        options: stripe.RequestOptions = {"idempotency_key": "signup-1"}
        first = client.v1.customers.create(params={"email": "a@b.co"}, options=options)
        again = client.v1.customers.create(params={"email": "a@b.co"}, options=options)
    assert again.id == first.id
    assert again.last_response is not None and first.last_response is not None
    headers = again.last_response.headers
    assert headers.get("Idempotent-Replayed") == "true"
    assert headers["idempotent-replayed"] == "true"
    assert headers["Request-Id"].startswith("req_")
    assert "Idempotent-Replayed" in dict(headers)  # named as Stripe writes it
    assert "Idempotent-Replayed" not in first.last_response.headers


def test_the_in_process_client_gives_the_same_headers() -> None:
    service = CustomerService(MemoryStore())
    client = stripe.StripeClient("sk_test_headers", http_client=StripeHTTPClient(service))
    made = client.v1.customers.create(params={"email": "a@b.co"})
    assert made.last_response is not None
    assert made.last_response.headers.get("Request-Id") == made.last_response.request_id


def test_a_webhook_s_headers_are_found_as_a_handler_names_them() -> None:
    service = CustomerService(MemoryStore())
    with WebhookReceiver() as receiver:
        endpoint = service.webhook_endpoints.create(url=receiver.url, enabled_events=["*"])
        assert endpoint.secret is not None
        with service.webhooks.start_delivery(retry=FAST):
            service.create(email="jenny@example.com")
            [delivery] = receiver.wait_for(1)
    assert delivery.headers["Stripe-Signature"] == delivery.signature
    assert delivery.headers.get("Content-Type") == "application/json; charset=utf-8"
    event = stripe.Webhook.construct_event(
        delivery.body.decode(), delivery.headers["Stripe-Signature"], endpoint.secret
    )
    assert event.type == "customer.created"


def _server_customers(server: CustomerServer) -> list[str]:
    request = urllib.request.Request(
        f"{server.base_url}/v1/customers", headers={"Authorization": f"Bearer {server.api_key}"}
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        return [customer["email"] for customer in json.loads(answer.read())["data"]]


def test_a_client_for_a_local_server_talks_to_it_while_the_mock_is_active(
    stripe_mock: StripeMock, customer_server: CustomerServer
) -> None:
    client = customer_server.stripe_client(max_network_retries=0)
    client.v1.customers.create(params={"email": "server@example.com"})
    stripe.api_key = "sk_test_mocked"
    try:
        stripe.Customer.create(email="mock@example.com")  # Stripe's address: the mock's
    finally:
        stripe.api_key = None
    assert _server_customers(customer_server) == ["server@example.com"]
    assert [c.email for c in stripe_mock.service.list().data] == ["mock@example.com"]
