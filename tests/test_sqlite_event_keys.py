"""SQLite events keyed from their ids (schema 15): an event of ours (``evt_`` + a ULID of
its second) takes its natural key and is found by id without ``event_ids``; every other
event, or one moved out of its window, is in ``event_ids``; walks, lookups, cursors,
duplicates and purges answer as the memory store does; a schema-14 file keys its events
again when it opens."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import ulid
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from customer_core import CustomerService, MemoryStore, SQLiteStore
from customer_core.errors import DuplicateKeyError
from customer_core.ids import NEWEST_DRAWN, EventIdGenerator, encode_ulid
from customer_core.store.base import KeyRange, Store
from customer_core.store.sqlite import MIGRATIONS, SCHEMA_VERSION
from customer_core.store.sqlite_events import KEY_BITS, WINDOW, natural_key
from customer_core.testing import FakeClock
from customer_core.testing.contract_events import make_event

from .test_sqlite_event_tables import file_with_events

TYPES = ("customer.created", "customer.updated", "customer.deleted")


def ulid_id(millis: int, randomness: int) -> str:
    return "evt_" + encode_ulid((millis << 80) | randomness)


def _ids(events: list[dict[str, object]]) -> list[object]:
    return [event["id"] for event in events]


def _event_ids_rows(store: SQLiteStore) -> list[tuple[str, int, int]]:
    raw = store._connection
    assert raw is not None
    return list(raw.execute("SELECT id, code, key FROM event_ids ORDER BY id"))


def test_natural_keys_follow_id_order_within_a_second() -> None:
    second = 1_764_705_595
    ids = [
        ulid_id(second * 1000, 0),
        ulid_id(second * 1000, 1),  # same millisecond, counted up: the same natural key
        ulid_id(second * 1000, 1 << 67),
        ulid_id(second * 1000 + 1, 0),
        ulid_id(second * 1000 + 999, (1 << 80) - 1),
    ]
    keys = [natural_key(event_id) for event_id in ids]
    assert keys == [
        second << KEY_BITS,
        second << KEY_BITS,
        (second << KEY_BITS) | 1,
        (second << KEY_BITS) | (1 << 13),
        (second << KEY_BITS) | (999 << 13) | 8191,
    ]
    for other in [
        "evt_1",
        "evt_" + "0" * 25,
        "evt_8" + "0" * 25,
        "evt_" + "O" * 26,
        "cus_" + "0" * 26,
    ]:
        assert natural_key(other) is None


def test_a_just_made_id_keys_as_its_text_does() -> None:
    """``natural_key`` of the id an ``EventIdGenerator`` just drew (its parts taken from
    ``ids.NEWEST_DRAWN``) is the key the text decodes to, for every millisecond's first id
    and the ids counted up after it; the parts are that id's."""
    clock = FakeClock(1_764_705_595.123)
    generator = EventIdGenerator(clock, seed=4)
    previous = -1
    for step in range(300):
        clock.set(1_764_705_595.123 + (step // 3) * 0.0007)  # some ids share a millisecond
        made = generator.event_id()
        value = ulid.parse(made[4:]).int
        drawn = NEWEST_DRAWN[0]
        assert (drawn[0] is made) == (value >> 80 != previous)  # drawn: a new millisecond
        if drawn[0] is made:
            assert (drawn[1] << 80) | drawn[2] == value
        previous = value >> 80
        from_parts = natural_key(made)
        copy = "".join(list(made))  # the same text, another string: decoded
        assert copy is not made
        natural_key("evt_" + "0" * 26)  # forget the key cached for the copy's characters
        assert from_parts == natural_key(copy)
        second, millisecond = divmod(value >> 80, 1000)
        assert from_parts == (second << KEY_BITS) | (millisecond << 13) | (value >> 67) & 8191


def test_events_of_a_service_need_no_event_ids_rows(tmp_path: Path) -> None:
    clock = FakeClock(1_764_705_595.0)
    with SQLiteStore(tmp_path / "events.db") as store:
        service = CustomerService(store, clock=clock, seed=5)
        for n in range(40):
            customer = service.create(email=f"c{n}@example.com")
            service.update(customer.id, name=f"Name {n}")
            clock.advance(0.0004)  # some events share a millisecond, whose ids count up
        assert _event_ids_rows(store) == []
        events = service.events.list(limit=100).data
        assert len(events) == 80
        for event in events[::7]:
            assert service.events.retrieve(event.id) == event
        page = service.events.list(limit=5, starting_after=events[30].id).data
        assert [event.id for event in page] == [event.id for event in events[31:36]]
        store.check_consistency()


def test_ids_of_one_millisecond_past_the_window_go_to_event_ids(tmp_path: Path) -> None:
    millis = 1_764_705_595_000
    ids = [ulid_id(millis, 7 + n) for n in range(WINDOW + 3)]  # one natural key for all
    with SQLiteStore(tmp_path / "events.db") as store:
        for event_id in ids:
            store.event_insert(make_event(event_id, millis // 1000))
        assert [row[0] for row in _event_ids_rows(store)] == ids[WINDOW:]
        assert _ids(store.event_scan(descending=False)) == ids
        for event_id in ids:
            got = store.event_get(event_id)
            assert got is not None and got["id"] == event_id
        with pytest.raises(DuplicateKeyError):
            store.event_insert(make_event(ids[3], millis // 1000 + 5))  # another second
        with pytest.raises(DuplicateKeyError):
            store.event_insert(make_event(ids[-1], millis // 1000 - 5, "test.other"))
        store.check_consistency()


def test_a_schema_14_file_keys_its_events_again(tmp_path: Path) -> None:
    second = 1_764_705_595
    ours = [ulid_id(second * 1000 + n, n) for n in range(4)]
    rows = [
        (ours[0], second, "customer.created"),
        (ours[1], second, "customer.updated"),
        (ours[2], second + 1, "customer.updated"),  # created is not its id's second
        ("evt_imported", second, "customer.deleted"),
        (ours[3], second, "customer.created"),
        ("evt_old", second - 100, "test.other"),
    ]
    path = file_with_events(tmp_path / "v14.db", 12, rows)
    connection = sqlite3.connect(path, isolation_level=None)
    for migration in MIGRATIONS[12:14]:
        for step in migration:
            step(connection) if callable(step) else connection.execute(step)
    connection.execute("UPDATE schema_version SET version = 14")
    assert connection.execute("SELECT COUNT(*) FROM event_ids").fetchone() == (6,)
    connection.close()
    newest_first = [ours[2], "evt_imported", ours[3], ours[1], ours[0], "evt_old"]
    with SQLiteStore(path) as store:
        assert SCHEMA_VERSION >= 15
        assert _ids(store.event_scan()) == newest_first
        assert _ids(store.event_scan(types=["customer.created"])) == [ours[3], ours[0]]
        below = KeyRange(upper=(second, ours[3]), upper_inclusive=False)
        assert _ids(store.event_scan(below)) == [ours[1], ours[0], "evt_old"]
        for event_id in newest_first:
            got = store.event_get(event_id)
            assert got is not None and got["id"] == event_id
        # Only the events whose id does not give their key keep a row.
        assert [row[0] for row in _event_ids_rows(store)] == [ours[2], "evt_imported", "evt_old"]
        raw = store._connection
        assert raw is not None
        assert raw.execute("SELECT key FROM events_1 ORDER BY key").fetchall() == [
            (natural_key(ours[0]),),
            (natural_key(ours[3]),),
        ]
        store.event_insert(make_event(ulid_id(second * 1000 + 2, 9), second, "customer.created"))
        assert _ids(store.event_scan(types=["customer.created"]))[1] == ulid_id(
            second * 1000 + 2, 9
        )
        store.check_consistency()


_RANDOMNESS = st.sampled_from([0, 1, 2, 3, 1 << 67, (1 << 67) + 1, (1 << 80) - 1]) | st.integers(
    0, (1 << 80) - 1
)
_EVENTS = st.lists(
    st.tuples(
        st.integers(10, 12),  # created
        st.sampled_from([0, 1, 999, 1000]),  # the id's millisecond, from created's second
        _RANDOMNESS,
        st.sampled_from(TYPES),
    ),
    max_size=30,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    events=_EVENTS,
    others=st.lists(st.tuples(st.integers(10, 12), st.sampled_from(["evt_a", "evt_z", "evt_0"]))),
    cursor=st.integers(0, 40),
    inclusive=st.booleans(),
    descending=st.booleans(),
    types=st.none() | st.sets(st.sampled_from(TYPES)),
    limit=st.none() | st.integers(0, 6),
)
def test_ulid_keyed_events_answer_as_the_memory_store_does(
    tmp_path_factory: pytest.TempPathFactory,
    events: list[tuple[int, int, int, str]],
    others: list[tuple[int, str]],
    cursor: int,
    inclusive: bool,
    descending: bool,
    types: set[str] | None,
    limit: int | None,
) -> None:
    path = tmp_path_factory.mktemp("keys") / "events.db"
    stores: list[Store] = [MemoryStore(), SQLiteStore(path)]
    inserted: list[tuple[int, str]] = []
    for (created, millisecond, randomness, type), position in zip(
        events, range(len(events)), strict=True
    ):
        event_id = ulid_id(created * 1000 + millisecond, randomness)
        outcomes = []
        for store in stores:
            try:
                store.event_insert(make_event(event_id, created, type))
                outcomes.append(True)
            except DuplicateKeyError:
                outcomes.append(False)
        assert outcomes[0] == outcomes[1]
        if outcomes[0]:
            inserted.append((created, event_id))
        if position < len(others):  # ids of another shape, in between
            created, other = others[position]
            other = f"{other}{position}"
            for store in stores:
                store.event_insert(make_event(other, created, "customer.updated"))
            inserted.append((created, other))
    memory, sqlite = stores
    assert _ids(sqlite.event_scan()) == _ids(memory.event_scan())
    for _, event_id in inserted:
        assert sqlite.event_get(event_id) == memory.event_get(event_id)
    assert sqlite.event_get(ulid_id(11_000, 5)) == memory.event_get(ulid_id(11_000, 5))
    if inserted:
        bound = sorted(inserted)[cursor % len(inserted)]
        for key_range in (
            KeyRange(lower=bound, lower_inclusive=inclusive),
            KeyRange(upper=bound, upper_inclusive=inclusive),
        ):
            assert _ids(
                sqlite.event_scan(key_range, descending=descending, types=types, limit=limit)
            ) == _ids(memory.event_scan(key_range, descending=descending, types=types, limit=limit))
    sqlite.check_consistency()
    assert sqlite.event_purge(before=11) == memory.event_purge(before=11)
    assert _ids(sqlite.event_scan()) == _ids(memory.event_scan())
    sqlite.check_consistency()
    for store in stores:
        store.close()
