"""Creating a webhook endpoint honours an idempotency key, as Stripe does for every POST
(trial 4, 6: the same key twice made two endpoints, and every event then went out twice
with two secrets; the SDK retries a POST with the key it sent)."""

from __future__ import annotations

import pytest
import stripe

from customer_core import CustomerService, IdempotencyError, InvalidRequestError, MemoryStore
from customer_core.testing import FakeClock, mock_stripe

URL = "http://127.0.0.1:9/hook"


def test_the_same_key_answers_the_first_creation_secret_included(
    service: CustomerService,
) -> None:
    first = service.webhook_endpoints.create(
        url=URL, enabled_events=["*"], idempotency_key="endpoint-1"
    )
    again = service.webhook_endpoints.perform_create(
        {"url": URL, "enabled_events": ["*"]}, idempotency_key="endpoint-1"
    )
    assert again.replayed is True
    assert again.result == first and first.secret is not None
    assert [e.id for e in service.webhook_endpoints.list().data] == [first.id]
    other = service.webhook_endpoints.create(
        url=URL, enabled_events=["*"], idempotency_key="endpoint-2"
    )
    assert other.id != first.id and other.secret != first.secret


def test_the_key_with_other_params_or_another_endpoint_is_refused(
    service: CustomerService,
) -> None:
    service.webhook_endpoints.create(url=URL, enabled_events=["*"], idempotency_key="k")
    with pytest.raises(IdempotencyError, match="same parameters they were first used with"):
        service.webhook_endpoints.create(url=URL + "2", enabled_events=["*"], idempotency_key="k")
    with pytest.raises(IdempotencyError, match="same endpoint they were first used for"):
        service.create(email="a@example.com", idempotency_key="k")
    assert len(service.webhook_endpoints.list().data) == 1


def test_an_invalid_creation_is_not_saved_so_a_corrected_retry_runs(
    service: CustomerService,
) -> None:
    with pytest.raises(InvalidRequestError) as raised:
        service.webhook_endpoints.create(url="not a url", enabled_events=["*"], idempotency_key="k")
    assert raised.value.param == "url"
    made = service.webhook_endpoints.create(url=URL, enabled_events=["*"], idempotency_key="k")
    assert made.url == URL


def test_the_sdk_with_one_key_makes_one_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    service = CustomerService(MemoryStore(), clock=FakeClock(), seed=3)
    monkeypatch.setattr(stripe, "api_key", "sk_test_x")
    with mock_stripe(service):
        first = stripe.WebhookEndpoint.create(url=URL, enabled_events=["*"], idempotency_key="abc")
        second = stripe.WebhookEndpoint.create(url=URL, enabled_events=["*"], idempotency_key="abc")
        assert second.last_response.headers["Idempotent-Replayed"] == "true"
        assert (second.id, second.secret) == (first.id, first.secret)
        assert [e.id for e in stripe.WebhookEndpoint.list().data] == [first.id]


# --- updates (contract §11: "All POST requests accept keys"; a mismatch errors) -----------


def test_an_update_with_a_key_runs_once_and_other_params_are_refused(
    service: CustomerService,
) -> None:
    endpoint = service.webhook_endpoints.create(url=URL, enabled_events=["*"])
    first = service.webhook_endpoints.update(
        endpoint.id, description="one", metadata={"n": "1"}, idempotency_key="wu"
    )
    assert (first.description, first.metadata, first.secret) == ("one", {"n": "1"}, None)
    service.webhook_endpoints.update(endpoint.id, description="between")
    again = service.webhook_endpoints.perform_update(
        endpoint.id, {"description": "one", "metadata": {"n": "1"}}, idempotency_key="wu"
    )
    assert again.replayed is True and again.result == first
    with pytest.raises(IdempotencyError, match="same parameters they were first used with"):
        service.webhook_endpoints.update(endpoint.id, description="two", idempotency_key="wu")
    assert service.webhook_endpoints.retrieve(endpoint.id).description == "between"
    other = service.webhook_endpoints.create(url=URL, enabled_events=["*"])
    with pytest.raises(IdempotencyError, match="same endpoint they were first used for"):
        service.webhook_endpoints.update(other.id, description="one", idempotency_key="wu")


def test_an_invalid_update_is_not_saved_and_a_missing_endpoint_is_a_saved_404(
    service: CustomerService,
) -> None:
    endpoint = service.webhook_endpoints.create(url=URL, enabled_events=["*"])
    with pytest.raises(InvalidRequestError) as raised:
        service.webhook_endpoints.update(endpoint.id, url="not a url", idempotency_key="k")
    assert raised.value.param == "url"
    assert service.webhook_endpoints.update(
        endpoint.id, url=URL + "2", idempotency_key="k"
    ).url == (URL + "2")
    for _ in range(2):
        with pytest.raises(InvalidRequestError) as missing:
            service.webhook_endpoints.update("we_missing", description="x", idempotency_key="m")
        assert (missing.value.http_status, missing.value.code) == (404, "resource_missing")


def test_the_sdk_update_with_a_key_is_replayed_over_the_wire() -> None:
    service = CustomerService(MemoryStore(), clock=FakeClock(), seed=3)
    with mock_stripe(service):
        client = stripe.StripeClient("sk_test_x")
        endpoint = client.v1.webhook_endpoints.create(params={"url": URL, "enabled_events": ["*"]})
        options: stripe.RequestOptions = {"idempotency_key": "wu"}
        first = client.v1.webhook_endpoints.update(
            endpoint.id, params={"description": "one"}, options=options
        )
        again = client.v1.webhook_endpoints.update(
            endpoint.id, params={"description": "one"}, options=options
        )
        assert again.last_response.headers["Idempotent-Replayed"] == "true"
        assert again.description == first.description == "one"
        with pytest.raises(stripe.IdempotencyError):
            client.v1.webhook_endpoints.update(
                endpoint.id, params={"description": "two"}, options=options
            )
    assert service.webhook_endpoints.retrieve(endpoint.id).description == "one"


def test_deletes_take_a_key_and_ignore_it_in_process(service: CustomerService) -> None:
    endpoint = service.webhook_endpoints.create(url=URL, enabled_events=["*"])
    assert service.webhook_endpoints.delete(endpoint.id, idempotency_key="d").deleted is True
    customer = service.create(tax_id_data=[{"type": "eu_vat", "value": "DE123456789"}])
    tax_id = service.tax_ids.list(customer.id).data[0].id
    assert service.tax_ids.delete(customer.id, tax_id, idempotency_key="t").deleted is True
    assert service.delete(customer.id, idempotency_key="c").deleted is True
    deleted = {e.type: e.request for e in service.events.list().data}
    assert deleted["customer.deleted"].idempotency_key == "c"
    assert deleted["customer.tax_id.deleted"].idempotency_key == "t"


def test_an_endpoint_delete_refuses_a_key_a_customer_delete_refuses(
    service: CustomerService,
) -> None:
    endpoint = service.webhook_endpoints.create(url=URL, enabled_events=["*"])
    for key in (5, "a\x00"):
        with pytest.raises(InvalidRequestError) as refused:
            service.webhook_endpoints.delete(endpoint.id, idempotency_key=key)  # type: ignore[arg-type]
        assert refused.value.param == "idempotency_key"
        with pytest.raises(InvalidRequestError) as same:
            service.delete("cus_missing", idempotency_key=key)  # type: ignore[arg-type]
        assert same.value.message == refused.value.message
    assert service.webhook_endpoints.retrieve(endpoint.id).id == endpoint.id
