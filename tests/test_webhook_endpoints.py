"""Webhook endpoints (issue 13 points 6 and 8): Stripe's API, kept by the store, on every
store, and through the official SDK on the server and in process."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import stripe

from customer_core import CustomerService, InvalidRequestError, SQLiteStore

from . import test_http

server_service = test_http.server_service
client = test_http.client


def test_create_returns_the_secret_once(service: CustomerService) -> None:
    endpoint = service.webhook_endpoints.create(
        url="http://127.0.0.1:8000/hooks",
        enabled_events=["customer.created", "customer.updated"],
        description="CRM sync",
        metadata={"team": "crm"},
    )
    body = endpoint.to_dict()
    assert list(body) == [
        "id",
        "object",
        "api_version",
        "application",
        "created",
        "description",
        "enabled_events",
        "livemode",
        "metadata",
        "secret",
        "status",
        "url",
    ]
    assert body["id"].startswith("we_") and body["object"] == "webhook_endpoint"
    assert body["secret"].startswith("whsec_") and len(body["secret"]) > 30
    assert (body["status"], body["livemode"], body["application"]) == ("enabled", False, None)
    assert body["enabled_events"] == ["customer.created", "customer.updated"]
    retrieved = service.webhook_endpoints.retrieve(endpoint.id).to_dict()
    assert "secret" not in retrieved
    assert retrieved == {key: value for key, value in body.items() if key != "secret"}
    (listed,) = service.webhook_endpoints.list().to_dict()["data"]
    assert listed == retrieved


def test_update_list_and_delete(service: CustomerService) -> None:
    first = service.webhook_endpoints.create(url="https://example.com/a", enabled_events=["*"])
    second = service.webhook_endpoints.create(
        url="https://example.com/b", enabled_events=["*"], metadata={"a": "1"}
    )
    updated = service.webhook_endpoints.update(
        second.id,
        url="https://example.com/c",
        enabled_events=["customer.deleted"],
        disabled="true",
        metadata={"a": "", "b": "2"},
        description="",
    )
    assert (updated.url, updated.enabled_events, updated.status, updated.metadata) == (
        "https://example.com/c",
        ["customer.deleted"],
        "disabled",
        {"b": "2"},
    )
    assert updated.created == second.created and updated.secret is None
    assert service.webhook_endpoints.update(second.id, disabled=False).status == "enabled"
    page = service.webhook_endpoints.list(limit=1)
    assert [e.id for e in page.data] == [second.id] and page.has_more
    assert [e.id for e in service.webhook_endpoints.list(starting_after=second.id).data] == [
        first.id
    ]
    deleted = service.webhook_endpoints.delete(first.id)
    assert deleted.to_dict() == {"id": first.id, "object": "webhook_endpoint", "deleted": True}
    with pytest.raises(InvalidRequestError) as caught:
        service.webhook_endpoints.retrieve(first.id)
    assert (caught.value.http_status, caught.value.code) == (404, "resource_missing")
    assert caught.value.message == f"No such webhook endpoint: '{first.id}'"


@pytest.mark.parametrize(
    ("params", "param", "code"),
    [
        ({"enabled_events": ["*"]}, "url", "parameter_missing"),
        ({"url": "not a url", "enabled_events": ["*"]}, "url", None),
        ({"url": "ftp://example.com", "enabled_events": ["*"]}, "url", None),
        ({"url": "https://example.com"}, "enabled_events", "parameter_missing"),
        ({"url": "https://example.com", "enabled_events": []}, "enabled_events", None),
        ({"url": "https://example.com", "enabled_events": ["invoice.payed"]}, None, None),
        ({"url": "https://example.com", "enabled_events": ["customer.*"]}, None, None),
        ({"url": "https://example.com", "enabled_events": ["*"], "nope": 1}, "nope", None),
    ],
)
def test_bad_input_is_a_stripe_400(
    service: CustomerService, params: dict[str, Any], param: str | None, code: str | None
) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        service.webhook_endpoints.create(**params)
    error = caught.value
    assert error.http_status == 400
    if param is not None:
        assert error.param == param
    else:
        assert error.param is not None and error.param.startswith("enabled_events")
    if code is not None:
        assert error.code == code
    assert service.webhook_endpoints.list().data == []


def test_endpoints_survive_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "customers.db"
    with SQLiteStore(path) as store:
        made = CustomerService(store).webhook_endpoints.create(
            url="http://localhost:4242/webhook", enabled_events=["customer.updated"]
        )
    with SQLiteStore(path) as store:
        again = CustomerService(store).webhook_endpoints.retrieve(made.id)
    assert again.url == "http://localhost:4242/webhook"


def test_seeded_services_make_the_same_endpoints(clock: Any) -> None:
    from customer_core import MemoryStore

    def make() -> dict[str, Any]:
        service = CustomerService(MemoryStore(), clock=clock, seed=3)
        return service.webhook_endpoints.create(url="http://x.io", enabled_events=["*"]).to_dict()

    assert make() == make()


def test_webhook_endpoints_through_the_sdk(client: stripe.StripeClient) -> None:
    endpoint = client.v1.webhook_endpoints.create(
        params={"url": "http://127.0.0.1:9/hooks", "enabled_events": ["customer.created"]}
    )
    assert endpoint.secret.startswith("whsec_")
    fetched = client.v1.webhook_endpoints.retrieve(endpoint.id)
    assert fetched.url == endpoint.url and "secret" not in fetched
    updated = client.v1.webhook_endpoints.update(
        endpoint.id, params={"disabled": True, "enabled_events": ["*"]}
    )
    assert (updated.status, updated.enabled_events) == ("disabled", ["*"])
    ids = [e.id for e in client.v1.webhook_endpoints.list().auto_paging_iter()]
    assert endpoint.id in ids
    assert client.v1.webhook_endpoints.delete(endpoint.id).deleted is True
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.webhook_endpoints.retrieve(endpoint.id)
    assert caught.value.http_status == 404
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.webhook_endpoints.create(params={"url": "nope", "enabled_events": ["*"]})
    assert (caught.value.http_status, caught.value.param) == (400, "url")
