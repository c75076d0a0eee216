"""A webhook endpoint may name any event type Stripe's API takes (an application's real
list, e.g. ``invoice.paid``), as on Stripe; only customer events are ever sent to it."""

from __future__ import annotations

import pytest

from customer_core import CustomerService, MemoryStore
from customer_core.errors import InvalidRequestError


def test_stripe_event_names_are_taken_and_only_customer_events_count() -> None:
    service = CustomerService(MemoryStore())
    names = ["invoice.paid", "checkout.session.completed", "charge.succeeded"]
    others = service.webhook_endpoints.create(url="http://127.0.0.1:9/a", enabled_events=names)
    assert others.enabled_events == names
    service.webhook_endpoints.create(
        url="http://127.0.0.1:9/b", enabled_events=["invoice.paid", "customer.created"]
    )
    service.create(email="jenny@example.com")
    assert service.events.list().data[0].pending_webhooks == 1  # endpoint b only
    updated = service.webhook_endpoints.update(others.id, enabled_events=["payout.paid"])
    assert updated.enabled_events == ["payout.paid"]


@pytest.mark.parametrize("name", ["invoice.payed", "customer.*", "customer", ""])
def test_a_name_stripe_does_not_have_is_a_400(name: str) -> None:
    service = CustomerService(MemoryStore())
    with pytest.raises(InvalidRequestError) as caught:
        service.webhook_endpoints.create(url="http://127.0.0.1:9/a", enabled_events=[name])
    assert (caught.value.http_status, caught.value.param) == (400, "enabled_events[0]")
    if name:
        assert caught.value.message == (
            f"Invalid enabled_events: {name} is not a Stripe event type; use '*' or names "
            "such as customer.created (only customer events are ever sent)"
        )
    assert service.webhook_endpoints.list().data == []
