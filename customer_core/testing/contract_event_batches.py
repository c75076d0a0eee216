"""Store contract for reading many events at once (``event_get_many``): what the delivery
worker reads a batch's events with.

A mixin of ``StoreContract``: it runs on every store through that class.
"""

from __future__ import annotations

from ..store.base import Store
from .contract_events import make_event

__all__ = ["EventBatchContract"]


class EventBatchContract:
    """Events read many at once are those ``event_get`` finds, by id."""

    def test_events_are_read_many_at_once_by_id(self, store: Store) -> None:
        events = [make_event(f"evt_{n}", 100 + n) for n in range(5)]
        for event in events:
            store.event_insert(event)
        wanted = ["evt_3", "evt_0", "evt_missing", "evt_3", "evt_\x00x", ""]
        found = store.event_get_many(wanted)
        assert found == {"evt_0": events[0], "evt_3": events[3]}
        assert found["evt_3"] == store.event_get("evt_3")
        assert store.event_get_many([]) == {}
        assert store.event_get_many(set()) == {}

    def test_purged_events_are_not_read(self, store: Store) -> None:
        store.event_insert(make_event("evt_old", 100))
        store.event_insert(make_event("evt_new", 300))
        store.event_purge(before=200)
        assert store.event_get_many({"evt_old", "evt_new"}) == {
            "evt_new": make_event("evt_new", 300)
        }

    def test_many_events_are_read_at_once(self, store: Store) -> None:
        events = {f"evt_{n:04}": make_event(f"evt_{n:04}", 1000 + n) for n in range(600)}
        with store.transaction():
            for event in events.values():
                store.event_insert(event)
        assert store.event_get_many(list(events)) == events
