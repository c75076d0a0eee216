"""Webhook bodies made and signed by the sender (issue 13 item 10, seventh pass): the
worker hands over each event as the store's compact JSON, and the sender process (or a
sender thread) pretty-prints and signs it, so the API's process neither decodes nor
encodes nor signs a body; and a worker paced while its process is busy. Against real
local receivers on 127.0.0.1; every wait is for a condition with a deadline."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pydantic_core
import pytest
import stripe

from customer_core import CustomerService, MemoryStore, SQLiteStore, Store
from customer_core.events.delivery import DeliveryWorker, _Pace
from customer_core.events.sender import SENT, Outcome, SenderProcess, signed_body
from customer_core.store.base import Record
from customer_core.testing.receiver import WebhookReceiver

from .test_webhook_delivery import FAST, wait_until


def test_a_signed_body_is_the_document_pretty_printed_and_the_sdk_accepts_it() -> None:
    event = {
        "id": "evt_1",
        "object": "event",
        "data": {"object": {"name": 'Zo\u00eb "x"', "m": {}}},
    }
    now = int(time.time())
    body, header = signed_body(pydantic_core.to_json(event), "whsec_test", now)
    assert body == pydantic_core.to_json(event, indent=2)
    assert "Zo\u00eb".encode() in body  # not escaped, as Stripe sends it
    assert stripe.Webhook.construct_event(body.decode(), header, "whsec_test").id == "evt_1"
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(body.decode(), header, "whsec_other")


def test_the_sender_process_makes_and_signs_the_bodies_it_is_handed() -> None:
    outcomes: dict[str, Outcome] = {}
    exited = threading.Event()

    def collect(batch: list[Outcome]) -> None:
        outcomes.update((outcome[0], outcome) for outcome in batch)

    far = time.monotonic() + 600
    first = {"id": "evt_1", "object": "event", "type": "customer.created"}
    second = {"id": "evt_2", "object": "event", "type": "customer.updated"}
    helper = SenderProcess(1, 10.0, collect, exited.set).start()
    try:
        with WebhookReceiver() as receiver:
            now = int(time.time())
            endpoints = {"we_1": (receiver.url, "whsec_one")}
            helper.send_events(endpoints, [("a", "we_1", pydantic_core.to_json(first), now, far)])
            wait_until(lambda: "a" in outcomes, "the first outcome")
            # The endpoint was handed over once: later batches name it only.
            helper.send_events(
                {},
                [
                    ("b", "we_1", pydantic_core.to_json(second), now, far),
                    ("c", "we_1", b"not JSON", now, far),
                ],
            )
            wait_until(lambda: "b" in outcomes and "c" in outcomes, "the other outcomes")
            requests = receiver.requests
    finally:
        helper.abort()
        helper.close(wait=10)
    assert [outcomes[key][1:3] for key in "ab"] == [(SENT, 200), (SENT, 200)]
    bodies = {request.json()["id"]: request for request in requests}
    assert sorted(bodies) == ["evt_1", "evt_2"]
    for event in (first, second):
        request = bodies[event["id"]]
        assert request.body == pydantic_core.to_json(event, indent=2)
        stripe.Webhook.construct_event(request.body.decode(), request.signature, "whsec_one")
    kind, status, error = outcomes["c"][1:4]
    assert (kind, status) == (SENT, None) and error  # a failed attempt saying why


@pytest.mark.parametrize("sender_process", [True, False])
@pytest.mark.parametrize("kind", ["memory", "sqlite"])
def test_a_delivered_body_is_the_event_as_read_pretty_printed(
    tmp_path: Path, kind: str, sender_process: bool
) -> None:
    store: Store = MemoryStore() if kind == "memory" else SQLiteStore(tmp_path / "db.sqlite")
    with store, WebhookReceiver() as receiver:
        service = CustomerService(store)
        endpoint = service.webhook_endpoints.create(url=receiver.url, enabled_events=["*"])
        customer = service.create(name='Zo\u00eb "x"', metadata={"plan": "gold"})
        service.update(customer.id, metadata={"plan": None, "tier": "\u00e9t\u00e9"})
        with service.webhooks.start_delivery(retry=FAST, sender_process=sender_process):
            wait_until(lambda: store.outbox_next_due() is None, "both deliveries")
        assert endpoint.secret is not None
        for request in receiver.requests:
            event = store.event_get(request.json()["id"])
            assert request.body == pydantic_core.to_json(event, indent=2)
            stripe.Webhook.construct_event(
                request.body.decode(), request.signature, endpoint.secret
            )
        assert len(receiver.requests) == 2


def test_an_endpoint_url_changed_while_the_worker_runs_is_used_from_then_on() -> None:
    service = CustomerService(MemoryStore())
    with WebhookReceiver() as old, WebhookReceiver() as new:
        endpoint = service.webhook_endpoints.create(url=old.url, enabled_events=["*"])
        with service.webhooks.start_delivery(retry=FAST):
            service.create(email="before@example.com")
            old.wait_for(1)
            service.webhook_endpoints.update(endpoint.id, url=new.url)
            service.create(email="after@example.com")
            [request] = new.wait_for(1)
        assert request.json()["data"]["object"]["email"] == "after@example.com"
        assert [r.json()["data"]["object"]["email"] for r in old.requests] == ["before@example.com"]


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_pace_lets_deliveries_through_a_chunk_at_a_time() -> None:
    clock = FakeClock()
    pace = _Pace(100.0, window=0.1, clock=clock)  # chunks of 10
    assert pace.allowance() == 10
    pace.take(10)
    assert pace.allowance() == 0
    assert pace.wait() == pytest.approx(0.1)
    clock.now += 0.05
    assert pace.allowance() == 0  # half a chunk: not yet
    clock.now += 0.05
    assert pace.allowance() == 10
    pace.take(4)
    clock.now += 10  # a long pause saves two chunks at most
    assert pace.allowance() == 20
    pace.take(25)  # an idle moment's burst is paid back (down to nothing)
    assert pace.allowance() == 0


class ClaimCountingStore(MemoryStore):
    def __init__(self) -> None:
        super().__init__()
        self.claim_limits: list[int] = []

    def outbox_claim(self, now: float, lease_until: float, limit: int) -> list[Record]:
        self.claim_limits.append(limit)
        return super().outbox_claim(now, lease_until, limit)


class BusyBudget:
    """A CPU budget that always finds the rest of the process busy, and never pauses."""

    busy = True

    def spend(self, seconds: float) -> float:
        return 0.0


def test_a_worker_paced_while_its_process_is_busy_still_delivers_everything() -> None:
    store = ClaimCountingStore()
    service = CustomerService(store)
    with WebhookReceiver() as receiver:
        service.webhook_endpoints.create(url=receiver.url, enabled_events=["*"])
        with service.batch():
            for n in range(60):
                service.create(email=f"c{n}@example.com")
        worker = DeliveryWorker(service.webhooks, retry=FAST, busy_rate=200.0)
        worker._budget = BusyBudget()  # type: ignore[assignment]
        with worker.start():
            wait_until(lambda: store.outbox_next_due() is None, "every delivery")
            limits = list(store.claim_limits)  # (the stop's last look is not paced)
    assert receiver.count == 60
    # Chunks of 200/s x 0.05 s = 10, two saved at most: never the batch size of 100.
    assert len(limits) >= 3 and max(limits) <= 20


def test_a_busy_rate_must_be_positive() -> None:
    service = CustomerService(MemoryStore())
    with pytest.raises(ValueError, match="busy_rate"):
        DeliveryWorker(service.webhooks, busy_rate=0)
    assert DeliveryWorker(service.webhooks, busy_rate=None)._pace is None
    assert DeliveryWorker(service.webhooks, cpu_share=None)._pace is None  # nothing to pace by
