"""An in-process worker's cost to a busy API (issue 13 item 10, ninth pass): the sender
process sends a frame of outcomes back as soon as every job it holds is answered (else
after its gather), a batch handed over is prepared with one look at the clock and at each
endpoint, and a lane with a request in flight counts when more senders are wanted.
Against real local receivers on 127.0.0.1; every wait is for a condition with a
deadline."""

from __future__ import annotations

import threading
import time

from customer_core import CustomerService, MemoryStore
from customer_core.events.delivery import DeliveryWorker
from customer_core.events.sender import SENT, Lanes, Outcome, SenderProcess
from customer_core.testing.receiver import WebhookReceiver

from .test_webhook_delivery import FAST, wait_until


def test_the_sender_process_sends_a_batchs_outcomes_once_all_are_answered() -> None:
    outcomes: dict[str, Outcome] = {}
    frames: list[int] = []

    def collect(batch: list[Outcome]) -> None:
        frames.append(len(batch))
        outcomes.update((outcome[0], outcome) for outcome in batch)

    far = time.monotonic() + 600
    # A minute's gathering: only "every job answered" sends the frame back this soon.
    helper = SenderProcess(2, 10.0, collect, lambda: None, gather=60.0).start()
    try:
        with WebhookReceiver() as receiver:
            jobs = [(str(n), receiver.url, b"{}", "t=1,v1=ab", far) for n in range(6)]
            began = time.monotonic()
            helper.send(jobs)
            wait_until(lambda: len(outcomes) == 6, "the outcomes", timeout=20)
            assert time.monotonic() - began < 20
    finally:
        helper.abort()
        helper.close(wait=10)
    assert frames == [6]
    assert {outcome[1:3] for outcome in outcomes.values()} == {(SENT, 200)}


def test_the_sender_process_gathers_its_time_while_a_job_is_unanswered() -> None:
    outcomes: dict[str, Outcome] = {}
    arrived: dict[str, float] = {}

    def collect(batch: list[Outcome]) -> None:
        for outcome in batch:
            outcomes[outcome[0]] = outcome
            arrived[outcome[0]] = time.monotonic()

    far = time.monotonic() + 600
    helper = SenderProcess(2, 10.0, collect, lambda: None, gather=0.5).start()
    hold = threading.Event()
    try:
        with (
            WebhookReceiver() as fast,
            WebhookReceiver(hold=hold, hold_timeout=60) as silent,
        ):
            began = time.monotonic()
            helper.send(
                [
                    ("slow", silent.url, b"{}", "t=1,v1=ab", far),
                    ("fast", fast.url, b"{}", "t=1,v1=ab", far),
                ]
            )
            wait_until(lambda: "fast" in outcomes, "the fast outcome")
            # Not sent back at once (the slow one is unanswered), nor held past the gather.
            assert arrived["fast"] - began >= 0.45
            assert "slow" not in outcomes
            hold.set()
            wait_until(lambda: "slow" in outcomes, "the slow outcome")
    finally:
        hold.set()
        helper.abort()
        helper.close(wait=10)
    assert outcomes["fast"][1:3] == (SENT, 200)


def test_a_batch_handed_over_cancels_only_the_deliveries_of_a_deleted_endpoint() -> None:
    store = MemoryStore()
    service = CustomerService(store)
    with WebhookReceiver() as kept, WebhookReceiver() as dropped:
        service.webhook_endpoints.create(url=kept.url, enabled_events=["*"])
        gone = service.webhook_endpoints.create(url=dropped.url, enabled_events=["*"])
        with service.batch():
            for n in range(4):
                service.create(email=f"c{n}@example.com")
        # Deleted in the store behind the service's back: the worker's batch still holds
        # its deliveries, and finds the endpoint gone when it hands them over.
        store.webhook_endpoint_delete(gone.id)
        with DeliveryWorker(service.webhooks, retry=FAST).start() as worker:
            assert worker.sender_pid is not None
            wait_until(lambda: store.outbox_next_due() is None, "every delivery settled")
    assert kept.count == 4 and dropped.count == 0
    attempts = store.delivery_attempt_scan()
    assert len(attempts) == 4 and {a["url"] for a in attempts} == {kept.url}
    assert store.outbox_event_ids() == set()


def test_a_lane_with_a_request_in_flight_counts_when_senders_are_wanted() -> None:
    lanes: Lanes[str] = Lanes(2)
    assert lanes.put("hung", "a") == 1
    assert lanes.get() == ("hung", "a")  # in flight, none of its requests waiting
    # The one sender is busy with "hung": a request to another endpoint wants a second.
    assert lanes.put("fast", "b") == 2


def test_the_sender_process_sends_to_one_endpoint_while_another_hangs() -> None:
    outcomes: dict[str, Outcome] = {}

    def collect(batch: list[Outcome]) -> None:
        outcomes.update((outcome[0], outcome) for outcome in batch)

    far = time.monotonic() + 600
    helper = SenderProcess(2, 10.0, collect, lambda: None).start()
    hold = threading.Event()
    try:
        with (
            WebhookReceiver() as fast,
            WebhookReceiver(hold=hold, hold_timeout=60) as silent,
        ):
            helper.send([("slow", silent.url, b"{}", "t=1,v1=ab", far)])
            wait_until(lambda: silent.waiting == 1, "the hung request")
            helper.send([("fast", fast.url, b"{}", "t=1,v1=ab", far)])
            wait_until(lambda: "fast" in outcomes, "the fast outcome")
            assert "slow" not in outcomes
    finally:
        hold.set()
        helper.abort()
        helper.close(wait=10)
    assert outcomes["fast"][1:3] == (SENT, 200)
