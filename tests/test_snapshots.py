"""Service snapshots (``svc.snapshot()`` / ``svc.restore()``) and what each store copies."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from customer_core import CustomerService, MemoryStore, SQLiteStore
from customer_core.testing import FakeClock


def _dump(svc: CustomerService) -> list[dict[str, object]]:
    return [customer.to_dict() for customer in svc.list(limit=100).data]


def test_restore_brings_back_customers_and_the_ids_that_come_next(
    service: CustomerService, clock: FakeClock
) -> None:
    jenny = service.create(email="jenny@example.com", idempotency_key="k1")
    gone = service.create(email="gone@example.com")
    service.delete(gone.id)
    snapshot = service.snapshot()
    listed = _dump(service)

    clock.advance(5)
    after_snapshot = [service.create(email=f"n{n}@example.com") for n in range(3)]
    service.update(jenny.id, metadata={"plan": "gold"})
    service.delete(jenny.id)

    clock.set(1_700_000_000)
    service.restore(snapshot)
    assert _dump(service) == listed
    assert service.retrieve(gone.id).to_dict() == {
        "id": gone.id,
        "object": "customer",
        "deleted": True,
    }
    assert service.create(email="jenny@example.com", idempotency_key="k1").id == jenny.id
    clock.advance(5)
    again = [service.create(email=f"n{n}@example.com") for n in range(3)]
    assert [c.to_dict() for c in again] == [c.to_dict() for c in after_snapshot]


def test_a_snapshot_fills_fresh_services_on_other_stores_of_its_type(tmp_path: Path) -> None:
    filled = CustomerService(MemoryStore(), clock=FakeClock(), seed=3)
    for n in range(5):
        filled.create(email=f"customer{n}@example.com", metadata={"n": str(n)})
    snapshot = filled.snapshot()
    fresh = CustomerService(MemoryStore(), clock=FakeClock(), seed=99)
    fresh.restore(snapshot)
    assert _dump(fresh) == _dump(filled)
    assert fresh.create(email="x@example.com").id == filled.create(email="x@example.com").id
    with SQLiteStore(tmp_path / "customers.db") as store:
        with pytest.raises(
            ValueError, match="SQLiteStore cannot restore a checkpoint of MemoryStore"
        ):
            CustomerService(store).restore(snapshot)


# --- every part of a store's state is in its checkpoints, including parts added later ---


class _MemoryStoreWithEvents(MemoryStore):
    """A store as a later version may have it: one more container, of dicts."""

    def __init__(self) -> None:
        super().__init__()
        self._events: dict[str, dict[str, object]] = {}


def test_memory_checkpoints_copy_state_added_by_later_versions() -> None:
    store = _MemoryStoreWithEvents()
    store._events["evt_1"] = {"type": "customer.created", "data": {"n": 1}}
    checkpoint = store.checkpoint()
    store._events["evt_1"]["data"]["n"] = 2  # type: ignore[index]
    store._events["evt_2"] = {}
    store.restore(checkpoint)
    assert store._events == {"evt_1": {"type": "customer.created", "data": {"n": 1}}}
    store._events["evt_1"]["type"] = "changed"
    store.restore(checkpoint)
    assert store._events["evt_1"]["type"] == "customer.created"


def test_memory_checkpoints_refuse_state_they_cannot_copy() -> None:
    store = MemoryStore()
    store._ready = threading.Event()  # type: ignore[attr-defined]
    with pytest.raises(TypeError, match="cannot checkpoint _ready: it holds a Event"):
        store.checkpoint()


def test_sqlite_checkpoints_copy_every_table_with_its_rowids(tmp_path: Path) -> None:
    path = tmp_path / "customers.db"
    SQLiteStore(path).close()
    with sqlite3.connect(path) as connection:  # a table a later schema version may add
        connection.execute(
            "CREATE TABLE later_events (id INTEGER PRIMARY KEY AUTOINCREMENT, type TEXT NOT NULL)"
        )
        connection.execute("CREATE TABLE notes (body TEXT)")  # rowids, no key column
        connection.executemany(
            "INSERT INTO later_events (type) VALUES (?)", [("a",), ("b",), ("c",)]
        )
        connection.execute("DELETE FROM later_events WHERE id = 2")
        connection.executemany(
            "INSERT INTO notes (rowid, body) VALUES (?, ?)", [(5, "x"), (9, "y")]
        )
    connection.close()

    def dump() -> list[str]:
        with sqlite3.connect(path) as reader:
            tables = ("later_events", "notes", "sqlite_sequence")
            return [
                repr(reader.execute(f"SELECT rowid, * FROM {table}").fetchall())  # noqa: S608
                for table in tables
            ]

    with SQLiteStore(path) as store:
        CustomerService(store, seed=1).create(email="jenny@example.com")
        before, customers = dump(), store.snapshot()
        checkpoint = store.checkpoint()
        with sqlite3.connect(path) as writer:
            writer.execute("DELETE FROM notes")
            writer.execute("INSERT INTO later_events (type) VALUES ('d')")
        writer.close()
        CustomerService(store, seed=2).create(email="other@example.com")
        store.restore(checkpoint)
        assert dump() == before
        assert store.snapshot() == customers
        with sqlite3.connect(path) as writer:  # the AUTOINCREMENT counter came back too
            writer.execute("INSERT INTO later_events (type) VALUES ('e')")
            assert writer.execute("SELECT MAX(id) FROM later_events").fetchone() == (4,)
        writer.close()


@pytest.mark.parametrize("given", [{}, None, "snapshot"])
def test_restore_refuses_what_snapshot_did_not_make(given: object) -> None:
    service = CustomerService(MemoryStore())
    kept = service.create(email="kept@example.com")
    with pytest.raises(TypeError, match="restore needs what snapshot\\(\\) returned"):
        service.restore(given)  # type: ignore[arg-type]
    assert [c.id for c in service.list().data] == [kept.id]
