"""An in-process worker's cost to a busy API (issue 13 item 10, ninth pass): the pace
applies as soon as the API works (not a window later), the sender process sends its
outcomes back in fewer frames (at once when every job is answered, else gathered up to
what the worker asks: a chunk's time while it is paced), and a batch handed over is
prepared with one look at the clock and at each endpoint. Against real local receivers
on 127.0.0.1; every wait is for a condition with a deadline."""

from __future__ import annotations

import threading
import time

import pytest

from customer_core import CustomerService, MemoryStore
from customer_core.events.delivery import (
    API_IDLE,
    BUSY_LOOK,
    IDLE_WINDOW,
    PACE_WINDOW,
    DeliveryWorker,
    _CpuBudget,
)
from customer_core.events.sender import SENT, Lanes, Outcome, SenderProcess
from customer_core.testing.receiver import WebhookReceiver

from .test_webhook_delivery import FAST, wait_until


class FakeCpu:
    """A wall clock and a process CPU clock the test moves by hand."""

    def __init__(self) -> None:
        self.wall = 100.0
        self.cpu = 10.0

    def work(self, seconds: float, cores: float) -> None:
        self.wall += seconds
        self.cpu += seconds * cores


def idle_budget(cpu: FakeCpu) -> _CpuBudget:
    """A budget whose last window found the API idle."""
    budget = _CpuBudget(
        0.1, burst=0.0, idle_share=0.9, clock=lambda: cpu.wall, process_time=lambda: cpu.cpu
    )
    cpu.work(IDLE_WINDOW * 2, 0.0)
    budget.spend(0.0)  # closes the window: idle
    assert budget.busy is False
    return budget


def test_an_api_that_starts_working_is_busy_before_the_window_ends() -> None:
    cpu = FakeCpu()
    budget = idle_budget(cpu)
    cpu.work(BUSY_LOOK / 2, 1.0)
    assert budget.busy is False  # too short a look to tell
    cpu.work(BUSY_LOOK / 2, 1.0)
    assert budget.busy is True  # a window is 5 looks long: seen within the first
    assert budget._rate == pytest.approx(0.1)  # the share of the core it got, at once


def test_the_workers_own_charged_cpu_does_not_make_the_api_look_busy() -> None:
    cpu = FakeCpu()
    budget = idle_budget(cpu)
    cpu.work(BUSY_LOOK * 2, 0.5)
    budget.spend(BUSY_LOOK * 2 * 0.5)  # all of it was the worker's
    assert budget.busy is False


def test_a_busy_api_is_idle_again_only_over_a_whole_window() -> None:
    cpu = FakeCpu()
    budget = idle_budget(cpu)
    cpu.work(BUSY_LOOK, 1.0)
    assert budget.busy is True
    cpu.work(BUSY_LOOK, 0.0)  # stopped working: still busy until a window says idle
    assert budget.busy is True
    cpu.work(IDLE_WINDOW * 1.5, 0.0)
    budget.spend(0.0)  # this window held the busy look's 10 ms of work: busy
    assert budget.busy is True
    cpu.work(IDLE_WINDOW * 1.5, API_IDLE / 10)
    budget.spend(0.0)  # a whole window under API_IDLE: idle
    assert budget.busy is False


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


def test_the_sender_process_gathers_as_long_as_it_is_told_while_a_job_is_unanswered() -> None:
    outcomes: dict[str, Outcome] = {}
    arrived: dict[str, float] = {}

    def collect(batch: list[Outcome]) -> None:
        for outcome in batch:
            outcomes[outcome[0]] = outcome
            arrived[outcome[0]] = time.monotonic()

    far = time.monotonic() + 600
    helper = SenderProcess(2, 10.0, collect, lambda: None, gather=0.0).start()
    hold = threading.Event()
    try:
        with (
            WebhookReceiver() as fast,
            WebhookReceiver(hold=hold, hold_timeout=60) as silent,
        ):
            helper.gather(0.5)
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


class BusyBudget:
    """A CPU budget that always finds the rest of the process busy, and never pauses."""

    busy = True

    def spend(self, seconds: float) -> float:
        return 0.0


def test_a_paced_worker_has_its_sender_gather_a_chunks_time() -> None:
    service = CustomerService(MemoryStore())
    with WebhookReceiver() as receiver:
        service.webhook_endpoints.create(url=receiver.url, enabled_events=["*"])
        for n in range(5):
            service.create(email=f"c{n}@example.com")
        worker = DeliveryWorker(service.webhooks, retry=FAST, busy_rate=200.0)
        idle = DeliveryWorker(service.webhooks, retry=FAST)
        assert worker._gathering == idle._gathering == worker.linger
        worker._budget = BusyBudget()  # type: ignore[assignment]
        with worker.start():
            wait_until(lambda: service.store.outbox_next_due() is None, "every delivery")
            assert worker.sender_pid is not None
            assert worker._gathering == max(PACE_WINDOW, worker.linger)
    assert receiver.count == 5


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
