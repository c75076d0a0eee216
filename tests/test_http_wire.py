"""Wire details real clients trip on: idempotent replay headers, Stripe-Version, strict
form decoding, HEAD/OPTIONS/CORS, long URLs and the shape of JSON bodies.

Driven through the HTTP server (the official stripe SDK and raw http.client requests)
and, where the transport applies, through the in-process ``StripeHTTPClient``.
"""

from __future__ import annotations

import http.client
import json

import pytest
import stripe

from customer_core import CustomerService, MemoryStore
from customer_core.http import API_VERSION

from . import test_http
from .test_http import API_KEY, RunningServer

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


# --- Stripe-Version ---------------------------------------------------------------------------


MALFORMED_VERSIONS = [
    "2019-2-19",
    "2018-11-21 accounts_upgrade=true",
    "2026-02-30",
    "latest",
    "2026-09-30.Endive",
    "",
]
WELL_FORMED_VERSIONS = [
    "2026-10-28.endive",
    "2020-08-27",
    "2031-01-01.zebra",
    "2026-09-30.endive; feature_beta=v1",
    "2026-09-30.endive; a_beta=v2; b_beta=v1",
]


@pytest.mark.parametrize("version", MALFORMED_VERSIONS + WELL_FORMED_VERSIONS)
def test_malformed_versions_are_stripes_400_and_well_formed_ones_accepted(
    server: RunningServer, version: str
) -> None:
    status, headers, body = server.request(
        "GET", "/v1/customers", headers={"Stripe-Version": version}
    )
    if version in MALFORMED_VERSIONS:
        assert (status, body) == (
            400,
            {
                "error": {
                    "message": f"Invalid Stripe API version: {version}",
                    "type": "invalid_request_error",
                }
            },
        )
    else:
        assert status == 200 and body["object"] == "list"
    # The body has this library's shape, and the header says which one.
    assert headers["stripe-version"] == API_VERSION == "2026-09-30.endive"


def test_the_sdk_sends_its_own_newer_version_and_a_bad_one_is_refused(
    client: stripe.StripeClient, server: RunningServer
) -> None:
    customer = client.v1.customers.create(params={"name": "Versioned"})
    assert stripe.api_version == "2026-10-28.endive"
    assert customer.last_response.headers["stripe-version"] == API_VERSION
    bad = stripe.StripeClient(
        API_KEY,
        base_addresses={"api": f"http://127.0.0.1:{server.port}"},
        stripe_version="2019-2-19",
        max_network_retries=0,
    )
    with pytest.raises(stripe.InvalidRequestError, match="Invalid Stripe API version: 2019-2-19"):
        bad.v1.customers.list()


# --- pretty-printed bodies ----------------------------------------------------------------------


def raw_request(server: RunningServer, method: str, path: str, body: bytes | None = None) -> str:
    """The response body as text, exactly as sent."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        headers = {"Authorization": f"Bearer {API_KEY}", **(FORM if body is not None else {})}
        connection.request(method, path, body=body, headers=headers)
        return connection.getresponse().read().decode()
    finally:
        connection.close()


def test_bodies_are_pretty_printed_like_stripes(server: RunningServer) -> None:
    created = raw_request(
        server, "POST", "/v1/customers", b"email=pretty%40example.com&name=Zo%C3%AB"
    )
    assert created.startswith('{\n  "id": "cus_')
    assert '\n  "object": "customer",\n' in created
    assert '\n  "email": "pretty@example.com",\n' in created and '"name": "Zoë"' in created
    assert '\n  "metadata": {},\n' in created and created.endswith("\n}\n")
    customer_id = json.loads(created)["id"]
    assert raw_request(server, "GET", f"/v1/customers/{customer_id}") == created
    page = raw_request(server, "GET", "/v1/customers?limit=1")
    assert page.startswith('{\n  "object": "list",\n  "url": "/v1/customers",\n')
    assert '\n  "data": [\n    {\n      "id": "cus_' in page
    error = raw_request(server, "GET", "/v1/customers/cus_nope")
    assert error == (
        "{\n"
        '  "error": {\n'
        '    "code": "resource_missing",\n'
        '    "doc_url": "https://stripe.com/docs/error-codes/resource-missing",\n'
        '    "message": "No such customer: \'cus_nope\'",\n'
        '    "param": "id",\n'
        '    "type": "invalid_request_error"\n'
        "  }\n"
        "}\n"
    )
