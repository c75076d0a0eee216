"""SQLite keeps events in a table per type keyed in (created, id) order (schema 13): older
files move their events there, events recorded out of order (another process's clock)
still walk in (created, id) order, and an event whose id does not give its key (these
tests' ids are not ULIDs: see test_sqlite_event_keys.py) is also in event_ids."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from customer_core import MemoryStore, SQLiteStore
from customer_core.errors import DuplicateKeyError
from customer_core.store.base import KeyRange, Store
from customer_core.store.sqlite import MIGRATIONS, SCHEMA_VERSION
from customer_core.testing.contract_events import make_event

TYPES = ("customer.created", "customer.updated", "customer.deleted")


def _ids(events: list[dict[str, object]]) -> list[object]:
    return [event["id"] for event in events]


def file_with_events(path: Path, version: int, events: list[tuple[str, int, str]]) -> Path:
    """A store file of schema ``version`` (8 to 12: one ``events`` table) holding small
    events ``(id, created, type)``."""
    connection = sqlite3.connect(path, isolation_level=None)
    for migration in MIGRATIONS[:version]:
        for step in migration:
            step(connection) if callable(step) else connection.execute(step)
    connection.execute("UPDATE schema_version SET version = ?", (version,))
    for event_id, created, type in events:
        body = f'{{"id":"{event_id}","created":{created},"type":"{type}"}}'
        connection.execute(
            "INSERT INTO events VALUES (?, ?, ?, ?)", (event_id, created, type, body)
        )
    connection.close()
    return path


def test_a_version_12_file_moves_its_events_to_a_table_per_type(tmp_path: Path) -> None:
    rows = [
        ("evt_b", 20, "customer.updated"),
        ("evt_a", 10, "customer.created"),
        ("evt_d", 20, "test.other"),
        ("evt_c", 20, "customer.created"),
        ("evt_e", 30, "customer.deleted"),
    ]
    with SQLiteStore(file_with_events(tmp_path / "v12.db", 12, rows)) as store:
        assert SCHEMA_VERSION >= 13
        assert _ids(store.event_scan()) == ["evt_e", "evt_d", "evt_c", "evt_b", "evt_a"]
        assert _ids(store.event_scan(types=["customer.created"])) == ["evt_c", "evt_a"]
        assert _ids(store.event_scan(types=["test.other", "customer.deleted"])) == [
            "evt_e",
            "evt_d",
        ]
        after_c = KeyRange(upper=(20, "evt_c"), upper_inclusive=False)
        assert _ids(store.event_scan(after_c)) == ["evt_b", "evt_a"]
        assert store.event_get("evt_d") == {"id": "evt_d", "created": 20, "type": "test.other"}
        store.check_consistency()
        raw = store._connection
        assert raw is not None
        tables = {row[0] for row in raw.execute("SELECT name FROM sqlite_master")}
        assert "events" not in tables
        assert dict(raw.execute("SELECT type, code FROM event_types")) == {
            "customer.created": 1,
            "customer.deleted": 2,
            "customer.updated": 3,
            "test.other": 4,
            # schema 14: the tax ID event types get their tables before their first event
            "customer.tax_id.created": 5,
            "customer.tax_id.deleted": 6,
            "customer.tax_id.updated": 7,
        }
        # Its type's table (no index of its own), and event_ids for ids that are not ULIDs.
        for code in range(1, 5):
            assert raw.execute(f"PRAGMA index_list(events_{code})").fetchall() == []
        assert store.event_purge(before=20) == 1
        assert raw.execute("SELECT COUNT(*) FROM event_ids").fetchone() == (4,)
        store.check_consistency()


def test_events_recorded_out_of_order_walk_in_created_then_id_order(tmp_path: Path) -> None:
    with SQLiteStore(tmp_path / "events.db") as store:
        # Another process may commit an older id, or an older second, after a newer one.
        for event_id, created in [("evt_5", 20), ("evt_9", 20), ("evt_7", 20), ("evt_1", 10)]:
            store.event_insert(make_event(event_id, created, "customer.updated"))
        store.event_insert(make_event("evt_6", 20, "customer.created"))
        store.event_insert(make_event("evt_3", 20, "customer.deleted"))
        newest_first = ["evt_9", "evt_7", "evt_6", "evt_5", "evt_3", "evt_1"]
        assert _ids(store.event_scan()) == newest_first
        assert _ids(store.event_scan(descending=False)) == newest_first[::-1]
        below_6 = KeyRange(upper=(20, "evt_6"), upper_inclusive=False)
        assert _ids(store.event_scan(below_6, types=["customer.updated"])) == ["evt_5", "evt_1"]
        store.check_consistency()


def test_a_refused_event_of_a_new_type_adds_no_table(tmp_path: Path) -> None:
    with SQLiteStore(tmp_path / "events.db") as store:
        store.event_insert(make_event("evt_1", 10))
        tables = store.checkpoint()
        with pytest.raises(DuplicateKeyError):
            store.event_insert(make_event("evt_1", 20, "test.other"))
        store.restore(tables)  # refused if the file had other tables now
        store.event_insert(make_event("evt_2", 20, "test.other"))
        assert _ids(store.event_scan(types=["test.other"])) == ["evt_2"]
        store.check_consistency()


_EVENTS = st.lists(
    st.tuples(st.integers(0, 3), st.integers(0, 9), st.sampled_from(TYPES)),
    max_size=25,
    unique_by=lambda event: event[1],
)
_BOUNDS = st.none() | st.tuples(st.integers(-1, 4), st.sampled_from(["", "evt_3", "evt_4x", "~"]))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    events=_EVENTS,
    lower=_BOUNDS,
    upper=_BOUNDS,
    inclusive=st.tuples(st.booleans(), st.booleans()),
    types=st.none() | st.sets(st.sampled_from((*TYPES, "test.none"))),
    descending=st.booleans(),
    limit=st.none() | st.integers(0, 6),
)
def test_sqlite_event_scans_match_the_memory_store(
    tmp_path_factory: pytest.TempPathFactory,
    events: list[tuple[int, int, str]],
    lower: tuple[int, str] | None,
    upper: tuple[int, str] | None,
    inclusive: tuple[bool, bool],
    types: set[str] | None,
    descending: bool,
    limit: int | None,
) -> None:
    path = tmp_path_factory.mktemp("scan") / "events.db"
    stores: list[Store] = [MemoryStore(), SQLiteStore(path)]
    for store in stores:
        for created, number, type in events:
            store.event_insert(make_event(f"evt_{number}", created, type))
    key_range = KeyRange(lower, inclusive[0], upper, inclusive[1])
    memory, sqlite = (
        _ids(store.event_scan(key_range, descending=descending, types=types, limit=limit))
        for store in stores
    )
    assert sqlite == memory
    assert stores[1].snapshot()["events"] == stores[0].snapshot()["events"]
    assert stores[1].event_purge(before=2) == stores[0].event_purge(before=2)
    assert _ids(stores[1].event_scan()) == _ids(stores[0].event_scan())
    stores[1].check_consistency()
    for store in stores:
        store.close()


def test_two_connections_recording_events_keep_one_order(tmp_path: Path) -> None:
    # As two processes sharing a file: each sees the events the other committed.
    with SQLiteStore(tmp_path / "events.db") as one, SQLiteStore(tmp_path / "events.db") as two:
        one.event_insert(make_event("evt_2", 10))
        two.event_insert(make_event("evt_4", 10, "customer.updated"))
        one.event_insert(make_event("evt_3", 10))  # older than the other's newest
        one.event_insert(make_event("evt_5", 10, "test.other"))
        two.event_insert(make_event("evt_6", 10, "test.other"))  # a type the other added
        two.event_insert(make_event("evt_1", 10))
        expected = ["evt_6", "evt_5", "evt_4", "evt_3", "evt_2", "evt_1"]
        assert _ids(one.event_scan()) == _ids(two.event_scan()) == expected
        one.check_consistency()
