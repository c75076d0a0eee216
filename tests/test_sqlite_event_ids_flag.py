"""SQLite: the newest event's INSERT skips the ``event_ids`` lookup only while that table
is empty.

``EventTables`` remembers, with the newest event and the data version, whether
``event_ids`` was empty; then a new event that comes after every stored one has a free id
without looking there. These tests put a row there (an event whose ``created`` is not its
id's second) and check that an id taken that way is still refused, whether this
connection or another one wrote the row.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from customer_core import SQLiteStore
from customer_core.errors import DuplicateKeyError
from customer_core.ids import EventIdGenerator
from customer_core.store.base import Record, event_of

LATER = 1_764_705_595.123
EARLIER = int(LATER) - 60


def _customer() -> Record:
    return {"id": "cus_1", "object": "customer", "created": EARLIER, "metadata": {}}


def _add(store: SQLiteStore, event_id: str, created: int) -> Record:
    parts = (event_id, created, "customer.updated", _customer(), None, None, 0)
    store.event_add(*parts)
    return event_of(*parts)


def _ids() -> tuple[str, str, str]:
    """Three ids of ``LATER``'s second, in increasing order (the last a millisecond on)."""
    now = [LATER]
    ids = EventIdGenerator(clock=lambda: now[0], seed=5)
    first = ids.event_id()
    now[0] += 0.001
    second = ids.event_id()
    now[0] += 0.001
    return first, second, ids.event_id()


def _event_ids_rows(store: SQLiteStore) -> list[str]:
    connection = store._connection
    assert connection is not None
    return [row[0] for row in connection.execute("SELECT id FROM event_ids")]


def test_an_id_in_event_ids_is_refused_after_this_connections_newest(tmp_path: Path) -> None:
    first, second, third = _ids()
    store = SQLiteStore(tmp_path / "events.db", synchronous="NORMAL")
    with store:
        # created a minute before its id's second: keyed in that minute, found by event_ids
        odd = _add(store, third, EARLIER)
        assert _event_ids_rows(store) == [third]
        newest = _add(store, first, int(LATER))
        # After the newest by id and second: the cached path, which must look in event_ids
        with pytest.raises(DuplicateKeyError):
            _add(store, third, int(LATER))
        later = _add(store, second, int(LATER))
        assert store.event_scan() == [later, newest, odd]
        assert store.event_get(third) == odd
        store.check_consistency()


def test_an_id_another_connection_put_in_event_ids_is_refused(tmp_path: Path) -> None:
    first, second, third = _ids()
    path = tmp_path / "events.db"
    one, two = SQLiteStore(path, synchronous="NORMAL"), SQLiteStore(path)
    with one, two:
        newest = _add(one, first, int(LATER))  # one remembers: event_ids is empty
        odd = _add(two, third, EARLIER)
        assert _event_ids_rows(one) == [third]
        with pytest.raises(DuplicateKeyError):
            _add(one, third, int(LATER))
        later = _add(one, second, int(LATER))
        assert one.event_scan() == two.event_scan() == [later, newest, odd]
        one.check_consistency()


def test_events_after_an_empty_event_ids_are_written_and_found(tmp_path: Path) -> None:
    first, second, third = _ids()
    store = SQLiteStore(tmp_path / "events.db")
    with store:
        written = [_add(store, event_id, int(LATER)) for event_id in (first, second, third)]
        assert _event_ids_rows(store) == []
        assert store.event_scan() == written[::-1]
        with pytest.raises(DuplicateKeyError):
            _add(store, second, int(LATER))
        store.check_consistency()
