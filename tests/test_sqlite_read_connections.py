"""SQLiteStore's read connections: reads never wait for a write, and still see every
committed write; reads inside a write transaction see its uncommitted work."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from customer_core import CustomerService, SQLiteStore
from customer_core.errors import StoreClosedError
from customer_core.store.base import Record

NOW = 1_700_000_000


def record(customer_id: str, created: int = NOW) -> Record:
    return {"id": customer_id, "object": "customer", "created": created, "email": None}


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SQLiteStore]:
    with SQLiteStore(tmp_path / "customers.db", busy_timeout=5.0) as store:
        yield store
        store.check_consistency()


def timed(call: object) -> float:
    assert callable(call)
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def test_reads_do_not_wait_for_a_write_transaction_of_another_thread(store: SQLiteStore) -> None:
    store.insert(record("cus_old"))
    inside, release = threading.Event(), threading.Event()

    def writer() -> None:
        with store.transaction():
            store.insert(record("cus_new"))
            inside.set()
            release.wait(10)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        assert inside.wait(10)
        # The writer holds the store's write lock and SQLite's: reads answer at once, and
        # see the last committed state, not the writer's uncommitted insert.
        assert timed(lambda: store.get("cus_old")) < 0.5
        assert store.get("cus_old") == record("cus_old")
        assert store.get("cus_new") is None
        assert [r["id"] for r in store.scan()] == ["cus_old"]
        assert store.count() == 1
    finally:
        release.set()
        thread.join(10)
    # Committed before this thread's next read started: seen at once.
    assert store.get("cus_new") == record("cus_new")
    assert store.count() == 2


def test_reads_answer_while_another_connection_holds_the_write_lock(
    store: SQLiteStore, tmp_path: Path
) -> None:
    service = CustomerService(store)
    kept = service.create(email="kept@example.com")
    other = sqlite3.connect(tmp_path / "customers.db", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    other.execute("DELETE FROM customers")  # uncommitted: nobody else may see it
    blocked = threading.Thread(target=lambda: service.create(email="waits@example.com"))
    try:
        blocked.start()
        time.sleep(0.1)  # the create is waiting for SQLite's write lock
        assert timed(lambda: service.retrieve(kept.id)) < 0.5
        assert [c.id for c in service.list().data] == [kept.id]
        assert service.search(query='email:"kept@example.com"').data[0].id == kept.id
        assert blocked.is_alive()
    finally:
        other.execute("ROLLBACK")
        other.close()
        blocked.join(10)
    assert len(service.list().data) == 2


def test_reads_inside_a_write_transaction_see_its_uncommitted_writes(store: SQLiteStore) -> None:
    with store.transaction():
        store.insert(record("cus_a"))
        assert store.get("cus_a") == record("cus_a")
        assert store.sort_key("cus_a") == (NOW, "cus_a")
        assert [r["id"] for r in store.scan()] == ["cus_a"]
        store.delete("cus_a")
        assert store.is_deleted("cus_a")
        assert store.count() == 0
    assert store.is_deleted("cus_a")


def test_a_batch_reads_its_own_creates_and_a_failed_batch_leaves_nothing(
    store: SQLiteStore,
) -> None:
    service = CustomerService(store)
    with service.batch():
        made = service.create(email="batch@example.com", metadata={"n": "1"})
        assert service.retrieve(made.id).email == "batch@example.com"
        service.update(made.id, metadata={"n": "2"})
        assert service.retrieve(made.id).metadata == {"n": "2"}
    assert service.retrieve(made.id).metadata == {"n": "2"}
    with pytest.raises(RuntimeError), service.batch():
        gone = service.create(email="gone@example.com")
        assert service.retrieve(gone.id).email == "gone@example.com"
        raise RuntimeError
    assert [c.id for c in service.list().data] == [made.id]


def test_each_thread_reads_what_it_just_wrote(store: SQLiteStore) -> None:
    service = CustomerService(store)
    failures: list[str] = []

    def client(name: str) -> None:
        customer = service.create(email=f"{name}@example.com")
        for n in range(20):
            service.update(customer.id, metadata={"n": str(n)})
            seen = service.retrieve(customer.id).metadata
            if seen != {"n": str(n)}:
                failures.append(f"{name} wrote {n}, read {seen}")

    threads = [threading.Thread(target=client, args=(f"t{i}",)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert failures == []
    assert store.count() == 8


def test_closing_closes_the_read_connections(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "customers.db")
    store.insert(record("cus_a"))
    readers = threading.Barrier(4)

    def read() -> None:
        readers.wait(10)  # four reads at once: four read connections
        store.get("cus_a")

    threads = [threading.Thread(target=read) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    pooled = list(store._readers)
    assert pooled
    store.close()
    for connection in pooled:
        with pytest.raises(sqlite3.ProgrammingError, match="closed"):
            connection.execute("SELECT 1")
    with pytest.raises(StoreClosedError):
        store.get("cus_a")


def test_an_in_memory_database_reads_through_its_only_connection() -> None:
    with SQLiteStore(":memory:") as store:
        store.insert(record("cus_a"))
        found: list[Record | None] = []
        thread = threading.Thread(target=lambda: found.append(store.get("cus_a")))
        thread.start()
        thread.join(10)
        assert found == [record("cus_a")]
        assert store._readers == []
