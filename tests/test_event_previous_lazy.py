"""An update's ``previous_attributes`` worked out by the store (``PreviousAttributes``):
the service decides "no change, no event" with ``changes`` and the memory store works the
diff out when the event is read, from the customer's bytes before and after. Both must
give exactly what the eager diff gives, on every read path."""

from __future__ import annotations

import gc
import json
import math
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from customer_core import CustomerService, MemoryStore, SQLiteStore
from customer_core.events import Event
from customer_core.events.diff import changes, previous_attributes
from customer_core.testing import FakeClock

from .test_event_recording_cost import _UPDATES as _FIELD_UPDATES

NOW = 1_700_000_000

_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-2, 2),
    st.sampled_from([0.0, 1.0, -0.0, math.nan]),
    st.sampled_from(["", "a", "b"]),
)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.sampled_from(["a", "b", "c"]), inner, max_size=3),
    ),
    max_leaves=6,
)
_RECORDS = st.dictionaries(st.sampled_from(["name", "metadata", "address", "x"]), _VALUES)


@settings(max_examples=400, deadline=None)
@given(before=_RECORDS, after=_RECORDS, shared=st.booleans())
def test_changes_says_whether_the_diff_holds_anything(
    before: dict[str, Any], after: dict[str, Any], shared: bool
) -> None:
    if shared:  # an update's copy: the fields it left alone are the same objects
        after = {**before, **after}
    keys = sorted(set(before) | set(after))
    assert changes(before, after, keys) == bool(previous_attributes(before, after, keys))


def test_changes_tells_types_apart_as_the_diff_does() -> None:
    for old, new in [(True, 1), (1, 1.0), (0, False), ({}, None), ([], {}), ("1", 1)]:
        assert changes({"x": old}, {"x": new}, ["x"]) is True
        assert previous_attributes({"x": old}, {"x": new}, ["x"]) == {"x": old}
    # An object whose only difference is a key that is null on one side and absent on the
    # other: the diff still names it (with nothing inside), and so an event is recorded.
    assert changes({"x": {"a": None}}, {"x": {}}, ["x"]) is True
    assert previous_attributes({"x": {"a": None}}, {"x": {}}, ["x"]) == {"x": {}}
    assert changes({"x": "a"}, {"x": "a"}, ["x"]) is False


_SHIPPING = st.fixed_dictionaries(
    {},
    optional={
        "shipping": st.one_of(
            st.just(""),
            st.fixed_dictionaries(
                {
                    "name": st.sampled_from(["J", "K"]),
                    "address": st.fixed_dictionaries(
                        {}, optional={"city": st.sampled_from(["", "Paris"])}
                    ),
                },
                optional={"phone": st.sampled_from(["", "+1 555"])},
            ),
        )
    },
)
_UPDATES = st.tuples(_FIELD_UPDATES, _SHIPPING).map(lambda pair: {**pair[0], **pair[1]})
"""The fifth pass's random updates, with shipping too."""


def _events(service: CustomerService) -> list[dict[str, Any]]:
    return [event.to_dict() for event in service.events.list(limit=100).data]


@settings(max_examples=60, deadline=None)
@given(updates=st.lists(_UPDATES, min_size=1, max_size=4))
def test_every_read_of_an_update_event_gives_the_eager_diff(
    tmp_path_factory: Any, updates: list[dict[str, Any]]
) -> None:
    """The memory store (diff worked out when read) and SQLite (worked out when written)
    record the same events for the same updates, and each event's previous attributes are
    the eager diff of the stored customer before and after; list, retrieve, the delivery
    worker's JSON and subscribers all give them."""
    path: Path = tmp_path_factory.mktemp("lazy") / "customers.db"
    memory = CustomerService(MemoryStore(), clock=FakeClock(NOW), seed=4)
    sqlite = CustomerService(SQLiteStore(path), clock=FakeClock(NOW), seed=4)
    published: list[Event] = []
    memory.subscribe(published.append, types=["customer.updated"])
    try:
        expected: list[dict[str, Any]] = []
        for service in (memory, sqlite):
            customer = service.create(
                name="Old", metadata={"plan": "gold"}, address={"city": "Paris"}
            )
            for params in updates:
                before = service.store.get(customer.id)
                service.update(customer.id, **params)
                after = service.store.get(customer.id)
                assert before is not None and after is not None
                if service is memory:
                    diff = previous_attributes(before, after)
                    if diff:
                        expected.append(diff)
        got = [
            event["data"]["previous_attributes"]
            for event in _events(memory)
            if event["type"] == "customer.updated"
        ]
        assert got == expected[::-1]
        assert [list(diff) for diff in got] == [list(diff) for diff in expected[::-1]]
        assert _events(memory) == _events(sqlite)
        assert [event.data.previous_attributes for event in published] == expected
        for event in _events(memory):
            assert memory.events.retrieve(event["id"]).to_dict() == event
        ids = [event["id"] for event in _events(memory)]
        bodies = memory.store.event_json_many(ids)
        assert [json.loads(bodies[event_id]) for event_id in ids] == [
            {**event, "pending_webhooks": 0} for event in _events(memory)
        ]
    finally:
        sqlite.store.close()


def test_the_memory_store_keeps_an_update_event_as_bytes_only() -> None:
    """What the memory store keeps of an update event is strings, ints and the customer's
    bytes before and after (shared with the customer's earlier event and its record), so
    the garbage collector stops tracking it, as it does a create's event."""
    store = MemoryStore()
    service = CustomerService(store, clock=FakeClock(NOW), seed=2)
    customer = service.create(name="Old", metadata={"plan": "gold"})
    service.update(customer.id, name="New", metadata={"plan": "silver", "seats": "2"})
    created, updated = (event.id for event in service.events.list().data[::-1])
    for _ in range(3):  # a nested tuple is untracked after its contents, a pass later
        gc.collect()
    kept = store._events[updated]
    assert isinstance(kept, tuple) and not gc.is_tracked(kept)
    assert kept[2] is store._records[customer.id]  # the customer's bytes, shared
    create_kept = store._events[created]
    assert isinstance(create_kept, tuple)
    assert kept[6][0] is create_kept[2]  # the version before: the create's, shared
    assert service.events.retrieve(updated).data.previous_attributes == {
        "metadata": {"plan": "gold", "seats": None},
        "name": "Old",
    }
