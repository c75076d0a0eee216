"""Where the HTTP server runs store calls: a store that may block (SQLite, PostgreSQL) on
worker threads, so a wait holds up no other request; the memory store, which never
blocks, on the event loop, sparing each request a thread hop."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from customer_core import CustomerService, MemoryStore, SQLiteStore, Store
from customer_core.http.api import StripeAPI
from customer_core.http.app import CustomerCoreApp

from .test_http import RunningServer


def calling_threads(store: Store) -> list[str]:
    """The names of the threads that call ``get`` on a store, gathered by a wrapper."""
    names: list[str] = []
    original = store.get

    def get(customer_id: str) -> Any:
        names.append(threading.current_thread().name)
        return original(customer_id)

    store.get = get  # type: ignore[method-assign]
    return names


def test_stores_say_whether_their_calls_may_block(tmp_path: Path) -> None:
    assert MemoryStore.may_block is False
    assert SQLiteStore.may_block is True
    assert Store.may_block is True  # a store that says nothing is run off the loop
    with SQLiteStore(tmp_path / "c.db") as durable:
        assert CustomerCoreApp(StripeAPI(CustomerService(durable), ["k"])).inline is False
    memory = StripeAPI(CustomerService(MemoryStore()), ["k"])
    assert CustomerCoreApp(memory).inline is True
    assert CustomerCoreApp(memory, inline=False).inline is False


def test_the_memory_store_is_called_on_the_event_loop() -> None:
    store = MemoryStore()
    service = CustomerService(store)
    customer = service.create(email="loop@example.com")
    names = calling_threads(store)
    with RunningServer(service) as server:
        status, _, body = server.request("GET", f"/v1/customers/{customer.id}")
        assert (status, body["id"]) == (200, customer.id)
        loop_thread = server.thread.name
    assert names == [loop_thread]


def test_a_store_that_may_block_is_called_on_worker_threads(tmp_path: Path) -> None:
    with SQLiteStore(tmp_path / "c.db") as store:
        service = CustomerService(store)
        customer = service.create(email="pool@example.com")
        names = calling_threads(store)
        with RunningServer(service) as server:
            status, _, _ = server.request("GET", f"/v1/customers/{customer.id}")
            assert status == 200
            status, _, _ = server.request(
                "POST",
                f"/v1/customers/{customer.id}",
                b"name=Jenny",
                {"Content-Type": "application/x-www-form-urlencoded"},
            )
            assert status == 200
    assert [name.rsplit("_", 1)[0] for name in names] == [
        "customer-core-read",
        "customer-core-write",
    ]


def test_subscribers_send_memory_store_calls_to_worker_threads() -> None:
    # A subscriber runs in the writing thread and may block: not on the event loop.
    store = MemoryStore()
    service = CustomerService(store)
    customer = service.create(email="subscribed@example.com")
    app = CustomerCoreApp(StripeAPI(service, ["k"]))
    assert app.inline is True
    names = calling_threads(store)
    unsubscribe = service.subscribe(lambda event: None)
    assert (service.may_block, app.inline) == (True, False)
    with RunningServer(service) as server:
        status, _, _ = server.request("GET", f"/v1/customers/{customer.id}")
        assert status == 200
        unsubscribe()
        assert app.inline is True
        status, _, _ = server.request("GET", f"/v1/customers/{customer.id}")
        assert status == 200
        loop_thread = server.thread.name
    assert [name.rsplit("_", 1)[0] for name in names] == ["customer-core-read", loop_thread]


def test_a_memory_store_search_runs_on_a_read_thread_and_holds_up_no_other_request() -> None:
    # A search no index answers walks the store: on the event loop it would stop every
    # other client for as long as it takes. Here the walk waits inside the store until the
    # test lets it go, and a retrieve must be answered meanwhile.
    store = MemoryStore()
    service = CustomerService(store)
    customer = service.create(email="walked@example.com", metadata={"tier": "gold"})
    walking, release = threading.Event(), threading.Event()
    walked_on: list[str] = []
    original = store.scan

    def scan(*args: Any, **kwargs: Any) -> Any:
        walked_on.append(threading.current_thread().name)
        walking.set()
        release.wait(30)
        return original(*args, **kwargs)

    store.scan = scan  # type: ignore[method-assign]
    answers: list[tuple[int, Any]] = []
    with RunningServer(service) as server:
        searcher = threading.Thread(
            target=lambda: answers.append(
                server.request(
                    "GET", "/v1/customers/search?query=-metadata%5B%22tier%22%5D%3A%22x%22"
                )[::2]
            )
        )
        searcher.start()
        try:
            assert walking.wait(30), "the search never reached the store"
            status, _, body = server.request("GET", f"/v1/customers/{customer.id}")
            assert (status, body["id"]) == (200, customer.id)
            assert not answers  # the search is still walking
        finally:
            release.set()
            searcher.join(30)
        loop_thread = server.thread.name
    [(status, body)] = answers
    assert (status, [found["id"] for found in body["data"]]) == (200, [customer.id])
    assert walked_on and walked_on[0] != loop_thread
    assert walked_on[0].startswith("customer-core-read")
