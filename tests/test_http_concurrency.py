"""The HTTP server under concurrency: store work runs on worker threads, so reads answer
while a durable write waits for the database, and concurrent clients lose nothing."""

from __future__ import annotations

import http.client
import json
import sqlite3
import statistics
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from customer_core import CustomerService, MemoryStore, SQLiteStore, Store

from .test_http import API_KEY, RunningServer


class Client:
    """One keep-alive connection to the server."""

    def __init__(self, port: int) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def call(
        self, method: str, path: str, params: dict[str, str] | None = None, **headers: str
    ) -> tuple[int, Any]:
        sent = {"Authorization": f"Bearer {API_KEY}", **headers}
        body = None
        if params is not None:
            body = urlencode(params).encode()
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        self.connection.request(method, path, body=body, headers=sent)
        response = self.connection.getresponse()
        return response.status, json.loads(response.read())

    def close(self) -> None:
        self.connection.close()


def call_once(port: int, method: str, path: str, params: dict[str, str], **headers: str) -> Any:
    """One request on a connection of its own."""
    client = Client(port)
    try:
        return client.call(method, path, params, **headers)
    finally:
        client.close()


@pytest.fixture
def clients() -> Iterator[list[Client]]:
    """Clients a test opens; closed at the end, whatever happened."""
    opened: list[Client] = []
    yield opened
    for client in opened:
        client.close()


@pytest.fixture
def sqlite_server(tmp_path: Path) -> Iterator[tuple[RunningServer, CustomerService]]:
    with SQLiteStore(tmp_path / "customers.db", busy_timeout=10.0) as store:
        service = CustomerService(store)
        with RunningServer(service) as server:
            yield server, service


def in_background(call: Any) -> tuple[threading.Thread, list[Any]]:
    """Run ``call`` in a thread; the list receives its result."""
    result: list[Any] = []
    thread = threading.Thread(target=lambda: result.append(call()), daemon=True)
    thread.start()
    return thread, result


def test_reads_answer_within_50_ms_while_another_connection_holds_the_write_lock(
    sqlite_server: tuple[RunningServer, CustomerService], tmp_path: Path, clients: list[Client]
) -> None:
    server, _ = sqlite_server
    client, writer = Client(server.port), Client(server.port)
    clients += [client, writer]
    ids = [
        client.call("POST", "/v1/customers", {"email": f"c{n}@example.com"})[1]["id"]
        for n in range(5)
    ]
    other = sqlite3.connect(tmp_path / "customers.db", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    # The create waits for SQLite's write lock (up to the 10 s busy timeout), holding the
    # store's write lock meanwhile.
    blocked, created = in_background(
        lambda: writer.call("POST", "/v1/customers", {"email": "waits@example.com"})
    )
    try:
        time.sleep(0.2)
        timings = []
        for n in range(20):
            start = time.perf_counter()
            status, body = client.call("GET", f"/v1/customers/{ids[n % 5]}")
            timings.append(time.perf_counter() - start)
            assert (status, body["id"]) == (200, ids[n % 5])
            start = time.perf_counter()
            status, page = client.call("GET", "/v1/customers?limit=3")
            timings.append(time.perf_counter() - start)
            assert (status, [c["id"] for c in page["data"]]) == (200, ids[::-1][:3])
        create_was_waiting = blocked.is_alive()
    finally:
        other.execute("ROLLBACK")
        other.close()
        blocked.join(15)
    # Each request alone takes a few ms; 50 ms for the median, and a bound far below the
    # writer's wait for every one, leave room for a loaded machine.
    assert statistics.median(timings) < 0.050, timings
    assert max(timings) < 0.5, timings
    assert create_was_waiting, "the create should have waited for the lock all along"
    assert created[0][0] == 200
    assert client.call("GET", "/v1/customers?limit=10")[1]["data"][0]["email"] == (
        "waits@example.com"
    )


def test_a_request_reusing_the_key_of_one_in_flight_gets_409(
    sqlite_server: tuple[RunningServer, CustomerService], tmp_path: Path
) -> None:
    server, service = sqlite_server
    other = sqlite3.connect(tmp_path / "customers.db", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    key = {"Idempotency-Key": "key-in-flight"}
    first, answered = in_background(
        lambda: call_once(server.port, "POST", "/v1/customers", {"email": "a@example.com"}, **key)
    )
    try:
        deadline = time.monotonic() + 10
        # The first request is in flight once the service has claimed its key.
        while "key-in-flight" not in service._in_flight:
            assert time.monotonic() < deadline, "the first request never started"
            time.sleep(0.01)
        status, body = call_once(
            server.port, "POST", "/v1/customers", {"email": "a@example.com"}, **key
        )
        assert status == 409
        assert body["error"]["type"] == "idempotency_error"
        assert body["error"]["code"] == "idempotency_key_in_use"
        assert "key-in-flight" in body["error"]["message"]
        assert first.is_alive()
    finally:
        other.execute("ROLLBACK")
        other.close()
        first.join(15)
    status, made = answered[0]
    assert status == 200
    # Once the first has finished, the key replays its customer.
    replayed = call_once(server.port, "POST", "/v1/customers", {"email": "a@example.com"}, **key)
    assert replayed == (200, made)
    assert len(service.list().data) == 1


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
def test_sixteen_concurrent_clients_mixing_reads_and_writes_lose_nothing(
    kind: str, tmp_path: Path
) -> None:
    store: Store = MemoryStore() if kind == "memory" else SQLiteStore(tmp_path / "c.db")
    service = CustomerService(store)
    shared = service.create(email="shared@example.com")
    rounds = 6
    failures: list[str] = []
    start = threading.Barrier(16)

    def run(n: int, port: int) -> None:
        client = Client(port)
        start.wait(30)
        own = client.call("POST", "/v1/customers", {"email": f"client{n}@example.com"})[1]["id"]
        for r in range(rounds):
            status, body = client.call("POST", f"/v1/customers/{own}", {"metadata[round]": str(r)})
            if status != 200:
                failures.append(f"client {n} update {r}: {status} {body}")
            # Read-your-writes: the update this client just made is visible.
            status, body = client.call("GET", f"/v1/customers/{own}")
            if body.get("metadata") != {"round": str(r)}:
                failures.append(f"client {n} read {body.get('metadata')} after round {r}")
            client.call("POST", f"/v1/customers/{shared.id}", {f"metadata[client{n}]": str(r)})
            client.call(
                "POST",
                "/v1/customers",
                {"email": f"extra{n}-{r}@example.com"},
                **{"Idempotency-Key": f"k{n}-{r}"},
            )
            status, page = client.call("GET", "/v1/customers?limit=5")
            if status != 200 or len(page["data"]) != 5:
                failures.append(f"client {n} list: {status}")
        client.close()

    with store, RunningServer(service) as server:
        threads = [threading.Thread(target=run, args=(n, server.port)) for n in range(16)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        assert failures == []
        customers = {c["email"]: c for c in store.snapshot()["customers"]}
        assert len(customers) == 1 + 16 + 16 * rounds
        for n in range(16):
            assert customers[f"client{n}@example.com"]["metadata"] == {"round": str(rounds - 1)}
        assert service.retrieve(shared.id).metadata == {
            f"client{n}": str(rounds - 1) for n in range(16)
        }
        store.check_consistency()
