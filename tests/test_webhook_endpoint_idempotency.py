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


def test_the_sdk_with_one_key_makes_one_endpoint() -> None:
    service = CustomerService(MemoryStore(), clock=FakeClock(), seed=3)
    with mock_stripe(service):
        stripe.api_key = "sk_test_x"
        first = stripe.WebhookEndpoint.create(url=URL, enabled_events=["*"], idempotency_key="abc")
        second = stripe.WebhookEndpoint.create(url=URL, enabled_events=["*"], idempotency_key="abc")
        assert second.last_response.headers["Idempotent-Replayed"] == "true"
        assert (second.id, second.secret) == (first.id, first.secret)
        assert [e.id for e in stripe.WebhookEndpoint.list().data] == [first.id]
