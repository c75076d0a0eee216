"""The pytest plugin (entry point ``customer_core``), run through pytest's own pytester."""

from __future__ import annotations

import socket

import pytest
from stripe import _api_requestor

from customer_core import CustomerService, MemoryStore, Store

pytest_plugins = ["pytester"]

IN_PROCESS_FIXTURES = """
import stripe
from customer_core import MemoryStore, SQLiteStore

FIRST_ID = []


def test_service_clock_and_client(customer_service, customer_clock, stripe_client, request):
    kind = request.config.getoption("--customer-core-store")
    store_type = MemoryStore if kind == "memory" else SQLiteStore
    assert type(customer_service.store) is store_type
    made = stripe_client.v1.customers.create(params={"email": "jenny@example.com"})
    assert made.created == 1_700_000_000
    assert customer_service.retrieve(made.id).email == "jenny@example.com"
    customer_clock.advance(60)
    assert customer_service.create().created == 1_700_000_060
    FIRST_ID.append(made.id)


def test_each_test_gets_a_fresh_service_with_the_same_ids(customer_service, stripe_mock):
    assert customer_service.list().data == []
    stripe.api_key = "sk_test_anything"
    try:
        made = stripe.Customer.create(email="jenny@example.com")
    finally:
        stripe.api_key = None
    assert made.id == FIRST_ID[0]
    assert stripe_mock.service is customer_service and stripe_mock.active
"""


@pytest.mark.parametrize("store", ["memory", "sqlite"])
def test_in_process_fixtures(pytester: pytest.Pytester, store: str) -> None:
    pytester.makepyfile(test_fixtures=IN_PROCESS_FIXTURES)
    original = _api_requestor._APIRequestor.__dict__["_get_http_client"]
    result = pytester.runpytest(f"--customer-core-store={store}")
    result.assert_outcomes(passed=2)
    assert _api_requestor._APIRequestor.__dict__["_get_http_client"] is original


def test_the_plugin_is_off_with_p_no_customer_core(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_off="def test_needs_it(customer_service):\n    pass\n",
    )
    result = pytester.runpytest("-p", "no:customer_core")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*fixture 'customer_service' not found*"])
    assert "--customer-core-store" not in "\n".join(
        pytester.runpytest("-p", "no:customer_core", "--help").outlines
    )


SERVER_TESTS = """
import pathlib

SEEN = []


def _run(customer_server):
    client = customer_server.stripe_client(max_network_retries=0)
    made = client.v1.customers.create(params={"email": "jenny@example.com"})
    listed = [c.id for c in client.v1.customers.list().data]
    SEEN.append((made.id, made.created, listed))
    pathlib.Path("base_url.txt").write_text(customer_server.base_url)


def test_first(customer_server):
    assert customer_server.base_url.startswith("http://127.0.0.1:")
    assert customer_server.api_key
    _run(customer_server)


def test_second_sees_a_reset_server(customer_server):
    _run(customer_server)
    first, second = SEEN
    assert first == second
    assert first[1] == 1_700_000_000 and first[2] == [first[0]]
"""


@pytest.mark.parametrize("store", ["memory", "sqlite"])
def test_customer_server_is_shared_and_reset_between_tests(
    pytester: pytest.Pytester, store: str
) -> None:
    pytester.makepyfile(test_server=SERVER_TESTS)
    result = pytester.runpytest(f"--customer-core-store={store}")
    result.assert_outcomes(passed=2)
    host, port = (pytester.path / "base_url.txt").read_text().removeprefix("http://").split(":")
    with pytest.raises(OSError), socket.create_connection((host, int(port)), timeout=2):
        pass  # the server is gone with the test run


def test_the_reset_route_needs_the_key(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_reset="""
import http.client


def test_reset_without_the_key(customer_server):
    host, port = customer_server.base_url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        connection.request("POST", "/_customer_core/reset")
        answer = connection.getresponse()
        assert answer.status == 401
    finally:
        connection.close()
"""
    )
    pytester.runpytest().assert_outcomes(passed=1)


def test_plugin_fixtures_live_beside_the_projects_own(
    customer_service: CustomerService, service: CustomerService, store: Store
) -> None:
    # This suite's conftest has store, clock and service; the plugin's names differ.
    assert customer_service is not service
    assert isinstance(customer_service.store, MemoryStore)
    assert type(store).__name__ in {"MemoryStore", "SQLiteStore", "PostgresStore"}


SETTINGS_LEFT_BEHIND = """
import stripe


NAMES = (
    "api_key", "max_network_retries", "proxy", "verify_ssl_certs", "log", "enable_telemetry",
    "app_info", "api_base", "connect_api_base", "upload_api_base", "ca_bundle_path",
    "api_version",
)
BEFORE = {name: getattr(stripe, name) for name in NAMES}


def test_sets_the_key_and_leaves_it(stripe_mock):
    stripe.api_key = "sk_test_left_behind"
    stripe.max_network_retries = 5
    stripe.proxy = "http://127.0.0.1:9"
    stripe.verify_ssl_certs = False
    stripe.log = "debug"
    stripe.enable_telemetry = False
    stripe.set_app_info("left-behind", version="1.0")
    stripe.connect_api_base = stripe.upload_api_base = "http://127.0.0.1:9"
    stripe.ca_bundle_path = "/nonexistent.pem"
    assert stripe.Customer.create(email="jenny@example.com").email == "jenny@example.com"


def test_a_later_test_sees_the_packages_own_settings():
    assert {name: getattr(stripe, name) for name in NAMES} == BEFORE
    assert BEFORE["proxy"] is None and BEFORE["max_network_retries"] == 2
"""


def test_stripe_mock_puts_the_packages_settings_back(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_settings=SETTINGS_LEFT_BEHIND)
    result = pytester.runpytest()
    result.assert_outcomes(passed=2)
