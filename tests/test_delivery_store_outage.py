"""A store that fails while the delivery worker looks up an endpoint (a database outage):
nothing was sent, so no attempt is counted and none is recorded; the delivery waits a
moment and goes out once the store answers, as attempt 1 (trial 6)."""

from __future__ import annotations

import logging
import threading

import pytest

from customer_core import CustomerService, MemoryStore, StoreError
from customer_core.models import Record
from customer_core.testing.receiver import WebhookReceiver

from .test_webhook_delivery import FAST, wait_until


class FlakyEndpointStore(MemoryStore):
    """Its endpoint lookups fail while ``down`` is set, as a database that went away."""

    def __init__(self) -> None:
        super().__init__()
        self.down = threading.Event()
        self.failed_lookups = 0

    def webhook_endpoint_get(self, endpoint_id: str) -> Record | None:
        if self.down.is_set():
            self.failed_lookups += 1
            raise StoreError("could not reach the database (test outage)")
        return super().webhook_endpoint_get(endpoint_id)


@pytest.mark.parametrize("sender_process", [True, False])
def test_an_outage_before_the_request_counts_no_attempt(
    sender_process: bool, caplog: pytest.LogCaptureFixture
) -> None:
    store = FlakyEndpointStore()
    service = CustomerService(store)
    with WebhookReceiver() as receiver:
        endpoint = service.webhook_endpoints.create(url=receiver.url, enabled_events=["*"])
        store.down.set()
        with caplog.at_level(logging.WARNING, logger="customer_core"):
            worker = service.webhooks.start_delivery(
                retry=FAST, sender_process=sender_process, poll_interval=0.05
            )
            with worker:
                customer = service.create(email="jenny@example.com")
                wait_until(lambda: store.failed_lookups >= 3, "lookups during the outage")
                assert receiver.count == 0
                store.down.clear()
                receiver.wait_for(1)
                wait_until(lambda: store.outbox_next_due() is None, "the delivery settled")
    attempts = service.webhooks.attempts(endpoint=endpoint.id).data
    assert [(a.attempt, a.status_code, a.succeeded) for a in attempts] == [(1, 200, True)]
    [event] = service.events.list().data
    assert event.data.object["id"] == customer.id
    assert service.events.retrieve(event.id).pending_webhooks == 0
    waits = [r for r in caplog.records if "the store failed before its request" in r.message]
    assert waits and all(r.exc_info is None for r in waits)
    assert not [r for r in caplog.records if "failed unexpectedly" in r.message]
