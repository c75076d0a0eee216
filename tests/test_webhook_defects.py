"""Webhook defects found by a trial run (issue 13): the delivery attempts list over HTTP,
an unknown endpoint id in its filter, Stripe-shaped signing secrets, ``serve --webhook``
with a bad URL, and a server stopped by more than one SIGTERM.

Every wait is for a condition with a deadline, never a fixed sleep."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import stripe

from customer_core import CustomerService, MemoryStore, SQLiteStore
from customer_core.errors import InvalidRequestError
from customer_core.events.delivery import DeliveryWorker
from customer_core.events.outbox import RetryPolicy
from customer_core.testing.receiver import WebhookReceiver

from . import test_http
from .test_serve_webhooks import Server, gone
from .test_webhook_delivery import wait_until

FAST = RetryPolicy(first_delay=0.05, factor=2.0, max_delay=1.0, jitter=0)
SECRET = re.compile(r"^whsec_[A-Za-z0-9]{32}$")

server_service = test_http.server_service
server = test_http.server


@pytest.fixture
def failing_once() -> Iterator[WebhookReceiver]:
    """A receiver answering 500 to its first request and 200 after."""
    with WebhookReceiver(status=lambda number: 500 if number == 1 else 200) as receiver:
        yield receiver


# --- GET /v1/webhook_delivery_attempts ----------------------------------------------------


def test_the_attempts_list_is_served_at_the_url_it_names(
    server_service: tuple[test_http.RunningServer, CustomerService],
    failing_once: WebhookReceiver,
) -> None:
    server, service = server_service
    client = stripe.StripeClient(
        test_http.API_KEY,
        base_addresses={"api": f"http://127.0.0.1:{server.port}"},
        max_network_retries=0,
    )
    endpoint = client.v1.webhook_endpoints.create(
        params={"url": failing_once.url, "enabled_events": ["customer.created"]}
    )
    with service.webhooks.start_delivery(retry=FAST):
        customer = client.v1.customers.create(params={"email": "attempts@example.com"})
        failing_once.wait_for(2)
        wait_until(
            lambda: len(service.webhooks.attempts(endpoint=endpoint.id).data) == 2,
            "both attempts to be recorded",
        )
    [event] = [
        event
        for event in client.v1.events.list(params={"type": "customer.created"}).data
        if event.data.object["id"] == customer.id
    ]

    status, _, page = server.request(
        "GET", f"/v1/webhook_delivery_attempts?endpoint={endpoint.id}&limit=1"
    )
    assert status == 200
    assert (page["object"], page["url"], page["has_more"]) == (
        "list",
        "/v1/webhook_delivery_attempts",
        True,
    )
    [newest] = page["data"]
    assert newest["object"] == "webhook_delivery_attempt"
    assert (newest["endpoint"], newest["event"], newest["url"]) == (
        endpoint.id,
        event.id,
        failing_once.url,
    )
    assert (newest["attempt"], newest["status_code"], newest["succeeded"]) == (2, 200, True)
    assert (newest["error"], newest["next_attempt"]) == (None, None)

    status, _, page = server.request("GET", f"/v1/webhook_delivery_attempts?endpoint={endpoint.id}")
    assert status == 200 and page["has_more"] is False
    first = page["data"][1]
    assert (first["attempt"], first["status_code"], first["succeeded"]) == (1, 500, False)
    assert first["error"] == "HTTP 500" and isinstance(first["next_attempt"], int)

    # The SDK's raw request reads the same list.
    raw = client.raw_request("get", "/v1/webhook_delivery_attempts", endpoint=endpoint.id)
    assert [item["attempt"] for item in json.loads(raw.body)["data"]] == [2, 1]


def test_the_attempts_route_refuses_what_it_does_not_serve(
    server: test_http.RunningServer,
) -> None:
    status, _, body = server.request("POST", "/v1/webhook_delivery_attempts", b"limit=1")
    assert status == 404
    assert body["error"]["message"].startswith(
        "Unrecognized request URL (POST: /v1/webhook_delivery_attempts)."
    )
    status, _, body = server.request("GET", "/v1/webhook_delivery_attempts/wha_1")
    assert status == 404 and body["error"]["message"].startswith("Unrecognized request URL")
    status, _, body = server.request("GET", "/v1/webhook_delivery_attempts?limit=0")
    assert (status, body["error"]["param"]) == (400, "limit")
    status, _, body = server.request("GET", "/v1/webhook_delivery_attempts?event=evt_1")
    assert (status, body["error"]["code"], body["error"]["param"]) == (
        400,
        "parameter_unknown",
        "event",
    )
    status, _, body = server.request("GET", "/v1/webhook_delivery_attempts?expand[]=total_count")
    assert (status, body["error"]["code"]) == (400, "property_forbidden")


# --- an unknown id in a filter -------------------------------------------------------------


def test_an_unknown_endpoint_in_the_attempts_filter_is_stripes_resource_missing(
    service: CustomerService,
) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        service.webhooks.attempts(endpoint="we_bogus")
    error = caught.value.to_dict()["error"]
    assert caught.value.http_status == 400
    assert (error["code"], error["param"], error["message"]) == (
        "resource_missing",
        "endpoint",
        "No such webhook endpoint: 'we_bogus'",
    )
    endpoint = service.webhook_endpoints.create(url="http://127.0.0.1:9/", enabled_events=["*"])
    assert service.webhooks.attempts(endpoint=endpoint.id).data == []
    service.webhook_endpoints.delete(endpoint.id)
    with pytest.raises(InvalidRequestError) as caught:
        service.webhooks.attempts(endpoint=endpoint.id)
    assert caught.value.message == f"No such webhook endpoint: '{endpoint.id}'"


def test_an_unknown_endpoint_over_http_and_on_the_command_line(
    server: test_http.RunningServer, tmp_path: Path
) -> None:
    status, _, body = server.request("GET", "/v1/webhook_delivery_attempts?endpoint=we_bogus")
    assert status == 400
    assert body["error"] == {
        "code": "resource_missing",
        "doc_url": "https://stripe.com/docs/error-codes/resource-missing",
        "message": "No such webhook endpoint: 'we_bogus'",
        "param": "endpoint",
        "type": "invalid_request_error",
    }
    data = tmp_path / "customers.db"
    SQLiteStore(data).close()
    done = subprocess.run(
        [sys.executable, "-m", "customer_core", "webhooks", "attempts", "--db", str(data)]
        + ["-d", "endpoint=we_bogus"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr == "error: No such webhook endpoint: 'we_bogus'\n"


# --- secrets ---------------------------------------------------------------------------------


def test_secrets_are_whsec_and_32_letters_or_digits() -> None:
    service = CustomerService(MemoryStore())
    made = {
        service.webhook_endpoints.create(url="http://127.0.0.1:9/", enabled_events=["*"]).secret
        for _ in range(50)
    }
    assert len(made) == 50
    assert all(secret is not None and SECRET.match(secret) for secret in made)


def test_seeded_secrets_are_the_same_every_run() -> None:
    def secrets(seed: int) -> list[str | None]:
        service = CustomerService(MemoryStore(), clock=lambda: 1_700_000_000, seed=seed)
        return [
            service.webhook_endpoints.create(url="http://127.0.0.1:9/", enabled_events=["*"]).secret
            for _ in range(3)
        ]

    first = secrets(7)
    assert first == secrets(7)
    assert first != secrets(8)
    assert all(secret is not None and SECRET.match(secret) for secret in first)
    assert len(set(first)) == 3


# --- serve --webhook with a bad URL ---------------------------------------------------------


@pytest.mark.parametrize("url", ["notaurl", "ftp://example.com/hook", "http://"])
def test_serve_refuses_a_bad_webhook_url_before_it_starts(tmp_path: Path, url: str) -> None:
    data = tmp_path / "customers.db"
    done = subprocess.run(
        [sys.executable, "-m", "customer_core", "serve", "--api-key", "sk_test_x"]
        + ["--db", str(data), "--port", "0", "--webhook", "http://127.0.0.1:9/ok"]
        + ["--webhook", url],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr == f"error: --webhook {url}: Invalid URL: {url}\n"
    assert not data.exists()  # nothing was opened, let alone registered


# --- more than one SIGTERM -------------------------------------------------------------------


@pytest.mark.parametrize("store", ["--memory", "--db"])
def test_more_sigterms_during_the_stop_neither_cut_it_short_nor_print_a_traceback(
    tmp_path: Path, store: str
) -> None:
    data = tmp_path / "customers.db"
    hold = threading.Event()
    with WebhookReceiver(hold=hold) as receiver:
        arguments = ["--memory"] if store == "--memory" else ["--db", str(data)]
        server = Server(*arguments, "--webhook", receiver.url)
        try:
            server.secrets(1)
            server.create_when_ready("jenny@example.com")
            receiver.wait_until(lambda: receiver.waiting == 1, what="the delivery to hang")
            child = None if store == "--memory" else server.delivery_pid()
            server.process.send_signal(signal.SIGTERM)
            began = time.monotonic()
            # The stop waits STOP_TIMEOUT (2 s) for the hanging request; more SIGTERMs meanwhile.
            for _ in range(3):
                time.sleep(0.2)
                if server.process.poll() is None:
                    server.process.send_signal(signal.SIGTERM)
            status = server.process.wait(timeout=60)
            stopped_after = time.monotonic() - began
            # The server ends only once its delivery process has ended (put its delivery back).
            child_gone_first = child is None or gone(child)
        finally:
            hold.set()
            server.terminate()
    stderr = "".join(server.stderr)
    assert status == -signal.SIGTERM
    assert "Traceback" not in stderr and "Exception ignored" not in stderr
    assert child_gone_first
    assert stopped_after >= 1.5  # the stop waited for the request in flight, uncut
    if child is not None:
        with SQLiteStore(data) as store_file:
            [event] = CustomerService(store_file).events.list().data
            assert event.pending_webhooks == 1  # the stop ran to its end: put back, due
            assert (store_file.outbox_next_due() or 0) <= time.time()
        # The data file was closed: SQLite removed its -wal file.
        assert sorted(path.name for path in tmp_path.iterdir()) == ["customers.db"]


# --- leases ------------------------------------------------------------------------------------


def test_a_batch_slower_than_its_lease_is_still_sent_once() -> None:
    """One sender and a receiver that takes 0.25 s an answer: a batch of 30 takes longer
    than the 4 s lease. The worker renews its leases, so a claim made after the first lease
    would have ended (the new event wakes one) takes none of the deliveries it holds."""
    service = CustomerService(MemoryStore())
    never = threading.Event()
    with WebhookReceiver(hold=never, hold_timeout=0.25) as receiver:
        service.webhook_endpoints.create(url=receiver.url, enabled_events=["customer.created"])
        options = {"concurrency": 1, "timeout": 2.0, "lease": 4.0, "poll_interval": 0.05}
        with service.webhooks.start_delivery(retry=FAST, **options):
            for n in range(30):
                service.create(email=f"slow{n}@example.com")
            receiver.wait_until(lambda: receiver.waiting == 1, what="the first delivery")
            began = time.monotonic()
            wait_until(lambda: time.monotonic() - began > 5, "the first lease to have ended")
            assert receiver.count < 30  # still working through the batch
            service.create(email="late@example.com")
            wait_until(lambda: service.store.outbox_next_due() is None, "every delivery", 120)
    sent = Counter(request.json()["id"] for request in receiver.requests)
    assert len(sent) == 31
    assert set(sent.values()) == {1}


def test_a_sender_does_not_start_a_request_its_lease_cannot_cover() -> None:
    """A delivery whose lease has less than the timeout left (its worker was starved) is
    neither sent nor settled: it stays in the outbox, due when the lease ends."""
    service = CustomerService(MemoryStore())
    with WebhookReceiver() as receiver:
        service.webhook_endpoints.create(url=receiver.url, enabled_events=["*"])
        service.create(email="starved@example.com")
        now = time.time()
        [delivery] = service.store.outbox_claim(now, now + 1.0, 10)  # a lease of 1 s
        worker = DeliveryWorker(service.webhooks, timeout=2.0)  # not started
        after, attempt = worker._attempt(delivery, {})
        assert (after["status"], attempt) == ("lease_ended", None)
        worker._settle([(after, attempt)])
        assert receiver.count == 0
        assert service.store.outbox_next_due() == now + 1.0  # still leased, then due again
    with pytest.raises(ValueError, match="lease longer than its timeout"):
        DeliveryWorker(service.webhooks, timeout=5.0, lease=5.0)
