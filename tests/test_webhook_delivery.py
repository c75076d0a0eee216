"""Webhook deliveries (issue 13, item 7) on every store: written with the event, POSTed off
the request path to a real local receiver, signed so that the official SDK accepts them,
retried with backoff, given up, recorded as attempts, and kept across a restart.

Every wait is for a condition with a deadline, never a fixed sleep."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import stripe

from customer_core import CustomerService, SQLiteStore, Store
from customer_core.cli import main
from customer_core.events.outbox import RetryPolicy
from customer_core.testing.receiver import WebhookReceiver

FAST = RetryPolicy(first_delay=0.05, factor=2.0, max_delay=1.0, jitter=0)


def wait_until(condition: Callable[[], object], what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"waited {timeout:g} s for {what}"
        time.sleep(0.01)


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as receiver:
        yield receiver


def pending(service: CustomerService, event_id: str) -> int:
    return service.events.retrieve(event_id).pending_webhooks


def test_a_delivery_is_signed_as_the_official_sdk_checks(
    service: CustomerService, receiver: WebhookReceiver
) -> None:
    endpoint = service.webhook_endpoints.create(url=receiver.url, enabled_events=["*"])
    assert endpoint.secret is not None
    with service.webhooks.start_delivery(retry=FAST):
        customer = service.create(email="jenny@example.com", name="Jenny Rosen")
        [delivery] = receiver.wait_for(1)
        [recorded] = service.events.list().data
        assert recorded.pending_webhooks in (0, 1)  # 0 once the 2xx is settled
        wait_until(lambda: pending(service, recorded.id) == 0, "pending_webhooks to drop to 0")

    event = stripe.Webhook.construct_event(
        delivery.body.decode(), delivery.signature, endpoint.secret
    )
    assert (event.id, event.type, event.data.object.id) == (
        recorded.id,
        "customer.created",
        customer.id,
    )
    assert event.data.object.email == "jenny@example.com"
    assert event.pending_webhooks == 1  # as recorded: one endpoint to deliver to
    assert delivery.path == "/webhooks"
    assert delivery.headers["content-type"] == "application/json; charset=utf-8"
    assert delivery.headers["user-agent"].startswith("Stripe/1.0")
    timestamp = int(delivery.signature.split(",")[0].removeprefix("t="))
    assert abs(timestamp - time.time()) < 300  # wall-clock time, whatever the service's clock

    tampered = delivery.body.replace(b"jenny@example.com", b"admin@example.com")
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(tampered.decode(), delivery.signature, endpoint.secret)
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(delivery.body.decode(), delivery.signature, "whsec_other")

    [attempt] = service.webhooks.attempts(endpoint=endpoint.id).data
    assert (attempt.event, attempt.attempt, attempt.status_code, attempt.succeeded) == (
        recorded.id,
        1,
        200,
        True,
    )
    assert (attempt.error, attempt.next_attempt, attempt.url) == (None, None, receiver.url)


def test_an_attempt_shows_the_url_without_its_secrets(
    service: CustomerService, receiver: WebhookReceiver
) -> None:
    """The endpoint keeps its URL as given (Stripe's object does) and the request carries
    its credentials; the attempt, a log of sorts, shows the password and query values as
    ``***``, as serve's banner does (trial 7)."""
    host = receiver.url.removeprefix("http://")
    url = f"http://hook:s3cret@{host}?token=abc"
    endpoint = service.webhook_endpoints.create(url=url, enabled_events=["*"])
    with service.webhooks.start_delivery(retry=FAST):
        service.create(email="jenny@example.com")
        [delivery] = receiver.wait_for(1)
        wait_until(
            lambda: service.webhooks.attempts(endpoint=endpoint.id).data, "the attempt recorded"
        )
    assert delivery.headers["authorization"] == "Basic aG9vazpzM2NyZXQ="  # hook:s3cret
    assert delivery.path == "/webhooks?token=abc"
    assert service.webhook_endpoints.retrieve(endpoint.id).url == url
    [attempt] = service.webhooks.attempts(endpoint=endpoint.id).data
    assert attempt.url == f"http://hook:***@{host}?token=***"


def test_each_event_goes_to_the_enabled_endpoints_that_want_it(
    service: CustomerService, receiver: WebhookReceiver
) -> None:
    created_only = service.webhook_endpoints.create(
        url=receiver.url + "/created", enabled_events=["customer.created"]
    )
    every = service.webhook_endpoints.create(url=receiver.url + "/all", enabled_events=["*"])
    disabled = service.webhook_endpoints.create(url=receiver.url + "/off", enabled_events=["*"])
    service.webhook_endpoints.update(disabled.id, disabled=True)
    customer = service.create(email="a@example.com")
    service.update(customer.id, name="A")
    updated, created = service.events.list().data
    assert (created.pending_webhooks, updated.pending_webhooks) == (2, 1)
    with service.webhooks.start_delivery(retry=FAST):
        receiver.wait_for(3)
        wait_until(lambda: pending(service, created.id) + pending(service, updated.id) == 0, "0")
    got = sorted((request.path, request.json()["type"]) for request in receiver.requests)
    assert got == [
        ("/webhooks/all", "customer.created"),
        ("/webhooks/all", "customer.updated"),
        ("/webhooks/created", "customer.created"),
    ]
    assert service.webhooks.attempts(endpoint=disabled.id).data == []
    assert len(service.webhooks.attempts(endpoint=every.id).data) == 2
    assert len(service.webhooks.attempts(endpoint=created_only.id).data) == 1


def test_no_endpoint_means_no_delivery(service: CustomerService) -> None:
    service.create(email="a@example.com")
    [event] = service.events.list().data
    assert event.pending_webhooks == 0
    assert service.store.outbox_next_due() is None


def test_failures_are_retried_with_growing_delays_until_a_2xx(service: CustomerService) -> None:
    with WebhookReceiver(status=lambda number: 200 if number == 4 else 503) as receiver:
        endpoint = service.webhook_endpoints.create(url=receiver.url, enabled_events=["*"])
        with service.webhooks.start_delivery(retry=FAST):
            service.create(email="a@example.com")
            [event] = service.events.list().data
            requests = receiver.wait_for(4)
            wait_until(lambda: pending(service, event.id) == 0, "the delivery to be settled")
    assert [request.status for request in requests] == [503, 503, 503, 200]
    assert {request.json()["id"] for request in requests} == {event.id}
    gaps = [
        later.received_at - earlier.received_at
        for earlier, later in zip(requests, requests[1:], strict=False)
    ]
    # 0.05, 0.1, 0.2 s by the policy: never sooner (a loaded machine only makes them longer).
    assert [gap >= delay * 0.9 for gap, delay in zip(gaps, [0.05, 0.1, 0.2], strict=True)] == [
        True
    ] * 3
    attempts = service.webhooks.attempts(endpoint=endpoint.id).data[::-1]  # oldest first
    assert [(a.attempt, a.status_code, a.succeeded) for a in attempts] == [
        (1, 503, False),
        (2, 503, False),
        (3, 503, False),
        (4, 200, True),
    ]
    assert [a.error for a in attempts] == ["HTTP 503"] * 3 + [None]
    assert (
        all(a.next_attempt is not None for a in attempts[:3]) and attempts[3].next_attempt is None
    )


def test_an_endpoint_that_keeps_failing_is_given_up_and_stays_pending(
    service: CustomerService,
) -> None:
    with WebhookReceiver(status=500) as receiver:
        endpoint = service.webhook_endpoints.create(url=receiver.url, enabled_events=["*"])
        retry = RetryPolicy(first_delay=0.01, max_attempts=3, jitter=0)
        with service.webhooks.start_delivery(retry=retry):
            service.create(email="a@example.com")
            receiver.wait_for(3)
            wait_until(
                lambda: len(service.webhooks.attempts(endpoint=endpoint.id).data) == 3,
                "3 attempts recorded",
            )
            wait_until(lambda: service.store.outbox_next_due() is None, "nothing due any more")
    [event] = service.events.list().data
    assert event.pending_webhooks == 1  # never delivered: Stripe counts it as pending
    last = service.webhooks.attempts(endpoint=endpoint.id, limit=1)
    assert last.has_more is True
    assert (last.data[0].attempt, last.data[0].succeeded, last.data[0].next_attempt) == (
        3,
        False,
        None,
    )
    assert receiver.count == 3


def test_a_dead_receiver_is_an_error_recorded_and_retried(service: CustomerService) -> None:
    with socket.socket() as probe:  # a port nothing listens on any more
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    endpoint = service.webhook_endpoints.create(
        url=f"http://127.0.0.1:{port}/hook", enabled_events=["*"]
    )
    with service.webhooks.start_delivery(retry=RetryPolicy(first_delay=0.01, max_attempts=2)):
        service.create(email="a@example.com")
        wait_until(
            lambda: len(service.webhooks.attempts(endpoint=endpoint.id).data) == 2,
            "2 attempts recorded",
        )
    attempts = service.webhooks.attempts(endpoint=endpoint.id).data
    assert [a.status_code for a in attempts] == [None, None]
    assert all("ConnectionRefused" in (a.error or "") for a in attempts)


def test_a_slow_receiver_never_holds_up_an_api_call(service: CustomerService) -> None:
    hold = threading.Event()
    with WebhookReceiver(hold=hold) as receiver:
        service.webhook_endpoints.create(url=receiver.url, enabled_events=["*"])
        with service.webhooks.start_delivery(retry=FAST, concurrency=1):
            first = service.create(email="first@example.com")
            receiver.wait_until(lambda: receiver.waiting == 1, what="the first delivery to hang")
            # The receiver holds the first delivery; the API goes on regardless.
            made = [service.create(email=f"c{n}@example.com").id for n in range(20)]
            service.update(first.id, name="First")
            assert len(service.list(limit=100).data) == 21
            assert len(service.events.list(limit=100).data) == 22
            assert receiver.count == 0 and receiver.waiting == 1  # still held: none answered
            hold.set()
            receiver.wait_for(22)
    assert {request.json()["data"]["object"]["id"] for request in receiver.requests} == {
        first.id,
        *made,
    }


def test_deliveries_to_a_deleted_endpoint_are_dropped(
    service: CustomerService, receiver: WebhookReceiver
) -> None:
    endpoint = service.webhook_endpoints.create(url=receiver.url, enabled_events=["*"])
    service.create(email="a@example.com")
    [event] = service.events.list().data
    assert event.pending_webhooks == 1
    service.webhook_endpoints.delete(endpoint.id)
    with service.webhooks.start_delivery(retry=FAST):
        wait_until(lambda: pending(service, event.id) == 0, "the delivery to be dropped")
    assert receiver.count == 0
    assert service.webhooks.attempts().data == []


def test_events_off_record_no_deliveries(store: Store, receiver: WebhookReceiver) -> None:
    service = CustomerService(store, events=False)
    service.webhook_endpoints.create(url=receiver.url, enabled_events=["*"])
    service.create(email="a@example.com")
    assert store.outbox_next_due() is None


def test_the_attempt_list_checks_its_params(service: CustomerService) -> None:
    from customer_core import InvalidRequestError

    with pytest.raises(InvalidRequestError) as caught:
        service.webhooks.attempts(limit=0)
    assert caught.value.param == "limit"
    with pytest.raises(InvalidRequestError) as caught:
        service.webhooks.attempts(colour="red")
    assert caught.value.param == "colour"
    assert service.webhooks.attempts().to_dict() == {
        "object": "list",
        "url": "/v1/webhook_delivery_attempts",
        "has_more": False,
        "data": [],
    }


# --- restarts ----------------------------------------------------------------------------


def test_a_pending_delivery_is_made_after_the_file_is_opened_again(tmp_path: Path) -> None:
    path = tmp_path / "customers.db"
    with WebhookReceiver() as receiver:
        with SQLiteStore(path) as store:
            service = CustomerService(store)
            service.webhook_endpoints.create(url=receiver.url, enabled_events=["*"])
            customer = service.create(email="a@example.com")  # no worker running: it waits
            [event] = service.events.list().data
            assert event.pending_webhooks == 1
        with SQLiteStore(path) as store:
            service = CustomerService(store)
            assert pending(service, event.id) == 1
            with service.webhooks.start_delivery(retry=FAST):
                [delivery] = receiver.wait_for(1)
                wait_until(lambda: pending(service, event.id) == 0, "the delivery to be settled")
    assert delivery.json()["data"]["object"]["id"] == customer.id


def test_a_stop_puts_unanswered_deliveries_back_for_the_next_worker(tmp_path: Path) -> None:
    path = tmp_path / "customers.db"
    hold = threading.Event()
    with WebhookReceiver(hold=hold) as receiver:
        with SQLiteStore(path) as store:
            service = CustomerService(store)
            service.webhook_endpoints.create(url=receiver.url, enabled_events=["*"])
            worker = service.webhooks.start_delivery(retry=FAST)
            service.create(email="a@example.com")
            [event] = service.events.list().data
            receiver.wait_until(lambda: receiver.waiting == 1, what="the delivery to hang")
            worker.stop(timeout=0.1)  # gives up waiting: the delivery goes back, due now
            assert not worker.running
            assert store.outbox_next_due() is not None
            assert store.outbox_next_due() <= time.time()  # type: ignore[operator]
        hold.set()
        with SQLiteStore(path) as store:
            service = CustomerService(store)
            with service.webhooks.start_delivery(retry=FAST):
                wait_until(lambda: pending(service, event.id) == 0, "the redelivery")
    # At least once: the held request was answered too, after the stop.
    assert receiver.count >= 1
    assert {request.json()["id"] for request in receiver.requests} == {event.id}


def test_the_cli_shows_an_endpoint_that_keeps_failing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "customers.db"
    with WebhookReceiver(status=500) as receiver, SQLiteStore(path) as store:
        service = CustomerService(store)
        endpoint = service.webhook_endpoints.create(url=receiver.url, enabled_events=["*"])
        with service.webhooks.start_delivery(retry=RetryPolicy(first_delay=0.01, max_attempts=2)):
            service.create(email="a@example.com")
            receiver.wait_for(2)
            wait_until(lambda: store.outbox_next_due() is None, "the delivery to be given up")
    assert main(["webhooks", "attempts", "--db", str(path), "-d", f"endpoint={endpoint.id}"]) == 0
    page = json.loads(capsys.readouterr().out)
    assert [(a["attempt"], a["status_code"], a["error"], a["succeeded"]) for a in page["data"]] == [
        (2, 500, "HTTP 500", False),
        (1, 500, "HTTP 500", False),
    ]
    assert main(["webhooks", "attempts", "--db", str(path), "-d", "limit=0"]) == 1
    assert "must be greater than or equal to 1" in capsys.readouterr().err


def test_a_worker_whose_store_closes_stops_quietly(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "customers.db")
    worker = CustomerService(store).webhooks.start_delivery(poll_interval=0.01)
    store.close()
    wait_until(lambda: not worker.running, "the worker to stop")
    worker.stop()


def test_workers_sharing_a_store_deliver_each_event_once(store: Store, tmp_path: Path) -> None:
    """Two services with a worker each on one store (two handles on one SQLite file or one
    PostgreSQL schema; one MemoryStore): the claims' leases keep them from sending an event
    twice, and each finds the other's deliveries."""
    if isinstance(store, SQLiteStore):
        other: Store = SQLiteStore(store.path)
    elif type(store).__name__ == "PostgresStore":
        from customer_core.store.postgres import PostgresStore

        assert isinstance(store, PostgresStore)
        other = PostgresStore(store.dsn, schema=store.schema)
    else:
        other = store
    with WebhookReceiver() as receiver:
        first, second = CustomerService(store), CustomerService(other)
        first.webhook_endpoints.create(url=receiver.url, enabled_events=["customer.created"])
        options = {"retry": FAST, "poll_interval": 0.05}
        with first.webhooks.start_delivery(**options), second.webhooks.start_delivery(**options):
            for n in range(30):
                first.create(email=f"first{n}@example.com")
                second.create(email=f"second{n}@example.com")
            receiver.wait_for(60)
            wait_until(lambda: store.outbox_next_due() is None, "every delivery settled")
        if other is not store:
            other.close()
    delivered = Counter(request.json()["id"] for request in receiver.requests)
    assert len(delivered) == 60 and set(delivered.values()) == {1}
    assert {event.id for event in first.events.list(limit=100).data} == set(delivered)


def test_a_receiver_slower_than_the_timeout_is_an_error_retried(service: CustomerService) -> None:
    hold = threading.Event()  # never set while the worker runs: every answer is too late
    with WebhookReceiver(hold=hold, hold_timeout=10) as receiver:
        endpoint = service.webhook_endpoints.create(url=receiver.url, enabled_events=["*"])
        retry = RetryPolicy(first_delay=0.01, max_attempts=2, jitter=0)
        with service.webhooks.start_delivery(retry=retry, timeout=0.2):
            service.create(email="a@example.com")
            wait_until(
                lambda: len(service.webhooks.attempts(endpoint=endpoint.id).data) == 2,
                "2 attempts recorded",
            )
        hold.set()
    attempts = service.webhooks.attempts(endpoint=endpoint.id).data
    assert [(a.status_code, a.error) for a in attempts] == [(None, "no answer within 0.2 s")] * 2
    assert all(a.duration_ms >= 190 for a in attempts)


def test_the_retry_policy_backs_off_and_gives_up_by_attempts_or_age() -> None:
    policy = RetryPolicy(first_delay=10, factor=3, max_delay=100, jitter=0, max_attempts=5)
    assert [policy.delay(n) for n in range(1, 6)] == [10.0, 30.0, 90.0, 100.0, 100.0]
    delivery = {"event": "evt_1", "endpoint": "we_1", "created": 1000.0, "attempts": 0}
    delivery |= {"next_attempt": 1000.0, "status": "pending"}
    after = policy.after_failure(delivery, now=1001.0)
    assert (after["attempts"], after["next_attempt"], after["status"]) == (1, 1011.0, "pending")
    fifth = policy.after_failure({**delivery, "attempts": 4}, now=1500.0)
    assert (fifth["attempts"], fifth["status"]) == (5, "failed")
    aged = RetryPolicy(first_delay=10, jitter=0, max_age=60)
    assert aged.after_failure(delivery, now=1045.0)["status"] == "pending"  # next at 1055
    assert aged.after_failure(delivery, now=1055.0)["status"] == "failed"  # next at 1065
    jittered = RetryPolicy(first_delay=100, jitter=0.1)
    assert all(90 <= jittered.delay(1) <= 110 for _ in range(100))
    for bad in ({"factor": 0.5}, {"first_delay": -1}, {"max_attempts": 0}, {"jitter": 1.0}):
        with pytest.raises(ValueError):
            RetryPolicy(**bad)
