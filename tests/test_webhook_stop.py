"""``DeliveryWorker.stop()`` (issue 13): it first sends what was due when it was called, for
at most its ``timeout``; then it aborts the requests still in flight and puts them back,
due at once, without counting an attempt. Against a real local receiver; every wait is
for a condition with a deadline."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from customer_core import CustomerService, MemoryStore
from customer_core.events.delivery import DeliveryWorker
from customer_core.events.webhooks import WebhookEndpoint
from customer_core.testing.receiver import WebhookReceiver

from .test_webhook_delivery import FAST, wait_until

README = Path(__file__).resolve().parent.parent / "README.md"


@pytest.fixture
def silent() -> Iterator[WebhookReceiver]:
    """A receiver that answers nothing until its ``hold`` is set (or it closes)."""
    with WebhookReceiver(hold=threading.Event(), hold_timeout=60) as receiver:
        yield receiver


def hang_deliveries(
    service: CustomerService, silent: WebhookReceiver, count: int, **options: Any
) -> tuple[WebhookEndpoint, DeliveryWorker]:
    """Create ``count`` customers and a worker whose first request hangs at ``silent``."""
    endpoint = service.webhook_endpoints.create(url=silent.url, enabled_events=["*"])
    worker = service.webhooks.start_delivery(retry=FAST, **options)
    for n in range(count):
        service.create(email=f"c{n}@example.com")
    silent.wait_until(lambda: silent.waiting == 1, what="the first request to hang")
    return endpoint, worker


def test_a_stop_aborts_an_unanswered_request_promptly_and_counts_no_attempt(
    service: CustomerService, silent: WebhookReceiver
) -> None:
    assert silent.hold is not None
    # A request timeout far above the stop's: the old stop waited for it and then
    # recorded the delivery as failed, retried a minute later.
    endpoint, worker = hang_deliveries(service, silent, 1, timeout=60)
    [event] = service.events.list().data
    began = time.monotonic()
    worker.stop(timeout=0.3)
    assert time.monotonic() - began < 20  # bounded by the stop's timeout, not the request's
    assert not worker.running
    assert service.webhooks.attempts(endpoint=endpoint.id).data == []
    assert service.events.retrieve(event.id).pending_webhooks == 1
    due = service.store.outbox_next_due()
    # Due at once, not in a minute (deliveries keep wall time, whatever the service's clock).
    assert due is not None and due <= time.time()
    silent.hold.set()
    with service.webhooks.start_delivery(retry=FAST):
        wait_until(lambda: service.events.retrieve(event.id).pending_webhooks == 0, "redelivery")
    [attempt] = service.webhooks.attempts(endpoint=endpoint.id).data
    # The aborted request was not an attempt: the redelivery is the first.
    assert (attempt.attempt, attempt.status_code, attempt.succeeded) == (1, 200, True)


def test_the_default_stop_is_bounded_whatever_the_request_timeout(
    silent: WebhookReceiver,
) -> None:
    service = CustomerService(MemoryStore())
    _, worker = hang_deliveries(service, silent, 1, timeout=60)
    began = time.monotonic()
    worker.stop()  # STOP_TIMEOUT, 2 s
    assert time.monotonic() - began < 20
    assert service.store.outbox_next_due() is not None


def test_a_stop_first_sends_what_is_due(service: CustomerService) -> None:
    with WebhookReceiver() as receiver:
        endpoint = service.webhook_endpoints.create(url=receiver.url, enabled_events=["*"])
        worker = service.webhooks.start_delivery(retry=FAST)
        for n in range(3):
            service.create(email=f"c{n}@example.com")
        worker.stop(timeout=60)  # returns once nothing due is left
        assert receiver.count == 3
        assert {request.json()["type"] for request in receiver.requests} == {"customer.created"}
        assert [event.pending_webhooks for event in service.events.list().data] == [0, 0, 0]
        assert service.store.outbox_next_due() is None
        attempts = service.webhooks.attempts(endpoint=endpoint.id).data
        assert [(a.attempt, a.succeeded) for a in attempts] == [(1, True)] * 3


def test_leaving_a_with_block_delivers_what_it_created() -> None:
    with WebhookReceiver() as receiver:
        service = CustomerService(MemoryStore())
        service.webhook_endpoints.create(url=receiver.url, enabled_events=["*"])
        with service.webhooks.start_delivery():
            customer = service.create(email="jenny@example.com")
        [delivery] = receiver.requests
        assert delivery.json()["data"]["object"]["id"] == customer.id


def test_a_stop_with_no_time_sends_nothing_more_and_puts_everything_back(
    service: CustomerService, silent: WebhookReceiver
) -> None:
    assert silent.hold is not None
    endpoint, worker = hang_deliveries(service, silent, 4, concurrency=1)
    worker.stop(timeout=0)
    silent.hold.set()
    assert service.webhooks.attempts(endpoint=endpoint.id).data == []
    assert [event.pending_webhooks for event in service.events.list().data] == [1] * 4
    due = service.store.outbox_next_due()
    assert due is not None and due <= time.time()
    # One sender: only the first request was ever started.
    silent.wait_until(lambda: silent.waiting == 0, what="the held request to end")
    assert silent.count == 1


def test_the_readme_webhook_example_runs_as_written() -> None:
    text = README.read_text(encoding="utf-8")
    section = text[text.index("### Webhooks") :]
    example = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert example is not None
    code = example.group(1)
    assert "http://127.0.0.1:8000/webhooks" in code
    with WebhookReceiver() as receiver:
        service = CustomerService(MemoryStore())
        exec(code.replace("http://127.0.0.1:8000/webhooks", receiver.url), {"svc": service})
        # worker.stop() sent what was due before it returned.
        [delivery] = receiver.wait_for(1)
        assert delivery.json()["type"] == "customer.created"
        assert service.store.outbox_next_due() is None
