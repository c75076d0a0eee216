"""mock_stripe(): the stripe package, global style and StripeClient, sync and async, in-process."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import stripe
from stripe import _api_requestor

from customer_core import CustomerService, MemoryStore
from customer_core.testing import FakeClock, StripeHTTPClient, StripeMock, mock_stripe

Requestor = _api_requestor._APIRequestor


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Any socket connection in these tests fails the test: nothing may reach the network."""
    attempts: list[object] = []

    def refuse(*args: Any, **kwargs: Any) -> None:
        attempts.append(args)
        raise AssertionError(f"a network connection was attempted: {args}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(stripe, "api_key", "sk_test_global")
    monkeypatch.setattr(stripe, "max_network_retries", 0)
    yield
    assert attempts == []


@pytest.fixture
def service() -> CustomerService:
    return CustomerService(MemoryStore(), clock=FakeClock(), seed=5)


def _patched_state() -> tuple[object, object, object]:
    return (Requestor.__dict__["_get_http_client"], stripe.default_http_client, stripe.api_key)


def test_global_style_reaches_the_service(service: CustomerService) -> None:
    with mock_stripe(service) as active:
        assert active is service
        jenny = stripe.Customer.create(email="jenny@example.com", metadata={"plan": "gold"})
        assert service.retrieve(jenny.id).email == "jenny@example.com"
        assert stripe.Customer.retrieve(jenny.id).metadata.to_dict() == {"plan": "gold"}
        assert stripe.Customer.modify(jenny.id, name="Jenny Rosen").name == "Jenny Rosen"
        others = [stripe.Customer.create(email=f"user{n}@example.com").id for n in range(4)]
        page = stripe.Customer.list(limit=2)
        assert [c.id for c in page.data] == others[:-3:-1] and page.has_more is True
        every = [customer.id for customer in page.auto_paging_iter()]
        assert every == [*others[::-1], jenny.id]
        found = stripe.Customer.search(query='metadata["plan"]:"gold"')
        assert [c.id for c in found.data] == [jenny.id]
        deleted = stripe.Customer.delete(jenny.id)
        assert (deleted.id, deleted.deleted) == (jenny.id, True)
        assert stripe.Customer.retrieve(jenny.id).to_dict() == {
            "id": jenny.id,
            "object": "customer",
            "deleted": True,
        }
        with pytest.raises(stripe.InvalidRequestError) as caught:
            stripe.Customer.retrieve("cus_missing")
        assert caught.value.http_status == 404
        assert caught.value.user_message == "No such customer: 'cus_missing'"


def test_stripe_clients_built_without_an_http_client_reach_the_service(
    service: CustomerService,
) -> None:
    before = stripe.StripeClient("sk_test_before")  # a real transport, built earlier
    with mock_stripe(service):
        during = stripe.StripeClient("sk_test_during")
        created = during.v1.customers.create(params={"email": "during@example.com"})
        assert before.v1.customers.retrieve(created.id).email == "during@example.com"
        assert [c.id for c in before.v1.customers.list().auto_paging_iter()] == [created.id]
        raw = during.raw_request("get", f"/v1/customers/{created.id}")
        assert during.deserialize(raw, api_mode="V1").email == "during@example.com"
    # Afterwards both clients have their own network transport again (not called here).
    for client in (before, during):
        transport = client._requestor._get_http_client()
        assert not isinstance(transport, StripeHTTPClient)


def test_async_methods_reach_the_service(service: CustomerService) -> None:
    async def scenario() -> list[Any]:
        client = stripe.StripeClient("sk_test_async")
        made = await client.v1.customers.create_async(params={"email": "a@example.com"})
        second = await stripe.Customer.create_async(email="b@example.com")
        fetched = await stripe.Customer.retrieve_async(made.id)
        changed = await client.v1.customers.update_async(made.id, params={"name": "A"})
        page = await stripe.Customer.list_async(limit=1)
        listed = [customer.id async for customer in page.auto_paging_iter()]
        searched = await client.v1.customers.search_async(params={"query": 'email:"b@example.com"'})
        gone = await stripe.Customer.delete_async(second.id)
        found = [c.id for c in searched.data]
        return [made.id, second.id, fetched.email, changed.name, listed, found, gone.deleted]

    with mock_stripe(service):
        first, second, fetched, name, listed, searched, deleted = asyncio.run(scenario())
    assert (fetched, name, deleted) == ("a@example.com", "A", True)
    assert listed == [second, first] and searched == [second]
    assert [c.id for c in service.list().data] == [first]
    assert service.retrieve(first).name == "A"


def test_an_endpoint_not_emulated_is_a_clear_stripe_error(service: CustomerService) -> None:
    with mock_stripe(service):
        with pytest.raises(stripe.InvalidRequestError) as caught:
            stripe.Charge.create(amount=100, currency="usd")
        assert caught.value.http_status == 404
        assert "customer_core does not emulate POST /v1/charges" in str(caught.value.user_message)
        client = stripe.StripeClient("sk_test_x")
        with pytest.raises(stripe.InvalidRequestError, match="does not emulate GET /v1/balance"):
            client.v1.balance.retrieve()
        with pytest.raises(stripe.InvalidRequestError, match="does not emulate GET /v1/files"):
            client.v1.files.list()  # files.stripe.com and other hosts stay in-process too


def test_everything_is_restored_on_exit_and_on_exceptions(service: CustomerService) -> None:
    before = _patched_state()
    original = Requestor.__dict__["_get_http_client"]
    with mock_stripe(service):
        assert Requestor.__dict__["_get_http_client"] is not original
    assert _patched_state() == before
    with pytest.raises(RuntimeError, match="boom"), mock_stripe(service):
        raise RuntimeError("boom")
    assert _patched_state() == before
    mock = mock_stripe(service)
    mock.start()
    mock.stop()
    assert _patched_state() == before and not mock.active


def test_mocks_nest_and_the_innermost_answers() -> None:
    outer_service = CustomerService(MemoryStore())
    inner_service = CustomerService(MemoryStore())
    with mock_stripe(outer_service):
        first = stripe.Customer.create(email="outer@example.com")
        with mock_stripe(inner_service):
            second = stripe.Customer.create(email="inner@example.com")
            with pytest.raises(stripe.InvalidRequestError):
                stripe.Customer.retrieve(first.id)
        assert stripe.Customer.retrieve(first.id).email == "outer@example.com"
        with pytest.raises(stripe.InvalidRequestError):
            stripe.Customer.retrieve(second.id)
    assert [c.id for c in outer_service.list().data] == [first.id]
    assert [c.id for c in inner_service.list().data] == [second.id]


def test_stops_out_of_order_and_repeated_use() -> None:
    before = _patched_state()
    first, second = mock_stripe(), mock_stripe()
    first_service, second_service = first.start(), second.start()
    first.stop()  # not the innermost: the second keeps answering
    made = stripe.Customer.create(email="x@example.com")
    assert second_service.retrieve(made.id).email == "x@example.com"
    assert first_service.list().data == []
    second.stop()
    assert _patched_state() == before
    again = second.start()  # a fresh service on each start without a given one
    assert again is not second_service and again.list().data == []
    with pytest.raises(RuntimeError, match="already started"):
        second.start()
    second.stop()
    with pytest.raises(RuntimeError, match="not started"):
        second.stop()


def test_decorates_sync_and_async_functions_each_call_fresh() -> None:
    seen: list[int] = []

    @mock_stripe()
    def sync_test() -> str:
        seen.append(len(stripe.Customer.list().data))
        return str(stripe.Customer.create(email="s@example.com").email)

    @mock_stripe()
    async def async_test() -> str:
        seen.append(len((await stripe.Customer.list_async()).data))
        return str((await stripe.Customer.create_async(email="a@example.com")).email)

    assert sync_test.__name__ == "sync_test"
    assert [sync_test(), sync_test()] == ["s@example.com"] * 2
    assert asyncio.run(async_test()) == "a@example.com"
    assert asyncio.run(async_test()) == "a@example.com"
    assert seen == [0, 0, 0, 0]


def test_a_client_with_its_own_in_process_transport_keeps_its_service(
    service: CustomerService,
) -> None:
    own = CustomerService(MemoryStore())
    client = stripe.StripeClient("sk_test_own", http_client=StripeHTTPClient(own))
    with mock_stripe(service):
        made = client.v1.customers.create(params={"email": "own@example.com"})
    assert [c.id for c in own.list().data] == [made.id] and service.list().data == []


def test_api_keys_are_checked_when_given(service: CustomerService) -> None:
    with mock_stripe(service, api_keys=["sk_test_right"]):
        with pytest.raises(stripe.AuthenticationError):
            stripe.Customer.create(email="x@example.com")
        right = stripe.StripeClient("sk_test_right")
        assert right.v1.customers.create(params={"email": "x@example.com"}).email


def test_requests_from_other_threads_reach_the_mock(service: CustomerService) -> None:
    made: list[str] = []
    with mock_stripe(service):
        worker = threading.Thread(
            target=lambda: made.append(stripe.Customer.create(email="t@example.com").id)
        )
        worker.start()
        worker.join()
    assert [c.id for c in service.list().data] == made


def test_the_mock_object_reports_its_service() -> None:
    mock = mock_stripe()
    assert isinstance(mock, StripeMock) and not mock.active
    with pytest.raises(RuntimeError, match="not started, so it has no service yet"):
        mock.service  # noqa: B018 (test_mock_service.py: the whole message)
    with mock as service:
        assert mock.service is service and mock.active


def test_an_empty_api_key_is_refused_as_the_server_refuses_it(service: CustomerService) -> None:
    # `stripe.api_key = os.getenv("STRIPE_KEY", "")` must fail under the mock as in production.
    with mock_stripe(service):
        stripe.api_key = ""
        with pytest.raises(stripe.AuthenticationError) as caught:
            stripe.Customer.create(email="e@x.io")
        assert caught.value.http_status == 401
        assert str(caught.value.user_message).startswith("You did not provide an API key.")
        stripe.api_key = "sk_test_any"
        assert stripe.Customer.create(email="e@x.io").email == "e@x.io"
    assert service.list().data[0].email == "e@x.io" and len(service.list().data) == 1
    client = stripe.StripeClient("", http_client=StripeHTTPClient(service))
    with pytest.raises(stripe.AuthenticationError):
        client.v1.customers.list()


# --- the caller's own HTTP client's rules ------------------------------------------------


def _httpx_client(
    client_type: type[stripe.HTTPXClient] = stripe.HTTPXClient, **options: Any
) -> stripe.HTTPXClient:
    """An HTTPXClient over a stand-in for httpx (not a test dependency): its sync rule is
    the SDK's own (``allow_sync_methods``); the stand-in is never asked for a request."""

    class Unused:
        def __init__(self, **options: Any) -> None:
            pass

    return client_type(_lib=type("httpx", (), {"Client": Unused, "AsyncClient": Unused}), **options)


def test_a_sync_call_through_a_client_that_refuses_sync_is_refused_as_without_the_mock(
    service: CustomerService,
) -> None:
    client = stripe.StripeClient("sk_test_x", http_client=_httpx_client())
    with mock_stripe(service), pytest.raises(RuntimeError) as refused:
        client.v1.customers.create(params={"email": "a@example.com"})
    assert str(refused.value) == (
        "Stripe: HTTPXClient was initialized with allow_sync_methods=False, "
        "so it cannot be used for synchronous requests."
    )
    assert service.list().data == []
    allowed = stripe.StripeClient("sk_test_x", http_client=_httpx_client(allow_sync_methods=True))
    with mock_stripe(service):
        made = allowed.v1.customers.create(params={"email": "a@example.com"})
    assert [c.id for c in service.list().data] == [made.id]


def test_an_async_call_through_a_client_without_async_is_refused_as_without_the_mock(
    service: CustomerService, monkeypatch: pytest.MonkeyPatch
) -> None:
    sync_only = stripe.StripeClient("sk_test_x", http_client=stripe.UrllibClient())
    fallback = stripe.UrllibClient(async_fallback_client=_httpx_client())
    with_fallback = stripe.StripeClient("sk_test_x", http_client=fallback)

    async def create(client: stripe.StripeClient) -> str:
        return (await client.v1.customers.create_async(params={"name": "A"})).id

    with mock_stripe(service):
        with pytest.raises(NotImplementedError, match="must implement `request_async`"):
            asyncio.run(create(sync_only))
        assert service.list().data == []
        made = [sync_only.v1.customers.create(params={"name": "B"}).id]  # sync: fine
        made.append(asyncio.run(create(with_fallback)))  # its fallback makes async calls
        # Global style with a default client the caller set: its rules too.
        monkeypatch.setattr(stripe, "default_http_client", stripe.UrllibClient())
        with pytest.raises(NotImplementedError, match="must implement `request_async`"):
            asyncio.run(stripe.Customer.create_async(name="C"))
        made.append(stripe.Customer.create(name="D").id)
    assert [c.id for c in service.list().data] == made[::-1]
    assert [c.name for c in service.list().data] == ["D", "A", "B"]


def test_the_refusal_is_the_sdks_own_and_a_subclass_that_can_is_served(
    service: CustomerService,
) -> None:
    # AIOHTTPClient's own sync ``request`` refuses as this SDK version does (its words,
    # its exception class, whatever they are), and the mock refuses with just that.
    aiohttp_client = stripe.AIOHTTPClient(_lib=object())
    with pytest.raises(Exception) as direct:
        aiohttp_client.request("get", "https://api.stripe.com/v1/customers", {}, None)
    client = stripe.StripeClient("sk_test_x", http_client=aiohttp_client)
    with mock_stripe(service), pytest.raises(type(direct.value)) as mocked:
        client.v1.customers.create(params={"name": "A"})
    assert str(mocked.value) == str(direct.value)

    class SyncToo(stripe.HTTPXClient):
        """Makes sync requests its own way: its ``request`` is never the SDK's refusal."""

        def request(self, *args: Any, **kwargs: Any) -> Any:
            raise AssertionError("the mock answers; this client is never asked")

    subclass = stripe.StripeClient("sk_test_x", http_client=_httpx_client(SyncToo))
    with mock_stripe(service):
        made = subclass.v1.customers.create(params={"name": "B"})
    assert [c.name for c in service.list().data] == [made.name] == ["B"]
