"""Deleting or disabling a webhook endpoint drops its deliveries not yet made at once:
they stop counting in ``pending_webhooks`` and in ``delivery_success=false`` (trial 4, 4:
they counted until their next retry came due, up to hours later, or for ever with no
worker). On every store."""

from __future__ import annotations

from customer_core import CustomerService


def _pending(service: CustomerService) -> tuple[int, list[str]]:
    newest = service.events.list(limit=1).data[0]
    return newest.pending_webhooks, [e.id for e in service.events.list(delivery_success=False).data]


def test_a_deleted_endpoint_stops_counting(service: CustomerService) -> None:
    gone = service.webhook_endpoints.create(url="http://127.0.0.1:9/gone", enabled_events=["*"])
    kept = service.webhook_endpoints.create(url="http://127.0.0.1:9/kept", enabled_events=["*"])
    service.create(email="a@example.com")
    event_id = service.events.list(limit=1).data[0].id
    assert _pending(service) == (2, [event_id])
    service.webhook_endpoints.delete(gone.id)
    assert _pending(service) == (1, [event_id])
    service.webhook_endpoints.delete(kept.id)
    assert _pending(service) == (0, [])
    assert service.store.outbox_next_due() is None


def test_a_disabled_endpoint_stops_counting_and_enabling_it_again_sends_only_new_events(
    service: CustomerService,
) -> None:
    endpoint = service.webhook_endpoints.create(url="http://127.0.0.1:9/off", enabled_events=["*"])
    service.create(email="before@example.com")
    service.webhook_endpoints.update(endpoint.id, disabled=True)
    assert _pending(service) == (0, [])
    service.webhook_endpoints.update(endpoint.id, disabled=False)
    service.create(email="after@example.com")
    newest = service.events.list(limit=1).data[0]
    assert _pending(service) == (1, [newest.id])


def test_an_update_that_does_not_disable_keeps_the_deliveries(service: CustomerService) -> None:
    endpoint = service.webhook_endpoints.create(url="http://127.0.0.1:9/on", enabled_events=["*"])
    service.create(email="a@example.com")
    service.webhook_endpoints.update(endpoint.id, description="renamed", disabled=False)
    assert _pending(service)[0] == 1
