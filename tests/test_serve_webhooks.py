"""``customer-core serve --webhook URL``: an endpoint registered at start, its secret printed
as ``stripe listen`` prints it, events delivered by the server's worker (checked with the
official SDK), and a SIGTERM that loses no pending delivery."""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import stripe

from customer_core import CustomerService, SQLiteStore
from customer_core.testing.receiver import WebhookReceiver

from .cli_process import free_port, gone, wait_for

API_KEY = "sk_test_webhooks"
T = TypeVar("T")
READY = re.compile(r"^> Ready! Your webhook signing secret is (whsec_\S+) \(\^C to quit\)$")
DELIVERING = re.compile(r"^customer_core: delivering webhooks from .* in process ([0-9]+) ")


class Server:
    """``customer-core serve`` in a child process, its stderr read line by line."""

    def __init__(self, *arguments: str) -> None:
        self.port = free_port()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "customer_core.cli", "serve", "--api-key", API_KEY]
            + ["--port", str(self.port), "--log-level", "warning", *arguments],
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.stderr: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.stderr.append(line)
            self.lines.put(line.rstrip("\n"))

    def secrets(self, count: int) -> list[str]:
        """The signing secrets printed, once ``count`` were."""
        found: list[str] = []
        deadline = time.monotonic() + 60
        while len(found) < count:
            try:
                line = self.lines.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"no secret printed; stderr: {self.stderr}") from None
            match = READY.match(line)
            if match:
                found.append(match.group(1))
        return found

    def delivery_pid(self) -> int:
        """The pid of the delivery process (a file store's server starts one)."""
        deadline = time.monotonic() + 60
        while True:
            for line in self.stderr:
                if match := DELIVERING.match(line):
                    return int(match.group(1))
            assert time.monotonic() < deadline, f"no delivery process; stderr: {self.stderr}"
            time.sleep(0.01)

    def client(self) -> stripe.StripeClient:
        return stripe.StripeClient(
            API_KEY, base_addresses={"api": f"http://127.0.0.1:{self.port}"}, max_network_retries=0
        )

    def when_ready(self, call: Callable[[stripe.StripeClient], T]) -> T:
        """``call(client)`` once the server answers (it prints secrets before it listens)."""
        deadline = time.monotonic() + 60
        while True:
            assert self.process.poll() is None, f"serve exited early: {self.stderr}"
            try:
                return call(self.client())
            except stripe.APIConnectionError:
                assert time.monotonic() < deadline, "serve never answered"
                time.sleep(0.05)

    def create_when_ready(self, email: str) -> str:
        return self.when_ready(
            lambda client: client.v1.customers.create(params={"email": email}).id
        )

    def terminate(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=60)
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait(timeout=10)
            self._reader.join(timeout=10)
            assert self.process.stderr is not None
            self.process.stderr.close()


def test_serve_delivers_every_event_to_each_webhook_signed(tmp_path: Path) -> None:
    with WebhookReceiver() as first, WebhookReceiver() as second:
        server = Server("--memory", "--webhook", first.url, "--webhook", second.url)
        try:
            secrets = server.secrets(2)
            customer_id = server.create_when_ready("jenny@example.com")
            server.client().v1.customers.update(customer_id, params={"name": "Jenny"})
            first.wait_for(2)
            second.wait_for(2)
            events = server.client().v1.events.list()
        finally:
            assert server.terminate() == -signal.SIGTERM
    assert secrets[0] != secrets[1]
    for receiver, secret in ((first, secrets[0]), (second, secrets[1])):
        types = sorted(
            stripe.Webhook.construct_event(r.body.decode(), r.signature, secret).type
            for r in receiver.requests
        )
        assert types == ["customer.created", "customer.updated"]
    assert {event.type for event in events.data} == {"customer.created", "customer.updated"}
    assert "Traceback" not in "".join(server.stderr)


def test_sigterm_keeps_a_pending_delivery_for_the_next_start(tmp_path: Path) -> None:
    data = tmp_path / "customers.db"
    hold = threading.Event()
    with WebhookReceiver(hold=hold) as receiver:
        server = Server("--db", str(data), "--webhook", receiver.url)
        try:
            [secret] = server.secrets(1)
            customer_id = server.create_when_ready("jenny@example.com")
            receiver.wait_until(lambda: receiver.waiting == 1, what="the delivery to hang")
            # The delivery runs in a process of its own, which the server stops with it.
            child = server.delivery_pid()
            assert child != server.process.pid
        finally:
            assert server.terminate() == -signal.SIGTERM
        assert gone(child)
        with SQLiteStore(data) as store:
            [event] = CustomerService(store).events.list().data
            assert event.pending_webhooks == 1  # the hanging delivery was put back
            assert (store.outbox_next_due() or 0) <= time.time()
        hold.set()
        server = Server("--db", str(data), "--webhook", receiver.url)
        try:
            assert server.secrets(1) == [secret]  # the same endpoint, the same secret
            receiver.wait_until(
                lambda: any(r.status == 200 for r in receiver.requests[1:]), what="the redelivery"
            )
            deadline = time.monotonic() + 30
            while server.when_ready(
                lambda client: client.v1.events.retrieve(event.id)
            ).pending_webhooks:
                assert time.monotonic() < deadline, "pending_webhooks never dropped to 0"
                time.sleep(0.05)
        finally:
            assert server.terminate() == -signal.SIGTERM
    deliveries = [
        stripe.Webhook.construct_event(r.body.decode(), r.signature, secret)
        for r in receiver.requests
    ]
    assert {(e.id, e.data.object.id) for e in deliveries} == {(event.id, customer_id)}
    with SQLiteStore(data) as store:
        assert len(store.webhook_endpoint_scan()) == 1


def test_a_delivery_process_ends_when_its_server_is_killed(tmp_path: Path) -> None:
    with WebhookReceiver() as receiver:
        server = Server("--db", str(tmp_path / "customers.db"), "--webhook", receiver.url)
        try:
            server.secrets(1)
            server.create_when_ready("jenny@example.com")
            receiver.wait_for(1)
            child = server.delivery_pid()
            server.process.kill()  # no chance to stop its child: the pipe's end does
            server.process.wait(timeout=60)
            wait_for(lambda: gone(child), "the delivery process to end with its server")
        finally:
            server.terminate()


def test_a_killed_delivery_process_is_replaced_and_said_so(tmp_path: Path) -> None:
    # Trial 4, 2: a kill -9 of the child left deliveries stopped for good, with no word.
    with WebhookReceiver() as receiver:
        server = Server("--db", str(tmp_path / "customers.db"), "--webhook", receiver.url)
        try:
            server.secrets(1)
            server.create_when_ready("first@example.com")
            receiver.wait_for(1)
            child = server.delivery_pid()
            os.kill(child, signal.SIGKILL)
            wait_for(lambda: gone(child), "the delivery process to die of SIGKILL")
            server.create_when_ready("second@example.com")
            received = receiver.wait_for(2, timeout=60)
            assert sorted({r.json()["data"]["object"]["email"] for r in received}) == [
                "first@example.com",
                "second@example.com",
            ]
            said = "".join(server.stderr)
            assert f"the delivery process {child} ended (exit status -9)" in said
        finally:
            server.terminate()


def _retried_soon(*store_arguments: str) -> None:
    """A receiver that fails the first request gets the event again within seconds when
    ``--retry-delay`` is short (trial 4, 5: retries came after 60 s and more, with no
    option to change it)."""
    with WebhookReceiver(status=lambda n: 500 if n == 1 else 200) as receiver:
        server = Server(
            *store_arguments,
            "--webhook",
            receiver.url,
            "--retry-delay",
            "0.2",
            "--retry-max-delay",
            "0.5",
        )
        try:
            server.secrets(1)
            server.create_when_ready("retried@example.com")
            first, second = receiver.wait_for(2, timeout=30)[:2]
            assert (first.status, second.status) == (500, 200)
            assert first.json()["id"] == second.json()["id"]
            assert second.received_at - first.received_at < 10
        finally:
            server.terminate()


def test_a_short_retry_delay_sends_a_failed_delivery_again_soon(tmp_path: Path) -> None:
    _retried_soon("--db", str(tmp_path / "customers.db"))  # the delivery child


def test_a_short_retry_delay_on_the_memory_store() -> None:
    _retried_soon("--memory")  # the server's own worker


def test_a_retry_delay_above_its_maximum_is_a_usage_error() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "customer_core.cli", "serve", "--memory", "--api-key", API_KEY]
        + ["--retry-delay", "10", "--retry-max-delay", "5"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (done.returncode, done.stderr) == (
        2,
        "error: --retry-delay must be >= 0 and at most --retry-max-delay\n",
    )
