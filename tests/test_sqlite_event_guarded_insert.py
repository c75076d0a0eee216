"""SQLite: the newest event is written by one statement guarded by the data version.

``EventTables.insert`` keys the next event from the newest key this connection last saw,
in one INSERT that writes only while ``PRAGMA data_version`` is unchanged (no other
connection committed since). These tests make another connection commit in between, in
the same millisecond (ids counted up, natural keys alike), and check that no key is
reused and the events keep their ``(created, id)`` order.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from customer_core import SQLiteStore
from customer_core.errors import DuplicateKeyError
from customer_core.ids import EventIdGenerator
from customer_core.store.base import Record, event_of

NOW = 1_764_705_595.123


def _customer(customer_id: str) -> Record:
    return {"id": customer_id, "object": "customer", "created": int(NOW), "metadata": {}}


def _add(store: SQLiteStore, event_id: str, type: str) -> Record:
    parts = (event_id, int(NOW), type, _customer("cus_1"), None, None, 0)
    store.event_add(*parts)
    return event_of(*parts)


def test_events_of_two_connections_in_one_millisecond_keep_id_order(tmp_path: Path) -> None:
    ids = EventIdGenerator(clock=lambda: NOW, seed=3)
    path = tmp_path / "events.db"
    with SQLiteStore(path, synchronous="NORMAL") as one, SQLiteStore(path) as two:
        written = []
        # Each store's cache says its own last event is the newest; the other's commit
        # in between makes it stale. Same type (one table) and other types (other tables).
        for store, type in [
            (one, "customer.created"),
            (two, "customer.created"),
            (one, "customer.created"),
            (one, "customer.updated"),
            (two, "customer.updated"),
            (two, "customer.deleted"),
            (one, "customer.created"),
        ]:
            written.append(_add(store, ids.event_id(), type))
        expected = sorted(written, key=lambda event: event["id"], reverse=True)
        assert one.event_scan() == two.event_scan() == expected
        for event in written:
            assert one.event_get(event["id"]) == event
        one.check_consistency()
        two.check_consistency()


def test_a_taken_id_is_refused_and_nothing_is_written(tmp_path: Path) -> None:
    ids = EventIdGenerator(clock=lambda: NOW, seed=3)
    with SQLiteStore(tmp_path / "events.db") as store:
        first = _add(store, ids.event_id(), "customer.created")
        taken = first["id"]
        second = _add(store, ids.event_id(), "customer.updated")
        with pytest.raises(DuplicateKeyError):
            _add(store, taken, "customer.updated")
        assert store.event_scan() == [second, first]
        store.check_consistency()
