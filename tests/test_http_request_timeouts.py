"""A request must arrive in bounded time (``RequestTimeouts``): half a head, a stalled or
trickling body, or a connection that never sends a byte, is cut off, with either parser;
a slow body that keeps coming is read whole.

A real server on 127.0.0.1, on a port the test opens itself, with short timeouts.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator

import pytest

from customer_core import CustomerService, MemoryStore
from customer_core.http import RequestTimeouts
from customer_core.http.protocols import HTTP, BoundedRequests, http_protocol
from customer_core.http.server import build_server

from .test_http import API_KEY, RunningServer

SHORT = RequestTimeouts(head=0.5, body_stall=0.5, body=2.0, keep_alive=1)
AUTH = b"Authorization: Bearer " + API_KEY.encode() + b"\r\n"


class Server(RunningServer):
    """``RunningServer`` with ``SHORT`` timeouts, and raw sockets to it."""

    def __init__(self, http: HTTP) -> None:
        super().__init__(CustomerService(MemoryStore()), http=http, timeouts=SHORT)

    def connect(self) -> socket.socket:
        return socket.create_connection(("127.0.0.1", self.port), timeout=10)


@pytest.fixture(scope="module", params=["h11", "httptools"])
def server(request: pytest.FixtureRequest) -> Iterator[Server]:
    with Server(request.param) as running:
        yield running


def read_to_close(connection: socket.socket) -> bytes:
    """Everything the server sends until it closes (a reset counts as a close)."""
    received = b""
    try:
        while chunk := connection.recv(65536):
            received += chunk
    except ConnectionResetError:
        pass
    return received


def timed_answer(connection: socket.socket) -> tuple[float, bytes]:
    started = time.monotonic()
    answer = read_to_close(connection)
    return time.monotonic() - started, answer


def trickle(connection: socket.socket, data: bytes, pause: float) -> tuple[float, bytes]:
    """Send ``data`` a byte every ``pause`` seconds until the server answers or closes;
    return the time that took and everything it sent until it closed."""
    started = time.monotonic()
    connection.settimeout(pause)
    received = b""
    try:
        for byte in data:
            connection.sendall(bytes([byte]))
            try:
                received = connection.recv(65536)
            except TimeoutError:
                continue
            break
    except (BrokenPipeError, ConnectionResetError):
        pass
    elapsed = time.monotonic() - started
    connection.settimeout(10)
    return elapsed, received + read_to_close(connection)


def assert_408(answer: bytes, message: str) -> None:
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    assert lines[0] == b"HTTP/1.1 408 Request Timeout"
    assert b"connection: close" in lines
    assert b"content-type: application/json" in lines
    assert json.loads(body) == {"error": {"message": message, "type": "invalid_request_error"}}


HEAD_LATE = "Request headers took too long to arrive: the limit is 0.5 seconds."
STALLED = "Request body stalled: nothing arrived for 0.5 seconds."
BODY_LATE = "Request body took too long to arrive: the limit is 2 seconds."


@pytest.mark.parametrize(
    "partial",
    [b"GET /v1/cust", b"GET /v1/customers HTTP/1.1\r\nHost: 127.0.0.1\r\n" + AUTH],
    ids=["half a request line", "headers without their end"],
)
def test_half_a_head_gets_a_408_and_the_connection_closes(server: Server, partial: bytes) -> None:
    with server.connect() as connection:
        connection.sendall(partial)
        elapsed, answer = timed_answer(connection)
    assert_408(answer, HEAD_LATE)
    assert 0.4 < elapsed < 5


def test_a_head_sent_a_byte_at_a_time_is_cut_off_at_the_head_limit(server: Server) -> None:
    with server.connect() as connection:
        head = b"GET /v1/customers HTTP/1.1\r\nHost: 127.0.0.1\r\n" + AUTH + b"\r\n"
        elapsed, answer = trickle(connection, head, 0.05)
    assert_408(answer, HEAD_LATE)
    assert 0.4 < elapsed < 5


def test_a_connection_that_sends_nothing_is_closed_without_an_answer(server: Server) -> None:
    with server.connect() as connection:
        elapsed, answer = timed_answer(connection)
    assert answer == b""
    assert 0.4 < elapsed < 5


def create_head(length: int) -> bytes:
    return (
        b"POST /v1/customers HTTP/1.1\r\nHost: 127.0.0.1\r\n" + AUTH + b"Content-Type: "
        b"application/x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\n" % length
    )


def test_a_body_shorter_than_declared_gets_a_408_and_creates_nothing(server: Server) -> None:
    with server.connect() as connection:
        connection.sendall(create_head(1000) + b"name=Half&")
        elapsed, answer = timed_answer(connection)
    assert_408(answer, STALLED)
    assert 0.4 < elapsed < 5
    assert server.service.list().data == []


def test_a_slow_body_that_keeps_coming_is_read_whole(server: Server) -> None:
    body = b"name=Slow&email=slow@example.com"
    with server.connect() as connection:
        connection.sendall(create_head(len(body)))
        for start in range(0, len(body), 4):  # 8 chunks over ~0.8 s: more than body_stall
            time.sleep(0.1)
            connection.sendall(body[start : start + 4])
        status_line = connection.recv(65536).split(b"\r\n")[0]
    assert status_line == b"HTTP/1.1 200 OK"
    assert [customer.email for customer in server.service.list(email="slow@example.com").data] == [
        "slow@example.com"
    ]


def test_a_trickling_body_is_cut_off_at_the_body_limit(server: Server) -> None:
    with server.connect() as connection:
        connection.sendall(create_head(1000))
        # A byte every 0.2 s, always under body_stall: only the whole body's limit ends it.
        elapsed, answer = trickle(connection, b"a" * 1000, 0.2)
    assert_408(answer, BODY_LATE)
    assert 1.9 < elapsed < 6


def test_an_idle_keep_alive_connection_is_closed(server: Server) -> None:
    with server.connect() as connection:
        connection.sendall(b"GET /v1/customers HTTP/1.1\r\nHost: 127.0.0.1\r\n" + AUTH + b"\r\n")
        started = time.monotonic()
        answer = read_to_close(connection)
        elapsed = time.monotonic() - started
    assert answer.startswith(b"HTTP/1.1 200 OK\r\n")
    assert 0.9 < elapsed < 6  # keep_alive=1: longer than a head's limit, and bounded


def test_a_second_request_left_half_sent_gets_its_408(server: Server) -> None:
    whole = b"GET /v1/customers HTTP/1.1\r\nHost: 127.0.0.1\r\n" + AUTH + b"\r\n"
    with server.connect() as connection:
        connection.sendall(whole + b"GET /v1/customers HTTP/1.1\r\nHost: 12")
        answer = read_to_close(connection)
    first, _, rest = answer.partition(b"HTTP/1.1 408")
    assert first.startswith(b"HTTP/1.1 200 OK\r\n")
    assert_408(b"HTTP/1.1 408" + rest, HEAD_LATE)


def test_requests_on_a_connection_longer_than_the_limits_are_answered(server: Server) -> None:
    """The limits are per request: a keep-alive connection that sends whole requests,
    each within the limits, is answered for longer than any of them."""
    with server.connect() as connection:
        for _ in range(3):
            connection.sendall(
                b"GET /v1/customers HTTP/1.1\r\nHost: 127.0.0.1\r\n" + AUTH + b"\r\n"
            )
            assert connection.recv(65536).startswith(b"HTTP/1.1 200 OK\r\n")
            time.sleep(0.6)  # over head and body_stall, under keep_alive


def test_the_defaults_are_bounded_and_reach_uvicorn() -> None:
    assert RequestTimeouts() == RequestTimeouts(
        head=20.0, body_stall=20.0, body=120.0, keep_alive=5
    )
    server = build_server(CustomerService(MemoryStore()), [API_KEY])
    assert server.config.timeout_keep_alive == 5
    protocol = server.config.http
    assert isinstance(protocol, type) and issubclass(protocol, BoundedRequests)
    assert protocol.timeouts == RequestTimeouts()
    tuned = http_protocol("h11", SHORT)
    assert tuned.timeouts is SHORT and tuned is not http_protocol("h11")


@pytest.mark.parametrize(
    ("settings", "error", "message"),
    [
        ({"head": 0}, ValueError, "RequestTimeouts.head must be a positive, finite number"),
        ({"body": "5"}, TypeError, "RequestTimeouts.body must be a number of seconds, not '5'."),
        ({"keep_alive": 0.5}, TypeError, "RequestTimeouts.keep_alive must be whole seconds"),
        ({"keep_alive": 0}, ValueError, "RequestTimeouts.keep_alive must be 1 or more, not 0."),
    ],
)
def test_wrong_timeouts_are_refused(
    settings: dict[str, object], error: type[Exception], message: str
) -> None:
    with pytest.raises(error) as caught:
        RequestTimeouts(**settings)  # type: ignore[arg-type]
    assert str(caught.value).startswith(message)
