"""A slow or silent webhook endpoint holds up only its own deliveries (trial 5's finding:
one hung receiver took every sender in turn, and a healthy endpoint got 4 events per 10 s).

Stripe delivers to each endpoint on its own. The senders take requests from a queue per
endpoint, ``concurrency`` in flight at most for each, with more threads while several
endpoints wait (``Lanes``); the worker puts off what an endpoint that fell behind cannot
take within ``PUT_OFF_AFTER`` seconds, so its room goes to the other endpoints."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from customer_core import CustomerService, MemoryStore
from customer_core.events import Event
from customer_core.events.delivery import PUT_OFF_AFTER, _EndpointLoad
from customer_core.events.sender import Lanes
from customer_core.testing.receiver import WebhookReceiver


def test_a_lane_at_its_limit_lets_the_other_lanes_go_first() -> None:
    lanes: Lanes[str] = Lanes(per_lane=2)
    for n in range(4):
        assert lanes.put("hung", f"h{n}") == min(2, n + 1)
    assert lanes.get() == ("hung", "h0")
    assert lanes.get() == ("hung", "h1")
    # Two in flight: "hung" is at its limit, its next two wait.
    assert lanes.put("fast", "f0") == 3  # 2 in flight for hung (2 waiting), 1 for fast
    assert lanes.put("fast", "f1") == 4
    assert lanes.get() == ("fast", "f0")
    assert lanes.get() == ("fast", "f1")
    lanes.done("fast")
    lanes.done("hung")  # room again for hung
    assert lanes.get() == ("hung", "h2")


def test_lanes_take_turns_and_give_back_the_newest() -> None:
    lanes: Lanes[str] = Lanes(per_lane=4)
    for job in ("a0", "a1", "a2"):
        lanes.put("a", job)
    lanes.put("b", "b0")
    lanes.put("b", "b1")
    assert [lanes.get() for _ in range(3)] == [("a", "a0"), ("b", "b0"), ("a", "a1")]
    assert lanes.take("a", 5) == ["a2"]
    assert lanes.take("nobody", 1) == []
    assert lanes.get() == ("b", "b1")
    lanes.put("a", "a3")
    assert lanes.clear() == ["a3"]
    lanes.close()
    assert lanes.get() is None


def test_close_wakes_a_waiting_sender() -> None:
    lanes: Lanes[str] = Lanes(per_lane=1)
    got: list[object] = []
    thread = threading.Thread(target=lambda: got.append(lanes.get()))
    thread.start()
    lanes.close()
    thread.join(timeout=5)
    assert got == [None]


def test_an_endpoint_load_bounds_a_slow_endpoint_only() -> None:
    load = _EndpointLoad(concurrency=4)
    attempt_of = {"duration_ms": 2}
    for _ in range(300):
        load.hold("we_fast", now=0.0)
    load.release("we_fast", attempt_of, now=0.0)  # answers in 2 ms
    assert load.room("we_fast", now=0.0) == 4 * PUT_OFF_AFTER / 0.002 - 299
    assert load.behind(now=0.0) == []

    for _ in range(6):
        load.hold("we_slow", now=0.0)
    load.release("we_slow", {"duration_ms": 2000}, now=0.0)  # answers in 2 s: 4 at most
    assert load.room("we_slow", now=0.0) == -1
    assert load.behind(now=0.0) == [("we_slow", 1)]
    assert load.behind(now=0.5) == []  # told once a PUT_OFF_AFTER at most
    assert load.put_off("we_slow", now=0.0) == 5 / 4 * 2.0

    for _ in range(10):
        load.hold("we_silent", now=10.0)
    # Never answered: unbounded until it has been silent for PUT_OFF_AFTER, then 4.
    assert load.room("we_silent", now=10.5) == 1 << 30
    assert load.room("we_silent", now=13.0) == 4 - 10
    assert load.put_off("we_silent", now=13.0) == 10 / 4 * 3.0


def all_events(service: CustomerService) -> list[Event]:
    events: list[Event] = []
    while True:
        after = {"starting_after": events[-1].id} if events else {}
        page = service.events.list(limit=100, **after)
        events += page.data
        if not page.has_more:
            return events


@pytest.fixture(params=[True, False], ids=["sender process", "sender threads"])
def sender_process(request: pytest.FixtureRequest) -> bool:
    return bool(request.param)


@pytest.fixture
def hung() -> Iterator[WebhookReceiver]:
    never = threading.Event()
    with WebhookReceiver(hold=never, hold_timeout=60) as receiver:
        yield receiver
        never.set()


def test_a_silent_endpoint_does_not_hold_up_a_healthy_one(
    sender_process: bool, hung: WebhookReceiver
) -> None:
    service = CustomerService(MemoryStore())
    with WebhookReceiver() as healthy:
        silent = service.webhook_endpoints.create(url=hung.url, enabled_events=["*"])
        service.webhook_endpoints.create(url=healthy.url, enabled_events=["*"])
        worker = service.webhooks.start_delivery(sender_process=sender_process, timeout=30)
        try:
            began = time.monotonic()
            # More than a worker holds at once (batch_size 100) for the silent endpoint.
            created = [service.create(email=f"c{n}@example.com").id for n in range(250)]
            healthy.wait_for(250, timeout=20)
            took = time.monotonic() - began
            assert hung.waiting == 4  # the silent one has its 4 requests in flight, no more
            deadline = time.monotonic() + 20
            while {event.pending_webhooks for event in all_events(service)} != {1}:
                assert time.monotonic() < deadline, "the healthy deliveries to be settled"
                time.sleep(0.05)
        finally:
            worker.stop(timeout=0)
    # Before: 4 deliveries per timeout (30 s here) once the silent one held every sender.
    assert took < 15, took
    assert {r.json()["data"]["object"]["id"] for r in healthy.requests} == set(created)
    # Nothing was lost for the silent endpoint: every event still waits for it.
    assert {event.pending_webhooks for event in all_events(service)} == {1}
    attempts = service.webhooks.attempts(endpoint=silent.id).data
    assert attempts == []  # put off, never counted as an attempt (none answered yet)
