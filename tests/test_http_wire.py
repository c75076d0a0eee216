"""Wire details real clients trip on: idempotent replay headers, Stripe-Version, strict
form decoding, HEAD/OPTIONS/CORS, long URLs and the shape of JSON bodies.

Driven through the HTTP server (the official stripe SDK and raw http.client requests)
and, where the transport applies, through the in-process ``StripeHTTPClient``.
"""

from __future__ import annotations

import http.client
import json
import socket
from collections.abc import Iterator

import pytest
import stripe

from customer_core import CustomerService, MemoryStore
from customer_core.http import API_VERSION

from . import test_http
from .test_http import API_KEY, RunningServer

# test_http's fixtures: one server per module, the SDK client over it and in process.
server_service = test_http.server_service
server = test_http.server
client = test_http.client

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


# --- Idempotent-Replayed --------------------------------------------------------------------


def test_a_replay_says_so_and_echoes_the_key(client: stripe.StripeClient) -> None:
    first = client.v1.customers.create(
        params={"email": "replay@example.com"}, options={"idempotency_key": "replay-1"}
    )
    assert first.last_response.headers["idempotency-key"] == "replay-1"
    assert "idempotent-replayed" not in first.last_response.headers
    again = client.v1.customers.create(
        params={"email": "replay@example.com"}, options={"idempotency_key": "replay-1"}
    )
    assert again.id == first.id
    assert again.last_response.headers["idempotent-replayed"] == "true"
    assert again.last_response.headers["idempotency-key"] == "replay-1"
    assert again.last_response.idempotency_key == "replay-1"


def test_a_replayed_error_says_so(client: stripe.StripeClient) -> None:
    for attempt in range(2):
        with pytest.raises(stripe.InvalidRequestError) as caught:
            client.v1.customers.create(
                params={"payment_method": "pm_missing"}, options={"idempotency_key": "replay-err"}
            )
        assert caught.value.user_message == "No such PaymentMethod: 'pm_missing'"
        headers = caught.value.headers or {}
        assert headers.get("idempotent-replayed") == ("true" if attempt else None)


def test_replay_headers_on_the_raw_wire(server: RunningServer) -> None:
    sent = {**FORM, "Idempotency-Key": "raw-1"}
    status, first_headers, first = server.request(
        "POST", "/v1/customers", body=b"name=Raw", headers=sent
    )
    status, headers, body = server.request("POST", "/v1/customers", body=b"name=Raw", headers=sent)
    assert status == 200 and body == first
    assert headers["idempotent-replayed"] == "true" and headers["idempotency-key"] == "raw-1"
    assert (
        "idempotent-replayed" not in first_headers and first_headers["idempotency-key"] == "raw-1"
    )
    _, headers, _ = server.request("GET", f"/v1/customers/{first['id']}")
    assert "idempotent-replayed" not in headers and "idempotency-key" not in headers


def test_the_service_reports_replays() -> None:
    svc = CustomerService(MemoryStore())
    first = svc.perform("create", {"name": "A"}, idempotency_key="k")
    again = svc.perform("create", {"name": "A"}, idempotency_key="k")
    assert (first.replayed, again.replayed) == (False, True)
    assert again.result == first.result
    assert svc.perform("retrieve", id=first.result.id).replayed is False  # type: ignore[union-attr]


# --- Stripe-Version ---------------------------------------------------------------------------


MALFORMED_VERSIONS = [
    "2019-2-19",
    "2018-11-21 accounts_upgrade=true",
    "2026-02-30",
    "latest",
    "2026-09-30.Endive",
    "",
]
WELL_FORMED_VERSIONS = [
    "2026-10-28.endive",
    "2020-08-27",
    "2031-01-01.zebra",
    "2026-09-30.endive; feature_beta=v1",
    "2026-09-30.endive; a_beta=v2; b_beta=v1",
]


@pytest.mark.parametrize("version", MALFORMED_VERSIONS + WELL_FORMED_VERSIONS)
def test_malformed_versions_are_stripes_400_and_well_formed_ones_accepted(
    server: RunningServer, version: str
) -> None:
    status, headers, body = server.request(
        "GET", "/v1/customers", headers={"Stripe-Version": version}
    )
    if version in MALFORMED_VERSIONS:
        assert (status, body) == (
            400,
            {
                "error": {
                    "message": f"Invalid Stripe API version: {version}",
                    "type": "invalid_request_error",
                }
            },
        )
    else:
        assert status == 200 and body["object"] == "list"
    # The body has this library's shape, and the header says which one.
    assert headers["stripe-version"] == API_VERSION == "2026-09-30.endive"


def test_the_sdk_sends_its_own_newer_version_and_a_bad_one_is_refused(
    client: stripe.StripeClient, server: RunningServer
) -> None:
    customer = client.v1.customers.create(params={"name": "Versioned"})
    assert stripe.api_version == "2026-10-28.endive"
    assert customer.last_response.headers["stripe-version"] == API_VERSION
    bad = stripe.StripeClient(
        API_KEY,
        base_addresses={"api": f"http://127.0.0.1:{server.port}"},
        stripe_version="2019-2-19",
        max_network_retries=0,
    )
    with pytest.raises(stripe.InvalidRequestError, match="Invalid Stripe API version: 2019-2-19"):
        bad.v1.customers.list()


# --- pretty-printed bodies ----------------------------------------------------------------------


def raw_request(
    server: RunningServer,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    *,
    auth: bool = True,
) -> tuple[int, dict[str, str], str]:
    """Status, headers (lowercase names) and the body as text, exactly as sent."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        sent = {"Authorization": f"Bearer {API_KEY}"} if auth else {}
        sent.update(FORM if body is not None and headers is None else headers or {})
        connection.request(method, path, body=body, headers=sent)
        response = connection.getresponse()
        answer = {name.lower(): value for name, value in response.getheaders()}
        return response.status, answer, response.read().decode()
    finally:
        connection.close()


def raw_body(server: RunningServer, method: str, path: str, body: bytes | None = None) -> str:
    return raw_request(server, method, path, body)[2]


def test_bodies_are_pretty_printed_like_stripes(server: RunningServer) -> None:
    created = raw_body(server, "POST", "/v1/customers", b"email=pretty%40example.com&name=Zo%C3%AB")
    assert created.startswith('{\n  "id": "cus_')
    assert '\n  "object": "customer",\n' in created
    assert '\n  "email": "pretty@example.com",\n' in created and '"name": "Zoë"' in created
    assert '\n  "metadata": {},\n' in created and created.endswith("\n}\n")
    customer_id = json.loads(created)["id"]
    assert raw_body(server, "GET", f"/v1/customers/{customer_id}") == created
    page = raw_body(server, "GET", "/v1/customers?limit=1")
    assert page.startswith('{\n  "object": "list",\n  "url": "/v1/customers",\n')
    assert '\n  "data": [\n    {\n      "id": "cus_' in page
    error = raw_body(server, "GET", "/v1/customers/cus_nope")
    assert error == (
        "{\n"
        '  "error": {\n'
        '    "code": "resource_missing",\n'
        '    "doc_url": "https://stripe.com/docs/error-codes/resource-missing",\n'
        '    "message": "No such customer: \'cus_nope\'",\n'
        '    "param": "id",\n'
        '    "type": "invalid_request_error"\n'
        "  }\n"
        "}\n"
    )


# --- strict decoding ------------------------------------------------------------------------------


def customer_count(service: CustomerService) -> int:
    return len(service.list(limit=100).data)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"name=%zz", "Invalid request: '%zz' is not a percent-escape (% and two hex digits); "),
        (b"name=Jenny%2", "Invalid request: '%2' is not a percent-escape (% and two hex digits); "),
        (b"name=%ff", "Invalid request: the form encoding is not valid UTF-8"),
        (b"name=%c3%28", "Invalid request: the form encoding is not valid UTF-8"),
        (b"name=\xff\xfe", "Invalid request: the form encoding is not valid UTF-8"),
    ],
)
def test_bad_escapes_and_bytes_that_are_not_utf8_are_400s_and_store_nothing(
    server_service: tuple[RunningServer, CustomerService], body: bytes, message: str
) -> None:
    server, service = server_service
    before = customer_count(service)
    status, _, text = raw_request(server, "POST", "/v1/customers", body)
    error = json.loads(text)["error"]
    assert status == 400 and error["type"] == "invalid_request_error"
    assert error["message"].startswith(message)
    assert customer_count(service) == before


def test_query_strings_are_decoded_as_strictly(server: RunningServer) -> None:
    for query in ("limit=%zz", "email=%ff%fe"):
        status, _, text = raw_request(server, "GET", f"/v1/customers?{query}")
        assert status == 400 and "Invalid request:" in json.loads(text)["error"]["message"]


@pytest.mark.parametrize(
    ("body", "param", "message"),
    [
        (b"metadata[]=x", "metadata", "Invalid object for metadata"),
        (b"address[]=x", "address", "Invalid object for address"),
        (
            b"preferred_locales[1]=fr&preferred_locales[]=en",
            "preferred_locales",
            "Invalid array: preferred_locales is given both with [] and with [index] or [key] "
            "(preferred_locales[]); write every item the same way, as in "
            "preferred_locales[]=a&preferred_locales[]=b or "
            "preferred_locales[0]=a&preferred_locales[1]=b.",
        ),
        (
            b"preferred_locales[]=fr&preferred_locales[0]=en",
            "preferred_locales",
            "Invalid array: preferred_locales is given both with [] and with [index] or [key] "
            "(preferred_locales[0]); write every item the same way, as in "
            "preferred_locales[]=a&preferred_locales[]=b or "
            "preferred_locales[0]=a&preferred_locales[1]=b.",
        ),
        (
            b"preferred_locales[1]=fr",
            "preferred_locales",
            "Invalid array: indexes must run 0, 1, 2, ... without gaps (given: 1)",
        ),
        (
            b"preferred_locales[0]=fr&preferred_locales[2]=en",
            "preferred_locales",
            "Invalid array: indexes must run 0, 1, 2, ... without gaps (given: 0, 2)",
        ),
    ],
)
def test_arrays_and_hashes_are_not_silently_rewritten(
    server_service: tuple[RunningServer, CustomerService],
    body: bytes,
    param: str,
    message: str,
) -> None:
    server, service = server_service
    before = customer_count(service)
    status, _, text = raw_request(server, "POST", "/v1/customers", body)
    assert status == 400
    assert json.loads(text)["error"] == {
        "message": message,
        "param": param,
        "type": "invalid_request_error",
    }
    assert customer_count(service) == before


def test_arrays_written_one_way_are_read_in_order(server: RunningServer) -> None:
    for body in (
        b"preferred_locales[]=fr&preferred_locales[]=en",
        b"preferred_locales[1]=en&preferred_locales[0]=fr",
    ):
        status, _, text = raw_request(server, "POST", "/v1/customers", body)
        assert status == 200 and json.loads(text)["preferred_locales"] == ["fr", "en"]


@pytest.mark.parametrize(
    ("content_type", "shown"),
    [
        (None, "no Content-Type"),
        ("text/plain; charset=utf-8", "unsupported Content-Type text/plain; charset=utf-8"),
        ("application/json", "unsupported Content-Type application/json"),
        (
            "multipart/form-data; boundary=x",
            "unsupported Content-Type multipart/form-data; boundary=x",
        ),
    ],
)
def test_a_body_that_is_not_declared_form_encoded_is_stripes_400(
    server_service: tuple[RunningServer, CustomerService], content_type: str | None, shown: str
) -> None:
    server, service = server_service
    before = customer_count(service)
    headers = {} if content_type is None else {"Content-Type": content_type}
    status, _, text = raw_request(server, "POST", "/v1/customers", b"name=Jenny", headers)
    assert status == 400
    assert json.loads(text)["error"] == {
        "message": f"Invalid request: {shown}. Send the body "
        "form-encoded, with Content-Type: application/x-www-form-urlencoded.",
        "type": "invalid_request_error",
    }
    assert customer_count(service) == before


def test_the_content_type_check_ignores_letter_case(server: RunningServer) -> None:
    for content_type in (
        "Application/X-WWW-Form-URLEncoded",
        "application/x-www-form-urlencoded ; Charset=UTF-8",
    ):
        status, _, text = raw_request(
            server, "POST", "/v1/customers", b"name=Jenny", {"Content-Type": content_type}
        )
        assert status == 200 and json.loads(text)["name"] == "Jenny"


# --- HEAD, OPTIONS and CORS -------------------------------------------------------------------

CORS = {
    "access-control-allow-origin": "*",
    "access-control-allow-credentials": "true",
    "access-control-allow-methods": "GET, HEAD, PUT, PATCH, POST, DELETE",
    "access-control-max-age": "300",
    "access-control-expose-headers": "Request-Id, Stripe-Version, Idempotency-Key, "
    "Idempotent-Replayed",
}


def test_head_answers_like_get_without_a_body(server: RunningServer) -> None:
    _, _, created = raw_request(server, "POST", "/v1/customers", b"name=Head")
    path = f"/v1/customers/{json.loads(created)['id']}"
    status, get_headers, get_body = raw_request(server, "GET", path)
    status, headers, body = raw_request(server, "HEAD", path)
    assert (status, body) == (200, "")
    assert headers["content-length"] == get_headers["content-length"] == str(len(get_body))
    assert headers["content-type"] == "application/json"
    status, headers, body = raw_request(server, "HEAD", "/v1/customers/cus_nope")
    assert (status, body) == (404, "")
    status, _, body = raw_request(server, "HEAD", "/v1/customers", auth=False)
    assert (status, body) == (401, "")


def test_a_cors_preflight_needs_no_key(server: RunningServer) -> None:
    status, headers, body = raw_request(
        server,
        "OPTIONS",
        "/v1/customers",
        headers={
            "Origin": "https://shop.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type, stripe-version",
        },
        auth=False,
    )
    assert (status, body) == (200, "")
    assert {name: headers[name] for name in CORS} == CORS
    assert headers["access-control-allow-headers"] == "authorization, content-type, stripe-version"
    status, headers, _ = raw_request(server, "OPTIONS", "/v1/customers/cus_x", auth=False)
    assert status == 200
    assert headers["access-control-allow-headers"] == (
        "Authorization, Content-Type, Idempotency-Key, Stripe-Version"
    )


def test_every_answer_carries_the_cors_headers(server: RunningServer) -> None:
    for method, path, auth in (
        ("GET", "/v1/customers", True),
        ("GET", "/v1/customers/cus_nope", True),
        ("GET", "/v1/customers", False),
        ("POST", "/v1/charges", True),
    ):
        _, headers, _ = raw_request(server, method, path, auth=auth)
        assert {name: headers[name] for name in CORS} == CORS, (method, path, auth)


# --- long URLs ------------------------------------------------------------------------------------


@pytest.fixture(scope="module", params=["h11", "httptools"])
def parser_server(request: pytest.FixtureRequest) -> Iterator[RunningServer]:
    with RunningServer(CustomerService(MemoryStore()), http=request.param) as server:
        yield server


def send_raw(server: RunningServer, request: bytes) -> bytes:
    """Send ``request`` whole, then read the answer until the server closes."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as connection:
        connection.sendall(request)
        return b"".join(iter(lambda: connection.recv(65536), b""))


@pytest.mark.parametrize("length", [9_000, 15_000, 100_000, 2_000_000])
def test_a_url_too_long_gets_a_414_with_either_parser(
    parser_server: RunningServer, length: int
) -> None:
    target = b"/v1/customers?email=" + b"a" * length
    answer = send_raw(
        parser_server,
        b"GET " + target + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Authorization: Bearer " + API_KEY.encode() + b"\r\n\r\n",
    )
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.split(b"\r\n")[0].startswith(b"HTTP/1.1 414 ")
    assert json.loads(body)["error"] == {
        "message": "Request URL too long: the limit is 8192 bytes.",
        "type": "invalid_request_error",
    }


def test_a_url_at_the_limit_reaches_the_api(parser_server: RunningServer) -> None:
    path = "/v1/customers?email=" + "a" * (8192 - len("/v1/customers?email="))
    status, _, text = raw_request(parser_server, "GET", path)
    assert status == 400
    assert json.loads(text)["error"]["param"] == "email"  # too long for an email, not a URL


# --- large headers ----------------------------------------------------------------------------


def head_with(header_bytes: int) -> bytes:
    """A GET whose one extra header's name and value hold ``header_bytes`` bytes."""
    value = b"a" * (header_bytes - len(b"x-big"))
    return (
        b"GET /v1/customers HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
        b"Authorization: Bearer " + API_KEY.encode() + b"\r\nX-Big: " + value + b"\r\n\r\n"
    )


@pytest.mark.parametrize("size", [20_000, 200_000, 3_000_000])
def test_headers_over_the_limit_get_a_431_with_either_parser(
    parser_server: RunningServer, size: int
) -> None:
    answer = send_raw(parser_server, head_with(size))
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.split(b"\r\n")[0] == b"HTTP/1.1 431 Request Header Fields Too Large"
    assert json.loads(body)["error"] == {
        "message": "Request headers too large: the limit is 16384 bytes.",
        "type": "invalid_request_error",
    }


def test_headers_under_the_limit_reach_the_api(parser_server: RunningServer) -> None:
    answer = send_raw(parser_server, head_with(12_000))
    assert answer.split(b"\r\n")[0] == b"HTTP/1.1 200 OK"


def test_a_long_wrong_key_is_not_echoed_whole(server: RunningServer) -> None:
    key = "sk_test_" + "a" * 10_000
    status, _, text = raw_request(
        server, "GET", "/v1/customers", auth=False, headers={"Authorization": f"Bearer {key}"}
    )
    assert status == 401
    message = json.loads(text)["error"]["message"]
    assert message == "Invalid API Key provided: sk_test_" + "*" * 96 + "aaaa"
