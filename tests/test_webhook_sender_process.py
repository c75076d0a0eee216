"""The delivery worker's sender process (customer_core.events.sender): requests made by a
helper process off the API's interpreter lock, with the threads' semantics: the lease
checked before a request starts (and renewed while it waits), an abort that cuts requests
short, threads that take over if the helper cannot start or dies. Against real local
receivers on 127.0.0.1; every wait is for a condition with a deadline."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator

import pytest

from customer_core import CustomerService, MemoryStore, StoreError
from customer_core.events import sender as sender_module
from customer_core.events.sender import ABORTED, LEASE_ENDED, SENT, Outcome, SenderProcess
from customer_core.testing.receiver import WebhookReceiver

from .test_webhook_delivery import FAST, wait_until


class Collected:
    """A ``SenderProcess``'s outcomes by key, and whether it said it ended."""

    def __init__(self) -> None:
        self.outcomes: dict[str, Outcome] = {}
        self.exited = threading.Event()

    def add(self, outcomes: list[Outcome]) -> None:
        for outcome in outcomes:
            self.outcomes[outcome[0]] = outcome


@pytest.fixture
def collected() -> Collected:
    return Collected()


@pytest.fixture
def helper(collected: Collected) -> Iterator[SenderProcess]:
    process = SenderProcess(1, 10.0, collected.add, collected.exited.set).start()
    yield process
    process.abort()
    process.close(wait=10)


@pytest.fixture
def silent() -> Iterator[WebhookReceiver]:
    """A receiver that answers nothing until its ``hold`` is set (or it closes)."""
    with WebhookReceiver(hold=threading.Event(), hold_timeout=60) as receiver:
        yield receiver


def far() -> float:
    return time.monotonic() + 600


def test_a_job_is_posted_and_its_status_comes_back(
    helper: SenderProcess, collected: Collected
) -> None:
    with WebhookReceiver(status=201) as receiver:
        helper.send([("a", receiver.url, b'{"id": "evt_1"}', "t=1,v1=ab", far())])
        wait_until(lambda: "a" in collected.outcomes, "the outcome")
        [request] = receiver.requests
    key, kind, status, error, duration_ms = collected.outcomes["a"]
    assert (kind, status, error) == (SENT, 201, None) and duration_ms >= 0
    assert request.body == b'{"id": "evt_1"}'
    assert request.signature == "t=1,v1=ab"
    assert helper.pid is not None and helper.pid != os.getpid()


def test_a_job_whose_lease_ends_within_the_timeout_is_not_sent(
    helper: SenderProcess, collected: Collected, receiver: WebhookReceiver
) -> None:
    # The timeout is 10 s: a lease ending in 5 could end before an answer came.
    helper.send([("a", receiver.url, b"{}", "t=1,v1=ab", time.monotonic() + 5)])
    wait_until(lambda: "a" in collected.outcomes, "the outcome")
    assert collected.outcomes["a"][1:3] == (LEASE_ENDED, None)
    assert receiver.count == 0


def test_a_renewed_lease_lets_a_waiting_job_go(
    helper: SenderProcess, collected: Collected, silent: WebhookReceiver
) -> None:
    assert silent.hold is not None
    # One sender thread: the second job waits behind the first, held by the receiver.
    helper.send([("first", silent.url, b"{}", "t=1,v1=ab", far())])
    silent.wait_until(lambda: silent.waiting == 1, what="the first request to hang")
    helper.send([("second", silent.url, b"{}", "t=1,v1=ab", time.monotonic() + 5)])
    helper.renew([("second", far())])
    # The helper reads its messages in order: once a job sent after the renewal has its
    # outcome, the renewal was applied (else the first request could end before it was).
    with WebhookReceiver() as other:
        helper.send([("barrier", other.url, b"{}", "t=1,v1=ab", far())])
        wait_until(lambda: "barrier" in collected.outcomes, "the barrier's outcome")
    silent.hold.set()
    wait_until(lambda: len(collected.outcomes) == 3, "every outcome")
    assert collected.outcomes["second"][1:3] == (SENT, 200)
    assert silent.count == 2


def test_an_abort_cuts_a_hanging_request_short_and_sends_no_more(
    helper: SenderProcess, collected: Collected, silent: WebhookReceiver
) -> None:
    helper.send([("first", silent.url, b"{}", "t=1,v1=ab", far())])
    silent.wait_until(lambda: silent.waiting == 1, what="the first request to hang")
    helper.send([("second", silent.url, b"{}", "t=1,v1=ab", far())])
    helper.abort()
    wait_until(lambda: len(collected.outcomes) == 2, "both outcomes")
    assert {outcome[1] for outcome in collected.outcomes.values()} == {ABORTED}
    assert helper.close(wait=10) == 0
    assert collected.exited.is_set()
    assert silent.hold is not None
    silent.hold.set()
    silent.wait_until(lambda: silent.waiting == 0, what="the held request to end")
    assert silent.count == 1  # the second was never started


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as receiver:
        yield receiver


def test_the_worker_sends_from_a_process_of_its_own_by_default(
    receiver: WebhookReceiver,
) -> None:
    service = CustomerService(MemoryStore())
    endpoint = service.webhook_endpoints.create(url=receiver.url, enabled_events=["*"])
    with service.webhooks.start_delivery(retry=FAST) as worker:
        sender_pid = worker.sender_pid
        assert sender_pid is not None and sender_pid != os.getpid()
        for n in range(5):
            service.create(email=f"c{n}@example.com")
        receiver.wait_for(5)
        wait_until(lambda: service.store.outbox_next_due() is None, "the deliveries settled")
    assert worker.sender_pid is None
    attempts = service.webhooks.attempts(endpoint=endpoint.id).data
    assert [(a.attempt, a.status_code, a.succeeded) for a in attempts] == [(1, 200, True)] * 5
    wait_until(lambda: not _alive(sender_pid), "the sender process to end")


def test_sender_process_false_sends_from_threads(receiver: WebhookReceiver) -> None:
    service = CustomerService(MemoryStore())
    service.webhook_endpoints.create(url=receiver.url, enabled_events=["*"])
    with service.webhooks.start_delivery(retry=FAST, sender_process=False) as worker:
        assert worker.sender_pid is None
        service.create(email="jenny@example.com")
        receiver.wait_for(1)


def test_threads_send_when_the_process_cannot_start(
    receiver: WebhookReceiver, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(sender_module.sys, "executable", "")
    service = CustomerService(MemoryStore())
    service.webhook_endpoints.create(url=receiver.url, enabled_events=["*"])
    with service.webhooks.start_delivery(retry=FAST) as worker:
        assert worker.sender_pid is None
        service.create(email="jenny@example.com")
        receiver.wait_for(1)
    assert "no sender process" in caplog.text


def test_threads_take_over_from_a_sender_process_that_dies(
    silent: WebhookReceiver, caplog: pytest.LogCaptureFixture
) -> None:
    assert silent.hold is not None
    service = CustomerService(MemoryStore())
    endpoint = service.webhook_endpoints.create(url=silent.url, enabled_events=["*"])
    with service.webhooks.start_delivery(retry=FAST) as worker:
        sender_pid = worker.sender_pid
        assert sender_pid is not None
        customer = service.create(email="jenny@example.com")
        silent.wait_until(lambda: silent.waiting == 1, what="the request to hang")
        os.kill(sender_pid, signal.SIGKILL)
        wait_until(lambda: worker.sender_pid is None, "the worker to see its sender gone")
        silent.hold.set()
        # Sent again by a thread: at least once (the killed request may have reached it).
        wait_until(lambda: service.store.outbox_next_due() is None, "the delivery settled")
    assert "the sender process ended" in caplog.text
    assert all(r.json()["data"]["object"]["id"] == customer.id for r in silent.requests)
    attempts = service.webhooks.attempts(endpoint=endpoint.id).data
    assert [(a.attempt, a.succeeded) for a in attempts] == [(1, True)]
    [event] = service.events.list().data
    assert event.pending_webhooks == 0


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (ended, not yet reaped) still answers: read its state where Linux says it.
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rpartition(")")[2].split()[0] != "Z"
    except OSError:
        return True


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_to_the_whole_process_group_leaves_the_sender_to_its_parent(
    helper: SenderProcess, collected: Collected, stop: signal.Signals
) -> None:
    # ``kill -- -PGID``, ``timeout`` and systemd reach every process of the group: the
    # parent stops its worker itself, so the helper must not die under it first.
    assert helper.pid is not None
    with WebhookReceiver() as receiver:
        helper.send([("before", receiver.url, b'{"id": "evt_1"}', "t=1,v1=ab", far())])
        wait_until(lambda: "before" in collected.outcomes, "the helper to be running")
        os.kill(helper.pid, stop)
        helper.send([("after", receiver.url, b'{"id": "evt_2"}', "t=1,v1=cd", far())])
        wait_until(lambda: "after" in collected.outcomes, "the outcome")
    assert collected.outcomes["after"][1:3] == (SENT, 200)
    assert not collected.exited.is_set()


def test_a_store_outage_is_one_line_a_round_and_delivery_resumes(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # A database that is down fails every store round until it is back: one warning line
    # each, saying why, not a traceback each 1.3 s (a trial counted 330 lines in 8 s).
    store = MemoryStore()
    service = CustomerService(store)
    failures = [3]
    original = store.outbox_next_due

    def next_due() -> float | None:
        if failures[0]:
            failures[0] -= 1
            raise StoreError("Could not reach the customer store db: it is down", http_status=503)
        return original()

    store.outbox_next_due = next_due  # type: ignore[method-assign]
    with WebhookReceiver() as receiver:
        service.webhook_endpoints.create(url=receiver.url, enabled_events=["*"])
        with service.webhooks.start_delivery(retry=FAST, poll_interval=0.05):
            wait_until(lambda: failures[0] == 0, "the outage to pass")
            customer = service.create(email="jenny@example.com")
            receiver.wait_for(1)
    assert receiver.requests[0].json()["data"]["object"]["id"] == customer.id
    outage = [r for r in caplog.records if "the store failed" in r.getMessage()]
    assert len(outage) == 3
    assert all(r.exc_info is None for r in outage)
    assert outage[0].getMessage() == (
        "webhook delivery: the store failed; trying again shortly: "
        "Could not reach the customer store db: it is down"
    )
