"""h11 (uvicorn's fallback when httptools is missing) and httptools answer alike: headers
over 16 KiB of names and values get the same 431 however the head arrives (h11 let one
that arrived in one read through, and answered 400 to one that arrived in pieces), and an
absolute-form target (``GET http://host/v1/customers``) is served by its path (h11
answered 404)."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator

import pytest

from customer_core import Customer, CustomerService, MemoryStore

from .test_http import API_KEY, RunningServer


@pytest.fixture(scope="module", params=["h11", "httptools"])
def parser_server(request: pytest.FixtureRequest) -> Iterator[RunningServer]:
    with RunningServer(CustomerService(MemoryStore()), http=request.param) as server:
        yield server


def exchange(server: RunningServer, request: bytes, piece: int = 0) -> bytes:
    """Send ``request`` (whole, or in ``piece``-byte reads a few ms apart), then read the
    answer until the server closes."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as connection:
        connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            if piece:
                for start in range(0, len(request), piece):
                    connection.sendall(request[start : start + piece])
                    time.sleep(0.002)
            else:
                connection.sendall(request)
        except (BrokenPipeError, ConnectionResetError):
            pass  # refused and closed while we were still sending
        return b"".join(iter(lambda: connection.recv(65536), b""))


def status_and_json(answer: bytes) -> tuple[bytes, list[bytes], object]:
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    return lines[0], lines[1:], json.loads(body)


FIXED = [
    (b"Host", b"127.0.0.1"),
    (b"Connection", b"close"),
    (b"Authorization", b"Bearer " + API_KEY.encode()),
]


def head_of(header_bytes: int) -> bytes:
    """A GET whose header names and values hold ``header_bytes`` bytes in all: the fixed
    headers and ``X-Fill`` headers (up to 4000 bytes each) making up the rest."""
    rest = header_bytes - sum(len(name) + len(value) for name, value in FIXED)
    fills = []
    while rest > 0:
        value = b"f" * (min(rest, 4000) - len(b"X-Fill"))
        fills.append((b"X-Fill", value))
        rest -= len(b"X-Fill") + len(value)
    lines = b"".join(name + b": " + value + b"\r\n" for name, value in FIXED + fills)
    return b"GET /v1/customers HTTP/1.1\r\n" + lines + b"\r\n"


HEADERS_TOO_LARGE = {
    "error": {
        "message": "Request headers too large: the limit is 16384 bytes.",
        "type": "invalid_request_error",
    }
}


@pytest.mark.parametrize("piece", [0, 512], ids=["one read", "512-byte reads"])
def test_headers_at_the_limit_are_served_and_one_byte_more_is_a_431(
    parser_server: RunningServer, piece: int
) -> None:
    status, _, body = status_and_json(exchange(parser_server, head_of(16_384), piece))
    assert status == b"HTTP/1.1 200 OK"
    assert body == {"object": "list", "url": "/v1/customers", "has_more": False, "data": []}

    status, headers, body = status_and_json(exchange(parser_server, head_of(16_385), piece))
    assert status == b"HTTP/1.1 431 Request Header Fields Too Large"
    assert b"connection: close" in headers and b"content-type: application/json" in headers
    assert body == HEADERS_TOO_LARGE


@pytest.mark.parametrize(
    ("header_bytes", "piece"),
    [(120_000, 0), (120_000, 1024), (1_000_000, 16_384)],
    ids=["120 KB at once", "120 KB in 1 KiB reads", "1 MB in 16 KiB reads"],
)
def test_headers_far_over_the_limit_are_a_431_however_they_arrive(
    parser_server: RunningServer, header_bytes: int, piece: int
) -> None:
    status, headers, body = status_and_json(exchange(parser_server, head_of(header_bytes), piece))
    assert status == b"HTTP/1.1 431 Request Header Fields Too Large"
    assert b"connection: close" in headers
    assert body == HEADERS_TOO_LARGE


def test_a_long_url_is_a_414_before_its_headers_are_counted(
    parser_server: RunningServer,
) -> None:
    request = head_of(20_000).replace(b"/v1/customers", b"/v1/customers?email=" + b"a" * 9000)
    status, _, body = status_and_json(exchange(parser_server, request))
    assert status == b"HTTP/1.1 414 URI Too Long"
    assert body == {
        "error": {
            "message": "Request URL too long: the limit is 8192 bytes.",
            "type": "invalid_request_error",
        }
    }


def request_to(target: bytes, method: bytes = b"GET", body: bytes = b"") -> bytes:
    form = b"Content-Type: application/x-www-form-urlencoded\r\n" if body else b""
    return (
        method + b" " + target + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
        b"Authorization: Bearer "
        + API_KEY.encode()
        + b"\r\n"
        + form
        + b"Content-Length: %d\r\n\r\n" % len(body)
        + body
    )


def test_an_absolute_form_target_is_served_by_its_path(parser_server: RunningServer) -> None:
    origin = b"http://127.0.0.1:%d" % parser_server.port
    status, _, created = status_and_json(
        exchange(parser_server, request_to(origin + b"/v1/customers", b"POST", b"name=Absolute"))
    )
    assert status == b"HTTP/1.1 200 OK"
    assert isinstance(created, dict) and created["name"] == "Absolute"
    stored = parser_server.service.retrieve(created["id"])
    assert isinstance(stored, Customer) and stored.name == "Absolute"

    # The scheme and authority are not looked at: the path (and query) alone is served.
    for target in (
        origin + b"/v1/customers/" + created["id"].encode(),
        b"https://api.stripe.com/v1/customers/" + created["id"].encode() + b"#top",
        b"HTTP://user:pw@example.com:8080/v1/customers/" + created["id"].encode(),
    ):
        status, _, fetched = status_and_json(exchange(parser_server, request_to(target)))
        assert (status, fetched) == (b"HTTP/1.1 200 OK", created), target

    status, _, listed = status_and_json(
        exchange(parser_server, request_to(origin + b"/v1/customers?limit=1&email=none@x.com"))
    )
    assert status == b"HTTP/1.1 200 OK"
    assert listed == {"object": "list", "url": "/v1/customers", "has_more": False, "data": []}

    status, _, missing = status_and_json(
        exchange(parser_server, request_to(origin + b"/v1/customers/cus_nothere"))
    )
    assert status == b"HTTP/1.1 404 Not Found"
    assert isinstance(missing, dict) and missing["error"]["code"] == "resource_missing"


@pytest.mark.parametrize(
    "target",
    [b"http://127.0.0.1", b"http://127.0.0.1?limit=1", b"127.0.0.1:80", b"v1/customers"],
    ids=["no path", "a query but no path", "authority form", "relative"],
)
def test_a_target_that_names_no_path_is_stripes_400(
    parser_server: RunningServer, target: bytes
) -> None:
    status, headers, body = status_and_json(exchange(parser_server, request_to(target)))
    assert status == b"HTTP/1.1 400 Bad Request"
    assert b"connection: close" in headers
    assert body == {
        "error": {
            "message": "Invalid HTTP request: it could not be read as HTTP/1.1 (its request "
            "line, a header, its Content-Length or its chunked body is malformed).",
            "type": "invalid_request_error",
        }
    }


def test_the_asterisk_form_reaches_the_api_as_an_unknown_url(
    parser_server: RunningServer,
) -> None:
    status, _, body = status_and_json(exchange(parser_server, request_to(b"*")))
    assert status == b"HTTP/1.1 404 Not Found"
    assert isinstance(body, dict)
    assert body["error"]["message"].startswith("Unrecognized request URL (GET: *).")
