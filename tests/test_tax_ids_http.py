"""Customer tax IDs over HTTP, driven by the official stripe SDK: StripeClient through the
server and in process, and the global style (``stripe.Customer.create_tax_id``)."""

from __future__ import annotations

import pytest
import stripe

from customer_core import CustomerService, MemoryStore
from customer_core.http.api import StripeAPI
from customer_core.testing import StripeHTTPClient

from . import test_http

# test_http's fixtures: one server per module, the SDK client over it and in process.
server_service = test_http.server_service
client = test_http.client


def test_tax_ids_through_the_client(client: stripe.StripeClient) -> None:
    customer = client.v1.customers.create(
        params={
            "email": "jenny@example.com",
            "tax_id_data": [{"type": "eu_vat", "value": "DE123456789"}],
            "expand": ["tax_ids"],
        }
    )
    assert customer.tax_ids is not None
    (vat,) = customer.tax_ids.data
    assert isinstance(vat, stripe.TaxId)
    assert (vat.type, vat.value, vat.country, vat.customer) == (
        "eu_vat",
        "DE123456789",
        "DE",
        customer.id,
    )
    assert vat.verification is not None and vat.verification.status == "pending"
    assert vat.owner is not None and (vat.owner.type, vat.owner.customer) == (
        "customer",
        customer.id,
    )

    tax_ids = client.v1.customers.tax_ids
    ein = tax_ids.create(customer.id, {"type": "us_ein", "value": "12-3456789"})
    assert (ein.object, ein.country, ein.livemode) == ("tax_id", "US", False)
    assert ein.verification is not None and ein.verification.status == "unavailable"
    assert tax_ids.retrieve(customer.id, ein.id).value == "12-3456789"
    page = tax_ids.list(customer.id, {"limit": 1})
    assert ([item.id for item in page.data], page.has_more) == ([ein.id], True)
    assert [item.id for item in page.auto_paging_iter()] == [ein.id, vat.id]
    expanded = tax_ids.retrieve(customer.id, vat.id, {"expand": ["customer"]})
    assert isinstance(expanded.customer, stripe.Customer)
    assert expanded.customer.email == "jenny@example.com"

    deleted = tax_ids.delete(customer.id, ein.id)
    assert (deleted.id, deleted.deleted) == (ein.id, True)
    with pytest.raises(stripe.InvalidRequestError) as caught:
        tax_ids.retrieve(customer.id, ein.id)
    assert (caught.value.http_status, caught.value.code) == (404, "resource_missing")
    assert caught.value.user_message == f"No such tax id: '{ein.id}'"

    client.v1.customers.delete(customer.id)
    with pytest.raises(stripe.InvalidRequestError) as caught:
        tax_ids.list(customer.id)
    assert caught.value.http_status == 404
    assert caught.value.user_message == f"No such customer: '{customer.id}'"


def test_tax_id_errors_through_the_client(client: stripe.StripeClient) -> None:
    customer = client.v1.customers.create()
    tax_ids = client.v1.customers.tax_ids
    with pytest.raises(stripe.InvalidRequestError) as caught:
        tax_ids.create(customer.id, {"type": "gb_vat", "value": "123"})
    error = caught.value
    assert (error.http_status, error.code, error.param, error.user_message) == (
        400,
        "tax_id_invalid",
        "value",
        "Invalid value for gb_vat.",
    )
    with pytest.raises(stripe.InvalidRequestError) as caught:
        tax_ids.create(customer.id, {"type": "xx_vat", "value": "123"})  # type: ignore[typeddict-item]
    assert caught.value.param == "type"
    assert (caught.value.user_message or "").startswith("Invalid type: must be one of ad_nrt,")
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.customers.create(
            params={"tax_id_data": [{"type": "eu_vat", "value": "DE1"}], "email": "x@example.com"}
        )
    assert (caught.value.code, caught.value.param) == ("tax_id_invalid", "tax_id_data[0][value]")
    assert [c.email for c in client.v1.customers.list().data].count("x@example.com") == 0


def test_tax_ids_in_the_global_style(monkeypatch: pytest.MonkeyPatch) -> None:
    service = CustomerService(MemoryStore())
    monkeypatch.setattr(stripe, "api_key", "sk_test_global")
    monkeypatch.setattr(stripe, "default_http_client", StripeHTTPClient(service))
    customer = stripe.Customer.create(name="Ada")
    created = stripe.Customer.create_tax_id(customer.id, type="au_abn", value="12345678912")
    assert created.verification is not None and created.verification.status == "pending"
    assert stripe.Customer.retrieve_tax_id(customer.id, created.id).country == "AU"
    assert [t.id for t in stripe.Customer.list_tax_ids(customer.id).auto_paging_iter()] == [
        created.id
    ]
    retrieved = stripe.Customer.retrieve(customer.id, expand=["tax_ids.data.customer"])
    assert retrieved.tax_ids is not None
    embedded_customer = retrieved.tax_ids.data[0].customer
    assert isinstance(embedded_customer, stripe.Customer) and embedded_customer.name == "Ada"
    assert stripe.Customer.delete_tax_id(customer.id, created.id).deleted is True
    assert stripe.Customer.list_tax_ids(customer.id).data == []


def test_tax_id_routes_and_idempotent_replays() -> None:
    api = StripeAPI(CustomerService(MemoryStore()), None)
    customer_id = api.handle("POST", "/v1/customers", "", {}, b"").json()["id"]
    path = f"/v1/customers/{customer_id}/tax_ids"
    headers = {"idempotency-key": "k-1", "content-type": "application/x-www-form-urlencoded"}
    first = api.handle("POST", path, "", headers, b"type=eu_vat&value=DE123456789")
    again = api.handle("POST", path, "", headers, b"type=eu_vat&value=DE123456789")
    assert first.status == again.status == 200
    assert again.json() == first.json()
    assert again.headers.get("idempotent-replayed") == "true"
    assert "idempotent-replayed" not in first.headers
    tax_id = first.json()["id"]
    answer = api.handle("GET", f"{path}/{tax_id}", "expand[]=customer", {}, b"")
    assert answer.json()["customer"]["id"] == customer_id
    for method, route in [
        ("PUT", path),
        ("POST", f"{path}/{tax_id}"),
        ("GET", f"{path}/{tax_id}/x"),
    ]:
        answer = api.handle(method, route, "", {}, b"")
        assert answer.status == 404
        assert answer.json()["error"]["message"].startswith(f"Unrecognized request URL ({method}: ")
    answer = api.handle("GET", "/v1/customers/cus_nope/tax_ids/txi_nope", "", {}, b"")
    assert (answer.status, answer.json()) == (
        404,
        {
            "error": {
                "code": "resource_missing",
                "doc_url": "https://stripe.com/docs/error-codes/resource-missing",
                "message": "No such customer: 'cus_nope'",
                "param": "customer",
                "type": "invalid_request_error",
            }
        },
    )
