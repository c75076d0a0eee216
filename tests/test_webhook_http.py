"""The delivery worker's HTTP client (``customer_core.events.sender.post``) against
answers a plain ``http.server`` never gives: chunked bodies, bodies past the read bound,
HTTP/1.0 bodies that end with the connection, interim 1xx answers, ``Connection: close``,
a kept-alive connection the receiver dropped, and an answer that is not HTTP."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest

from customer_core.events.sender import MAX_RESPONSE_BYTES
from customer_core.events.sender import post as _post


class CannedReceiver:
    """A TCP server on 127.0.0.1 answering each request with the next canned answer; a
    connection is closed after an answer that says so (or has no length), or after any
    answer when ``close_after_each`` (without telling: a dropped keep-alive connection)."""

    def __init__(self, answers: list[bytes], *, close_after_each: bool = False) -> None:
        self.answers = list(answers)
        self.close_after_each = close_after_each
        self.requests: list[bytes] = []
        self.connections = 0
        self._server = socket.create_server(("127.0.0.1", 0))
        self._server.settimeout(10)
        self.url = f"http://127.0.0.1:{self._server.getsockname()[1]}/hooks?x=1"
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while self.answers:
            try:
                connection, _ = self._server.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._serve, args=(connection,), daemon=True).start()

    def _serve(self, connection: socket.socket) -> None:
        try:
            self._answer(connection)
        except OSError:
            pass  # the client hung up (as it does on an answer longer than it reads)

    def _answer(self, connection: socket.socket) -> None:
        connection.settimeout(10)
        with connection:
            pending = b""
            while self.answers:
                while b"\r\n\r\n" not in pending:
                    chunk = connection.recv(65536)
                    if not chunk:
                        return
                    pending += chunk
                head, _, pending = pending.partition(b"\r\n\r\n")
                length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
                while len(pending) < length:
                    pending += connection.recv(65536)
                self.requests.append(head + b"\r\n\r\n" + pending[:length])
                pending = pending[length:]
                answer = self.answers.pop(0)
                connection.sendall(answer)
                lowered = answer.lower()
                if (
                    self.close_after_each
                    or b"connection: close" in lowered
                    or lowered.startswith(b"http/1.0")
                ):
                    return

    def close(self) -> None:
        self._server.close()


@pytest.fixture
def connections() -> Iterator[dict[tuple[str, str, int | None], object]]:
    opened: dict[tuple[str, str, int | None], object] = {}
    yield opened
    for connection in opened.values():
        connection.close()  # type: ignore[attr-defined]


def post(receiver: CannedReceiver, connections: dict) -> tuple[int | None, str | None]:  # type: ignore[type-arg]
    return _post(receiver.url, b'{"id": "evt_1"}', "t=1,v1=ab", 5.0, connections)


def test_the_request_is_one_post_with_stripe_headers(connections: dict) -> None:  # type: ignore[type-arg]
    receiver = CannedReceiver([b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"])
    assert post(receiver, connections) == (200, None)
    receiver.close()
    head, _, body = receiver.requests[0].partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    assert lines[0] == "POST /hooks?x=1 HTTP/1.1"
    headers = dict(line.split(": ", 1) for line in lines[1:])
    assert headers["Host"] == receiver.url.split("/")[2]
    assert headers["Stripe-Signature"] == "t=1,v1=ab"
    assert headers["Content-Type"] == "application/json; charset=utf-8"
    assert headers["Content-Length"] == "15" and body == b'{"id": "evt_1"}'


def test_chunked_and_interim_answers_keep_the_connection(connections: dict) -> None:  # type: ignore[type-arg]
    receiver = CannedReceiver(
        [
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: 1\r\n\r\n",
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n",
            b"HTTP/1.1 503 Busy\r\nContent-Length: 4\r\n\r\nbusy",
        ]
    )
    assert [post(receiver, connections)[0] for _ in range(3)] == [200, 204, 503]
    receiver.close()
    assert receiver.connections == 1


def test_answers_that_end_the_connection_open_a_new_one(connections: dict) -> None:  # type: ignore[type-arg]
    big = MAX_RESPONSE_BYTES + 1
    receiver = CannedReceiver(
        [
            b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
            b"HTTP/1.0 202 Accepted\r\n\r\nbody until the close",
            b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % big + b"x" * big,
            b"HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n",
        ]
    )
    assert [post(receiver, connections)[0] for _ in range(4)] == [200, 202, 200, 201]
    receiver.close()
    assert receiver.connections == 4


def test_a_dropped_keep_alive_connection_is_opened_again_once(connections: dict) -> None:  # type: ignore[type-arg]
    ok = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
    receiver = CannedReceiver([ok, ok, ok], close_after_each=True)
    assert [post(receiver, connections) for _ in range(3)] == [(200, None)] * 3
    receiver.close()
    assert receiver.connections == 3


def test_an_answer_that_is_not_http_is_an_error(connections: dict) -> None:  # type: ignore[type-arg]
    receiver = CannedReceiver([b"SSH-2.0-OpenSSH\r\n\r\n"])
    status, error = post(receiver, connections)
    receiver.close()
    assert status is None
    assert error is not None and error.startswith(
        "HTTPException: the receiver did not answer in HTTP"
    )
    assert connections == {}
