"""``customer-core deliver``: webhook delivery in a process of its own (issue 13, item 10),
on a data file and on PostgreSQL. Its deliveries are signed as the official SDK checks;
SIGTERM stops it cleanly, putting the delivery in flight back, and the next start makes
it; a server's delivery child never outlives the server.

Every wait is for a condition with a deadline, never a fixed sleep."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import stripe

from customer_core import CustomerService, SQLiteStore, Store
from customer_core.cli import main
from customer_core.testing.receiver import WebhookReceiver

from .cli_process import stop
from .conftest import IN_CI, POSTGRES, POSTGRES_MISSING


def wait_until(condition: Callable[[], object], what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"waited {timeout:g} s for {what}"
        time.sleep(0.01)


def _sqlite(tmp_path: Path) -> str:
    path = tmp_path / "customers.db"
    SQLiteStore(path).close()
    return str(path)


def _postgres(tmp_path: Path) -> str:
    """A database of its own on the tests' cluster: the CLI uses its public schema."""
    import psycopg

    POSTGRES(tmp_path).close()  # starts the cluster if no test did yet
    assert POSTGRES.server is not None
    name = f"deliver_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES.server.dsn(), autocommit=True) as connection:
        connection.execute(f"CREATE DATABASE {name}")
    return POSTGRES.server.dsn(name)


LOCATIONS: dict[str, Callable[[Path], str]] = {"sqlite": _sqlite}
if POSTGRES_MISSING is None or IN_CI:
    LOCATIONS["postgres"] = _postgres


@pytest.fixture(params=sorted(LOCATIONS))
def location(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A file path or a postgresql:// DSN, as ``--db`` takes it."""
    return LOCATIONS[request.param](tmp_path)


def open_store(location: str) -> Store:
    if location.startswith("postgresql://"):
        from customer_core.store.postgres import PostgresStore

        return PostgresStore(location)
    return SQLiteStore(location)


class Deliverer:
    """``customer-core deliver`` in a child process."""

    def __init__(self, location: str, *arguments: str) -> None:
        # The database goes through the environment, as serve hands it to its child.
        environment = {**os.environ, "CUSTOMER_CORE_DATA": location}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "customer_core", "deliver", *arguments],
            stderr=subprocess.PIPE,
            text=True,
            env=environment,
        )

    def terminate(self) -> tuple[int, str]:
        _, stderr = stop(self.process, signal.SIGTERM)
        assert stderr is not None
        return self.process.returncode, stderr


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as receiver:
        yield receiver


def test_the_delivery_process_sends_events_signed_as_the_sdk_checks(
    location: str, receiver: WebhookReceiver
) -> None:
    with open_store(location) as store:
        service = CustomerService(store)
        endpoint = service.webhook_endpoints.create(url=receiver.url, enabled_events=["*"])
        customer = service.create(email="jenny@example.com")
        service.update(customer.id, name="Jenny Rosen")
        deliverer = Deliverer(location, "--nice", "5")
        try:
            requests = receiver.wait_for(2)
            # Written while it runs, in another process: found at its next poll.
            service.delete(customer.id)
            requests = receiver.wait_for(3)
            wait_until(
                lambda: all(event.pending_webhooks == 0 for event in service.events.list().data),
                "every delivery to be settled",
            )
        finally:
            status, stderr = deliverer.terminate()
        attempts = service.webhooks.attempts().data
    assert status == -signal.SIGTERM
    assert f"in process {deliverer.process.pid}" in stderr and "Traceback" not in stderr
    assert endpoint.secret is not None
    events = [
        stripe.Webhook.construct_event(r.body.decode(), r.signature, endpoint.secret)
        for r in requests
    ]
    assert sorted(event.type for event in events) == [
        "customer.created",
        "customer.deleted",
        "customer.updated",
    ]
    assert {event.data.object.id for event in events} == {customer.id}
    assert len(attempts) == 3 and all(attempt.succeeded for attempt in attempts)
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(
            requests[0].body.decode().replace("jenny", "jonny"),
            requests[0].signature,
            endpoint.secret,
        )


def test_sigterm_puts_the_delivery_in_flight_back_and_a_restart_makes_it(location: str) -> None:
    hold = threading.Event()
    with WebhookReceiver(hold=hold) as receiver, open_store(location) as store:
        service = CustomerService(store)
        endpoint = service.webhook_endpoints.create(url=receiver.url, enabled_events=["*"])
        customer = service.create(email="jenny@example.com")
        [event] = service.events.list().data
        deliverer = Deliverer(location, "--stop-wait", "0.2")
        try:
            receiver.wait_until(lambda: receiver.waiting == 1, what="the delivery to hang")
        finally:
            status, stderr = deliverer.terminate()
        assert status == -signal.SIGTERM
        assert "Traceback" not in stderr
        # Put back unanswered: still pending, due at once, no attempt recorded.
        assert service.events.retrieve(event.id).pending_webhooks == 1
        assert (store.outbox_next_due() or 0) <= time.time()
        assert service.webhooks.attempts().data == []

        hold.set()
        deliverer = Deliverer(location)
        try:
            receiver.wait_until(
                lambda: any(r.status == 200 for r in receiver.requests[1:]),
                what="the redelivery",
            )
            wait_until(
                lambda: service.events.retrieve(event.id).pending_webhooks == 0,
                "the redelivery to be settled",
            )
        finally:
            deliverer.terminate()
        [attempt] = service.webhooks.attempts().data
    assert attempt.succeeded and attempt.attempt == 1
    assert endpoint.secret is not None
    for request in receiver.requests:
        delivered = stripe.Webhook.construct_event(
            request.body.decode(), request.signature, endpoint.secret
        )
        assert (delivered.id, delivered.data.object.id) == (event.id, customer.id)


def test_sigint_stops_the_delivery_process_with_the_shells_status(tmp_path: Path) -> None:
    deliverer = Deliverer(_sqlite(tmp_path))
    try:
        assert deliverer.process.stderr is not None
        assert "delivering webhooks from" in deliverer.process.stderr.readline()
        deliverer.process.send_signal(signal.SIGINT)
        assert deliverer.process.wait(timeout=60) == 130
    finally:
        deliverer.terminate()


def test_deliver_needs_an_existing_data_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nothing.db"
    assert main(["deliver", "--db", str(missing)]) == 1
    assert (
        capsys.readouterr().err
        == f"error: no data file at {missing} (check --db or $CUSTOMER_CORE_DATA)\n"
    )
    assert not missing.exists()
    assert main(["deliver", "--db", str(missing), "--concurrency", "0"]) == 2
    assert "--concurrency and --batch-size >= 1" in capsys.readouterr().err
