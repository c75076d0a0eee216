"""A local webhook receiver for tests and benchmarks: an HTTP server on 127.0.0.1 (a port
the system picks) that records every POST and answers with the status you choose.

>>> with WebhookReceiver() as receiver:  # doctest: +SKIP
...     svc.webhook_endpoints.create(url=receiver.url, enabled_events=["*"])
...     svc.create(email="jenny@example.com")
...     [delivery] = receiver.wait_for(1)
...     delivery.json()["type"]
'customer.created'
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

from .headers import Headers

__all__ = ["ReceivedWebhook", "WebhookReceiver"]


@dataclass(frozen=True)
class ReceivedWebhook:
    """One request the receiver got: path, headers (found whatever the case of their
    names), raw body, when (``time.monotonic()``), and the status it was answered with."""

    path: str
    headers: Headers
    body: bytes
    received_at: float
    status: int

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def signature(self) -> str:
        """The ``Stripe-Signature`` header."""
        return self.headers.get("Stripe-Signature", "")


class WebhookReceiver:
    """Record webhook deliveries on ``url`` until closed.

    ``status``: the answer's status code, or a function of the request's number (1, 2, ...)
    giving it. ``hold``: while this event is not set, each request waits (at most
    ``hold_timeout`` seconds) before it is answered: a slow receiver.
    """

    def __init__(
        self,
        *,
        status: int | Callable[[int], int] = 200,
        hold: threading.Event | None = None,
        hold_timeout: float = 30.0,
        keep_requests: bool = True,
    ) -> None:
        self._status = status
        self.hold = hold
        self.hold_timeout = hold_timeout
        self._keep = keep_requests
        self.requests: list[ReceivedWebhook] = []
        self.count = 0
        self._started = 0
        self.waiting = 0
        """Requests being held right now."""
        self._changed = threading.Condition()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """Where to send webhooks: ``http://127.0.0.1:<port>/webhooks``."""
        return f"http://127.0.0.1:{self._server.server_address[1]}/webhooks"

    def start(self) -> WebhookReceiver:
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="webhook receiver", daemon=True
        )
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop serving and free the port (held requests are let go)."""
        if self.hold is not None:
            self.hold.set()
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> WebhookReceiver:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def wait_for(self, count: int, timeout: float = 30.0) -> list[ReceivedWebhook]:
        """Wait until ``count`` requests were answered (AssertionError after ``timeout``
        seconds); return the requests recorded."""
        return self.wait_until(lambda: self.count >= count, timeout, f"{count} deliveries")

    def wait_until(
        self, condition: Callable[[], bool], timeout: float = 30.0, what: str = "the condition"
    ) -> list[ReceivedWebhook]:
        """Wait until ``condition()`` holds, checked at every request (AssertionError after
        ``timeout`` seconds); return the requests recorded."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not condition():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    msg = f"waited {timeout:g} s for {what}; got {self.count} requests"
                    raise AssertionError(msg)
                self._changed.wait(min(remaining, 0.1))
            return list(self.requests)

    def _answer(self, path: str, headers: Headers, body: bytes) -> int:
        with self._changed:
            self.waiting += 1
            self._started += 1
            number = self._started
            self._changed.notify_all()
        if self.hold is not None:
            self.hold.wait(self.hold_timeout)
        status = self._status(number) if callable(self._status) else self._status
        with self._changed:
            self.waiting -= 1
            self.count += 1
            if self._keep:
                self.requests.append(ReceivedWebhook(path, headers, body, time.monotonic(), status))
            self._changed.notify_all()
        return status

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as real receivers answer

            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                headers = Headers(self.headers.items())
                status = receiver._answer(self.path, headers, body)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass  # quiet: tests read .requests

        return Handler
