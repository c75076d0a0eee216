"""The HTTP server and the in-process transport, driven by the official stripe SDK."""

from __future__ import annotations

import base64
import http.client
import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import stripe
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from customer_core import CustomerService, MemoryStore
from customer_core.http import RequestTimeouts
from customer_core.http.api import StripeAPI
from customer_core.http.protocols import HTTP
from customer_core.http.server import bound_socket, build_server
from customer_core.testing import StripeHTTPClient

from .test_customer_object import FULL

API_KEY = "sk_test_customer_core_0123456789abcdef"


class RunningServer:
    """A uvicorn server on 127.0.0.1, on a port this test opened itself."""

    def __init__(
        self,
        service: CustomerService,
        http: HTTP = "auto",
        timeouts: RequestTimeouts | None = None,
    ) -> None:
        self.socket = bound_socket("127.0.0.1", 0)
        self.port = self.socket.getsockname()[1]
        self.service = service
        self.server = build_server(
            service, [API_KEY], log_level="warning", http=http, timeouts=timeouts
        )
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.socket]}, daemon=True
        )

    def __enter__(self) -> RunningServer:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        self.socket.close()

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        auth: bool = True,
        chunks: list[bytes] | None = None,
    ) -> tuple[int, dict[str, str], Any]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            sent = {"Authorization": f"Bearer {API_KEY}"} if auth else {}
            sent.update(headers or {})
            if chunks is not None:
                connection.putrequest(method, path)
                for name, value in {**sent, "Transfer-Encoding": "chunked"}.items():
                    connection.putheader(name, value)
                connection.endheaders()
                try:
                    for chunk in chunks:
                        connection.send(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                    connection.send(b"0\r\n\r\n")
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the server answered 413 and closed while we were still sending
            else:
                connection.request(method, path, body=body, headers=sent)
            response = connection.getresponse()
            return (
                response.status,
                {k.lower(): v for k, v in response.getheaders()},
                json.loads(response.read()),
            )
        finally:
            connection.close()


@pytest.fixture(scope="module")
def server_service() -> Iterator[tuple[RunningServer, CustomerService]]:
    service = CustomerService(MemoryStore())
    with RunningServer(service) as server:
        yield server, service


@pytest.fixture
def server(server_service: tuple[RunningServer, CustomerService]) -> RunningServer:
    return server_service[0]


@pytest.fixture(params=["server", "in_process"])
def client(
    request: pytest.FixtureRequest, server_service: tuple[RunningServer, CustomerService]
) -> stripe.StripeClient:
    if request.param == "server":
        server = server_service[0]
        return stripe.StripeClient(
            API_KEY,
            base_addresses={"api": f"http://127.0.0.1:{server.port}"},
            max_network_retries=0,
        )
    return stripe.StripeClient(
        API_KEY, http_client=StripeHTTPClient(CustomerService(MemoryStore())), max_network_retries=0
    )


# --- the official SDK, through the server and in process -----------------------------------


def test_create_with_every_param_and_retrieve(client: stripe.StripeClient) -> None:
    created = client.v1.customers.create(params=FULL)  # type: ignore[arg-type]
    assert created.email == "jenny@example.com"
    assert created.invoice_settings.custom_fields[0].name == "PO"  # type: ignore[index,union-attr]
    assert created.shipping.address.city == "Berlin"  # type: ignore[union-attr]
    assert created.preferred_locales == ["fr", "en"]
    assert created.balance == -500 and created.next_invoice_sequence == 7
    retrieved = client.v1.customers.retrieve(created.id)
    assert retrieved.to_dict() == created.to_dict()


def test_update_merges_and_unsets_metadata(client: stripe.StripeClient) -> None:
    customer = client.v1.customers.create(params={"metadata": {"a": "1", "b": "2"}})
    updated = client.v1.customers.update(customer.id, params={"metadata": {"a": "", "c": "3"}})
    assert updated.metadata.to_dict() == {"b": "2", "c": "3"}
    cleared = client.v1.customers.update(
        customer.id, params={"metadata": "", "address": {"city": "Paris"}}
    )  # type: ignore[typeddict-item]
    assert cleared.metadata.to_dict() == {} and cleared.address.city == "Paris"  # type: ignore[union-attr]


def test_deleted_customers_are_retrievable_stubs(client: stripe.StripeClient) -> None:
    customer = client.v1.customers.create()
    deleted = client.v1.customers.delete(customer.id)
    assert deleted.to_dict() == {"id": customer.id, "object": "customer", "deleted": True}
    assert client.v1.customers.retrieve(customer.id).to_dict() == {
        "id": customer.id,
        "object": "customer",
        "deleted": True,
    }


def test_list_auto_pagination_walks_every_customer(client: stripe.StripeClient) -> None:
    email = f"page-{time.monotonic_ns()}@example.com"
    made = [client.v1.customers.create(params={"email": email}).id for _ in range(23)]
    seen = [
        c.id
        for c in client.v1.customers.list(params={"limit": 10, "email": email}).auto_paging_iter()
    ]
    assert seen == made[::-1]


def test_search_through_the_sdk(client: stripe.StripeClient) -> None:
    tag = str(time.monotonic_ns())
    made = [client.v1.customers.create(params={"metadata": {"tag": tag}}).id for _ in range(3)]
    result = client.v1.customers.search(params={"query": f'metadata["tag"]:"{tag}"', "limit": 2})
    assert [c.id for c in result.data] == made[:0:-1] and result.has_more
    rest = client.v1.customers.search(
        params={"query": f'metadata["tag"]:"{tag}"', "page": result.next_page}
    )  # type: ignore[typeddict-item]
    assert [c.id for c in rest.data] == made[:1]


def test_errors_surface_as_stripe_invalid_request_errors(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.customers.create(params={"email": "not-an-email"})
    assert (caught.value.code, caught.value.param, caught.value.http_status) == (
        "email_invalid",
        "email",
        400,
    )
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.customers.retrieve("cus_missing")
    assert (caught.value.code, caught.value.param, caught.value.http_status) == (
        "resource_missing",
        "id",
        404,
    )
    assert caught.value.user_message == "No such customer: 'cus_missing'"
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.customers.create(params={"bogus": "1"})  # type: ignore[typeddict-unknown-key]
    assert (caught.value.code, caught.value.param) == ("parameter_unknown", "bogus")


def test_idempotent_retries_return_the_same_customer(client: stripe.StripeClient) -> None:
    key = f"key-{time.monotonic_ns()}"
    first = client.v1.customers.create(
        params={"email": "idem@example.com"}, options={"idempotency_key": key}
    )
    again = client.v1.customers.create(
        params={"email": "idem@example.com"}, options={"idempotency_key": key}
    )
    assert again.id == first.id
    with pytest.raises(stripe.IdempotencyError):
        client.v1.customers.create(
            params={"email": "other@example.com"}, options={"idempotency_key": key}
        )


# --- what only the server does: auth, limits, routes ----------------------------------------


def test_missing_and_wrong_keys_are_401s_that_never_echo_the_key(server: RunningServer) -> None:
    status, _, body = server.request("GET", "/v1/customers", auth=False)
    assert status == 401 and body["error"]["type"] == "invalid_request_error"
    assert body["error"]["message"].startswith("You did not provide an API key.")
    wrong = "sk_test_wrongwrongwrong9876"
    status, _, body = server.request(
        "GET", "/v1/customers", auth=False, headers={"Authorization": f"Bearer {wrong}"}
    )
    assert status == 401
    assert body["error"]["message"] == "Invalid API Key provided: sk_test_***************9876"
    assert wrong not in json.dumps(body)
    with pytest.raises(stripe.AuthenticationError):
        stripe.StripeClient(
            wrong, base_addresses={"api": f"http://127.0.0.1:{server.port}"}
        ).v1.customers.list()


def test_basic_auth_with_the_key_as_user_is_accepted(server: RunningServer) -> None:
    basic = base64.b64encode(f"{API_KEY}:".encode()).decode()
    status, headers, body = server.request(
        "GET", "/v1/customers?limit=1", auth=False, headers={"Authorization": f"Basic {basic}"}
    )
    assert status == 200 and body["object"] == "list"
    assert (
        headers["request-id"].startswith("req_") and headers["content-type"] == "application/json"
    )


def test_bodies_over_one_mebibyte_are_refused(server: RunningServer) -> None:
    big = b"description=" + b"x" * (1024 * 1024)
    status, _, body = server.request(
        "POST",
        "/v1/customers",
        body=big,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert (
        status == 413
        and body["error"]["message"] == "Request body too large: the limit is 1048576 bytes."
    )
    status, _, body = server.request(
        "POST",
        "/v1/customers",
        chunks=[b"description=" + b"x" * 65536] * 20,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert status == 413 and body["error"]["type"] == "invalid_request_error"


def test_malformed_requests_get_stripe_errors(server: RunningServer) -> None:
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    status, _, body = server.request(
        "POST", "/v1/customers", body=b"a[b][c][d][e][f][g]=1", headers=form
    )
    assert status == 400 and "nested too deeply" in body["error"]["message"]
    status, _, body = server.request(
        "POST",
        "/v1/customers",
        body=b'{"email": "a@b.co"}',
        headers={"Content-Type": "application/json"},
    )
    assert status == 400 and "form-encoded" in body["error"]["message"]
    status, _, body = server.request("GET", "/v1/charges")
    assert status == 404 and body["error"]["message"].startswith(
        "Unrecognized request URL (GET: /v1/charges)."
    )
    status, _, body = server.request("PUT", "/v1/customers")
    assert status == 404 and body["error"]["type"] == "invalid_request_error"
    # A base address given with a trailing slash (trial 7): the 404 says so.
    status, _, body = server.request("GET", "//v1/customers")
    assert status == 404 and body["error"]["message"] == (
        "Unrecognized request URL (GET: //v1/customers). The path starts with two slashes: "
        "does the API base address you gave end with a slash? Give it without one "
        "(http://127.0.0.1:12111, not http://127.0.0.1:12111/). Please see "
        "https://stripe.com/docs or we can help at https://support.stripe.com/."
    )
    status, _, body = server.request("POST", "/v1/customers", body=b"\xff\xfe=1", headers=form)
    assert status == 400 and body["error"]["type"] == "invalid_request_error"


def test_the_server_binds_loopback_by_default() -> None:
    server = build_server(CustomerService(MemoryStore()), [API_KEY])
    assert server.config.host == "127.0.0.1"


# --- random requests: only well-formed Stripe error bodies or success ------------------------

API = StripeAPI(CustomerService(MemoryStore()), [API_KEY])
PATHS = st.one_of(
    st.sampled_from(
        [
            "/v1/customers",
            "/v1/customers/search",
            "/v1/customers/cus_x",
            "/v1/customers/",
            "/v1/x",
            "/",
        ]
    ),
    st.text(max_size=20).map(lambda t: "/v1/customers/" + t),
)
NAMES = st.one_of(
    st.sampled_from(
        [
            "email",
            "name",
            "metadata[k]",
            "expand[]",
            "limit",
            "query",
            "address[city]",
            "invoice_settings[custom_fields][0][name]",
            "balance",
            "a[b][c]",
        ]
    ),
    st.text(max_size=10),
)
BODIES = st.one_of(
    st.binary(max_size=200),
    st.lists(st.tuples(NAMES, st.text(max_size=20)), max_size=6).map(
        lambda pairs: "&".join(f"{name}={value}" for name, value in pairs).encode(
            "utf-8", "surrogatepass"
        )
    ),
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    method=st.sampled_from(["GET", "POST", "DELETE", "PUT"]),
    path=PATHS,
    body=BODIES,
    query=st.text(max_size=40),
)
def test_random_requests_get_success_or_a_well_formed_error(
    method: str, path: str, body: bytes, query: str
) -> None:
    answer = API.handle(method, path, query, {"authorization": f"Bearer {API_KEY}"}, body)
    payload = answer.json()
    if answer.status == 200:
        assert payload["object"] in ("customer", "list", "search_result")
    else:
        assert answer.status in (400, 404, 409)
        assert set(payload) == {"error"}
        assert isinstance(payload["error"]["message"], str) and payload["error"]["type"] in (
            "invalid_request_error",
            "idempotency_error",
        )


def test_ids_are_percent_decoded_once(server: RunningServer) -> None:
    status, _, body = server.request("GET", "/v1/customers/cus_a%2525b")
    assert status == 404 and body["error"]["message"] == "No such customer: 'cus_a%25b'"
    answer = StripeAPI(CustomerService(MemoryStore()), None).handle(
        "GET", "/v1/customers/cus_a%2525b", "", {}, b""
    )
    assert answer.json()["error"]["message"] == "No such customer: 'cus_a%25b'"


def test_unknown_routes_are_404_before_any_decoding(server: RunningServer) -> None:
    status, _, body = server.request(
        "POST",
        "/v1/charges",
        body=b"a[b][c][d][e][f][g]=1",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert status == 404 and body["error"]["message"].startswith(
        "Unrecognized request URL (POST: /v1/charges)."
    )
