"""What a read of ``customer_core/http`` found: a Basic credential that is not ASCII was a
500, a request the parser refuses was answered in uvicorn's plain text, the API's error
lines logged a path with a key in it as it came, and a failing reset (test-only route)
was uvicorn's plain 500 with a traceback."""

from __future__ import annotations

import json
import logging
import socket
from collections.abc import Iterator
from typing import Any

import pytest

from customer_core import CustomerService, MemoryStore, StoreError
from customer_core.http.api import StripeAPI
from customer_core.http.reset import RESET_PATH, ResettableAPI
from customer_core.http.server import build_server

from .test_http import API_KEY, RunningServer

KEY = "sk_test_review_1234"


@pytest.mark.parametrize(
    "credentials",
    [b"Basic \xe9\xe9", b"Basic c2tf\xff", "Basic ключ".encode(), b"Basic //79:"],
    ids=["latin-1", "a byte over 127 inside base64", "utf-8", "not base64"],
)
def test_basic_credentials_that_are_not_ascii_base64_are_a_401(credentials: bytes) -> None:
    api = StripeAPI(CustomerService(MemoryStore()), [KEY])
    # The ASGI app hands headers on decoded as latin-1, as HTTP's bytes are.
    answer = api.handle(
        "GET", "/v1/customers", "", {"authorization": credentials.decode("latin-1")}, b""
    )
    assert answer.status == 401
    assert json.loads(answer.body) == {
        "error": {
            "message": "Invalid API Key provided: the Basic credentials are not base64-encoded UTF-8 text.",
            "type": "invalid_request_error",
        }
    }


@pytest.fixture(scope="module", params=["h11", "httptools"])
def parser_server(request: pytest.FixtureRequest) -> Iterator[RunningServer]:
    with RunningServer(CustomerService(MemoryStore()), http=request.param) as server:
        yield server


AUTH = b"Authorization: Bearer " + API_KEY.encode() + b"\r\n"


@pytest.mark.parametrize(
    "request_bytes",
    [
        b"POST /v1/customers HTTP/1.1\r\nHost: x\r\n" + AUTH + b"Content-Length: abc\r\n\r\n",
        b"POST /v1/customers HTTP/1.1\r\nHost: x\r\n" + AUTH + b"Content-Length: -1\r\n\r\n",
        b"POST /v1/customers HTTP/1.1\r\nHost: x\r\n" + AUTH + b"Transfer-Encoding: gzip\r\n\r\n",
        b"POST /v1/customers HTTP/1.1\r\nHost: x\r\n"
        + AUTH
        + b"Transfer-Encoding: chunked\r\n\r\nzz\r\n",
        b"GET /v1/customers/\x01 HTTP/1.1\r\nHost: x\r\n" + AUTH + b"\r\n",
        b"NOT HTTP AT ALL\r\n\r\n",
    ],
    ids=["length abc", "length -1", "unknown coding", "bad chunk", "control byte", "not http"],
)
def test_a_request_the_parser_refuses_gets_stripes_json_400(
    parser_server: RunningServer, request_bytes: bytes
) -> None:
    with socket.create_connection(("127.0.0.1", parser_server.port), timeout=10) as connection:
        connection.sendall(request_bytes)
        answer = b"".join(iter(lambda: connection.recv(65536), b""))
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    assert lines[0] == b"HTTP/1.1 400 Bad Request"
    assert b"content-type: application/json" in lines and b"connection: close" in lines
    assert json.loads(body) == {
        "error": {
            "message": "Invalid HTTP request: it could not be read as HTTP/1.1 (its request "
            "line, a header, its Content-Length or its chunked body is malformed).",
            "type": "invalid_request_error",
        }
    }


class DownStore(MemoryStore):
    def get(self, customer_id: str) -> Any:
        raise StoreError("Could not read the customer store: the disk is gone", http_status=503)


def test_a_key_in_the_path_is_masked_in_the_apis_error_lines(
    caplog: pytest.LogCaptureFixture,
) -> None:
    service = CustomerService(DownStore())
    build_server(service, [KEY])  # a server masks its own keys, and Stripe-shaped ones
    api = StripeAPI(service, [KEY])
    with caplog.at_level(logging.ERROR, logger="customer_core.http"):
        for customer_id in (KEY, "whsec_abc123"):
            answer = api.handle(
                "GET", f"/v1/customers/{customer_id}", "", {"authorization": f"Bearer {KEY}"}, b""
            )
            assert answer.status == 503
    logged = [record.getMessage() for record in caplog.records]
    assert [line.split(" (request ")[0] for line in logged] == [
        "GET /v1/customers/***",
        "GET /v1/customers/***",
    ]
    assert all(
        line.endswith("): Could not read the customer store: the disk is gone") for line in logged
    )


def restore_fails(error: Exception) -> MemoryStore:
    """A memory store whose restore raises ``error`` (kept out of the store's own state,
    which its snapshot copies)."""

    class RestoreFails(MemoryStore):
        def restore(self, checkpoint: Any) -> None:
            raise error

    return RestoreFails()


@pytest.mark.parametrize(
    ("error", "status", "message"),
    [
        (
            StoreError("Could not write the customer store: disk full", http_status=503),
            503,
            "The service is unavailable right now (its store could not be reached or stayed "
            "busy); nothing was changed. Retry the request.",
        ),
        (RuntimeError("a bug"), 500, "An unknown error occurred."),
    ],
    ids=["store failure", "bug"],
)
def test_a_reset_that_fails_is_answered_as_any_route_and_logged(
    caplog: pytest.LogCaptureFixture, error: Exception, status: int, message: str
) -> None:
    service = CustomerService(restore_fails(error))
    api = ResettableAPI(service, [KEY], service.snapshot())
    with caplog.at_level(logging.ERROR, logger="customer_core.http"):
        answer = api.handle("POST", RESET_PATH, "", {"authorization": f"Bearer {KEY}"}, b"")
    assert answer.status == status
    assert json.loads(answer.body) == {"error": {"message": message, "type": "api_error"}}
    assert answer.headers["content-type"] == "application/json"
    request_id = answer.headers["request-id"]
    (record,) = caplog.records
    assert f"POST {RESET_PATH} (request {request_id})" in record.getMessage()
    assert (record.exc_info is not None) == (status == 500)
