"""What the cheaper event recording keeps: SQLite bodies byte for byte, the events of
older files (migrated with them), and the purge every PURGE_EVERY-th event."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from customer_core import CustomerService, SQLiteStore, Store
from customer_core.events import recording
from customer_core.events.diff import previous_attributes
from customer_core.store.base import KeyRange
from customer_core.store.sqlite import SCHEMA_VERSION, _encode
from customer_core.testing import FakeClock

from .test_sqlite_event_tables import file_with_events

DAY = 24 * 60 * 60


def test_sqlite_event_bodies_are_the_json_of_the_whole_event(tmp_path: Path) -> None:
    with SQLiteStore(tmp_path / "events.db") as store:
        service = CustomerService(store, clock=FakeClock(1_700_000_000), seed=1)
        customer = service.create(email="jenny@example.com", metadata={"plan": "gold"})
        service.update(customer.id, name="Jenny Rosen", metadata={"plan": ""})
        service.delete(customer.id)
        connection = store._connection
        assert connection is not None
        rows = connection.execute(
            "SELECT id, body FROM events_1 UNION ALL SELECT id, body FROM events_3 "
            "UNION ALL SELECT id, body FROM events_2"
        ).fetchall()
        assert len(rows) == 3
        for event_id, body in rows:
            event = store.event_get(event_id)
            assert event is not None
            assert body == _encode(event)
        created, updated, _ = (store.event_get(event_id) for event_id, _ in rows)
        assert created["data"]["object"]["metadata"] == {"plan": "gold"}  # type: ignore[index]
        assert updated["data"]["object"]["name"] == "Jenny Rosen"  # type: ignore[index]
        assert updated["data"]["previous_attributes"] == {  # type: ignore[index]
            "metadata": {"plan": "gold"},
            "name": None,
        }


def test_a_version_10_file_keeps_its_events_in_the_new_table(tmp_path: Path) -> None:
    rows = [
        ("evt_a", 10, "customer.created"),
        ("evt_b", 20, "customer.updated"),
        ("evt_c", 20, "customer.deleted"),
    ]
    with SQLiteStore(file_with_events(tmp_path / "v10.db", 10, rows)) as store:
        assert SCHEMA_VERSION >= 11
        assert [event["id"] for event in store.event_scan()] == ["evt_c", "evt_b", "evt_a"]
        assert [event["id"] for event in store.event_scan(types=["customer.updated"])] == ["evt_b"]
        below = KeyRange(upper=(20, "evt_c"), upper_inclusive=False)
        assert [event["id"] for event in store.event_scan(below, limit=1)] == ["evt_b"]
        assert store.event_get("evt_a") == {
            "id": "evt_a",
            "created": 10,
            "type": "customer.created",
        }
        assert store.event_purge(before=20) == 1
        assert [event["id"] for event in store.event_scan(descending=False)] == ["evt_b", "evt_c"]
        raw = store._connection
        assert raw is not None
        tables = {row[0] for row in raw.execute("SELECT name FROM sqlite_master")}
        assert "events" not in tables and "events_by_type" not in tables
        store.check_consistency()


def test_expired_events_are_purged_every_purge_every_th_event(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(recording, "PURGE_EVERY", 4)
    clock = FakeClock(1_700_000_000)
    service = CustomerService(store, clock=clock, seed=1, event_retention=60)
    first = service.create(email="first@example.com")  # a service's first event purges
    (expired,) = store.event_scan()
    clock.advance(61)
    for n in range(3):
        service.update(first.id, name=f"Name {n}")
    # Shown to nobody any more, but still stored until the fourth event since the last purge.
    assert service.events.list().data[-1].id != expired["id"]
    assert store.event_get(expired["id"]) is not None
    service.update(first.id, name="Name 3")
    assert store.event_get(expired["id"]) is None
    assert len(store.event_scan()) == 4


def _reference_previous_attributes(before: Mapping[str, Any], after: Mapping[str, Any]) -> Any:
    """The rule as first written (one pass over the union of keys), to check the faster one;
    keys in ``before``'s order, a key only ``after`` has right before the key it precedes
    there (last if none)."""
    changed: dict[str, Any] = {}
    for key in (*before, *(key for key in after if key not in before)):
        old, new = before.get(key), after.get(key)
        if old == new and type(old) is type(new):
            continue
        if isinstance(old, Mapping) and isinstance(new, Mapping):
            changed[key] = _reference_previous_attributes(old, new)
        else:
            changed[key] = old
    order = list(before)
    after_keys = list(after)
    for n in reversed(range(len(after_keys))):
        if after_keys[n] not in before:
            successor = after_keys[n + 1] if n + 1 < len(after_keys) else None
            order.insert(len(order) if successor is None else order.index(successor), after_keys[n])
    return {key: changed[key] for key in order if key in changed}


_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 3) | st.sampled_from(["a", "b", ""]),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(["k", "m", "n"]), inner, max_size=3)
    ),
    max_leaves=8,
)
_RECORDS = st.dictionaries(st.sampled_from(["email", "name", "metadata", "address", "n"]), _VALUES)


@given(before=_RECORDS, after=_RECORDS, shared=st.sets(st.sampled_from(["email", "metadata"])))
def test_previous_attributes_keeps_the_rule_as_first_written(
    before: dict[str, Any], after: dict[str, Any], shared: set[str]
) -> None:
    # As an update makes them: some values are the very objects of the old record.
    after = {**after, **{key: before[key] for key in shared if key in before}}
    expected = _reference_previous_attributes(before, after)
    got = previous_attributes(before, after)
    assert got == expected
    assert list(got) == list(expected)


@given(st.lists(st.tuples(st.integers(0, 5), st.text("abc", max_size=3)), max_size=300))
def test_an_event_index_append_keeps_the_sorted_order(keys: list[tuple[int, str]]) -> None:
    from sortedcontainers import SortedList

    from customer_core.store.memory import _append

    index = SortedList()
    index._reset(4)  # small sublists: appends split them often
    for key in keys:
        _append(index, key)
    index._check()
    assert list(index) == sorted(keys)
    assert [index[n] for n in range(len(keys))] == sorted(keys)  # a positional index too
    _append(index, (9, "z"))
    assert index[-1] == (9, "z") and len(index) == len(keys) + 1


@given(
    before=_RECORDS,
    after=_RECORDS,
    shared=st.sets(st.sampled_from(["email", "metadata"])),
    keys=st.lists(st.sampled_from(["email", "name", "metadata", "address", "n"]), unique=True),
)
def test_the_diff_of_given_keys_is_the_rule_on_those_keys(
    before: dict[str, Any], after: dict[str, Any], shared: set[str], keys: list[str]
) -> None:
    # The keyed walk (an update's: its given fields) does _compare's usual cases inline.
    after = {**after, **{key: before[key] for key in shared if key in before}}
    expected = _reference_previous_attributes(
        {key: before.get(key) for key in keys}, {key: after.get(key) for key in keys}
    )
    got = previous_attributes(before, after, keys)
    assert got == expected
    assert list(got) == list(expected)


def test_the_diff_of_given_keys_tells_values_apart() -> None:
    before = {"name": "a", "balance": 1, "metadata": {"x": "1", "y": "2"}, "tags": ["a"]}
    after = {"name": "b", "balance": True, "metadata": {"x": "1", "z": "3"}, "tags": ["a"]}
    got = previous_attributes(before, after, ["balance", "metadata", "name", "tags"])
    assert got == {"balance": 1, "metadata": {"y": "2", "z": None}, "name": "a"}
    assert list(got) == ["balance", "metadata", "name"]
