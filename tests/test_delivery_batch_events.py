"""The delivery worker reads a batch's events in one store call (``event_get_many``; on
PostgreSQL one query), not one read a delivery (issue 13, API rate while deliveries run)."""

from __future__ import annotations

from collections.abc import Collection

import pytest

from customer_core import CustomerService, MemoryStore
from customer_core.store.base import Record
from customer_core.testing.receiver import WebhookReceiver

from .test_webhook_delivery import FAST, wait_until


class CountingStore(MemoryStore):
    def __init__(self) -> None:
        super().__init__()
        self.single_reads = 0
        self.batch_reads: list[int] = []

    def event_get(self, event_id: str) -> Record | None:
        self.single_reads += 1
        return super().event_get(event_id)

    def event_get_many(self, event_ids: Collection[str]) -> dict[str, Record]:
        self.batch_reads.append(len(event_ids))
        found: dict[str, Record] = {}
        for event_id in event_ids:
            event = MemoryStore.event_get(self, event_id)
            if event is not None:
                found[event_id] = event
        return found


def test_a_batch_of_deliveries_reads_its_events_at_once() -> None:
    store = CountingStore()
    service = CustomerService(store)
    with WebhookReceiver() as receiver:
        service.webhook_endpoints.create(url=receiver.url, enabled_events=["*"])
        service.webhook_endpoints.create(url=receiver.url, enabled_events=["customer.created"])
        with service.batch():
            customers = [service.create(email=f"c{n}@example.com") for n in range(30)]
        with service.webhooks.start_delivery(retry=FAST, batch_size=100):
            wait_until(lambda: store.outbox_next_due() is None, "the backlog to be delivered")
    assert receiver.count == 60
    assert {r.json()["data"]["object"]["id"] for r in receiver.requests} == {
        c.id for c in customers
    }
    assert store.single_reads == 0
    # One claim took the 60 deliveries of 30 events; their events were read once each.
    assert store.batch_reads == [30]


def test_a_purged_event_cancels_its_delivery() -> None:
    store = MemoryStore()
    service = CustomerService(store)
    with WebhookReceiver() as receiver:
        service.webhook_endpoints.create(url=receiver.url, enabled_events=["*"])
        service.create(email="a@example.com")
        [event] = store.event_scan()
        store.event_purge(before=event["created"] + 1)
        with service.webhooks.start_delivery(retry=FAST):
            wait_until(lambda: store.outbox_next_due() is None, "the delivery to be dropped")
    assert receiver.count == 0


def test_an_endpoint_url_stored_before_the_checks_fails_its_attempts_cleanly(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A URL kept from before endpoint URLs were checked (a port out of range) is a failed
    attempt that says why, not an unexpected error with a traceback."""
    store = MemoryStore()
    service = CustomerService(store)
    endpoint = service.webhook_endpoints.create(url="http://127.0.0.1:9/", enabled_events=["*"])
    store.webhook_endpoint_put(
        {**store.webhook_endpoint_get(endpoint.id), "url": "http://x:99999/"}
    )
    service.webhooks.endpoints_changed()
    service.create(email="a@example.com")
    with service.webhooks.start_delivery(retry=FAST):
        wait_until(lambda: service.webhooks.attempts(endpoint=endpoint.id).data, "an attempt")
    attempt = service.webhooks.attempts(endpoint=endpoint.id).data[-1]
    assert (attempt.status_code, attempt.succeeded) == (None, False)
    assert attempt.error == "ValueError: Port out of range 0-65535"
    assert "failed unexpectedly" not in caplog.text
