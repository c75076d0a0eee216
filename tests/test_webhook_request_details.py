"""Details of a webhook request on the wire, from the sender process and from threads:
credentials in an endpoint's URL go as HTTP Basic auth (never in the request target),
and an answer whose lines end in a bare LF (RFC 9112 2.2 lets a recipient accept it) is
read, not taken for a timeout."""

from __future__ import annotations

import base64
import socket
import threading

import pytest

from customer_core import CustomerService, MemoryStore
from customer_core.events.sender import Connections, post
from customer_core.testing.receiver import WebhookReceiver

from .test_webhook_delivery import FAST


@pytest.mark.parametrize("sender_process", [True, False])
def test_credentials_in_the_url_are_sent_as_basic_auth(sender_process: bool) -> None:
    with WebhookReceiver() as receiver:
        url = receiver.url.replace("http://", "http://stripe:hook%20pass@", 1) + "?x=1"
        service = CustomerService(MemoryStore())
        service.webhook_endpoints.create(url=url, enabled_events=["*"])
        with service.webhooks.start_delivery(retry=FAST, sender_process=sender_process):
            service.create(email="jenny@example.com")
            receiver.wait_for(1)
    [request] = receiver.requests
    expected = base64.b64encode(b"stripe:hook pass").decode()
    assert request.headers["authorization"] == f"Basic {expected}"
    assert request.path.endswith("?x=1") and "stripe" not in request.path


def test_a_url_without_credentials_sends_no_authorization() -> None:
    with WebhookReceiver() as receiver:
        service = CustomerService(MemoryStore())
        service.webhook_endpoints.create(url=receiver.url, enabled_events=["*"])
        with service.webhooks.start_delivery(retry=FAST):
            service.create(email="jenny@example.com")
            receiver.wait_for(1)
    assert "authorization" not in receiver.requests[0].headers


def test_an_answer_with_bare_lf_line_ends_is_read() -> None:
    with socket.create_server(("127.0.0.1", 0)) as listening:
        port = listening.getsockname()[1]
        received: list[bytes] = []

        def answer() -> None:
            connection, _ = listening.accept()
            with connection:
                connection.settimeout(10)
                data = b""
                while b"\r\n\r\n" not in data:
                    data += connection.recv(65536)
                received.append(data)
                connection.sendall(b"HTTP/1.1 202 Accepted\nContent-Length: 2\n\nok")

        thread = threading.Thread(target=answer)
        thread.start()
        connections: Connections = {}
        try:
            outcome = post(f"http://127.0.0.1:{port}/hook", b"{}", "t=1,v1=x", 10.0, connections)
        finally:
            thread.join(10)
            for connection in connections.values():
                connection.close()
    assert outcome == (202, None)
    assert received[0].startswith(b"POST /hook HTTP/1.1\r\n")
