"""Store contract for reading events as JSON (``event_json_many``): what the delivery
worker hands its senders, which pretty-print and sign it without the event being decoded
in the worker's process.

A mixin of ``StoreContract``: it runs on every store through that class.
"""

from __future__ import annotations

import pydantic_core

from ..store.base import Record, Store, event_of
from .contract_event_bodies import _customer
from .contract_event_parts import _TRICKY, _parts
from .contract_events import make_event

__all__ = ["EventJsonContract"]


def _same_document(document: bytes, event: Record) -> None:
    """``document`` is ``event`` as compact JSON, keys in its order."""
    assert pydantic_core.from_json(document) == event
    assert document == pydantic_core.to_json(event)


class EventJsonContract:
    """Events read as JSON are ``event_get``'s records, encoded, by id."""

    def test_inserted_events_are_read_as_json_by_id(self, store: Store) -> None:
        events = [make_event(f"evt_{n}", 100 + n, note=_TRICKY) for n in range(3)]
        for event in events:
            store.event_insert(event)
        found = store.event_json_many(["evt_2", "evt_0", "evt_missing", "evt_2", "evt_\x00x", ""])
        assert sorted(found) == ["evt_0", "evt_2"]
        _same_document(found["evt_0"], events[0])
        _same_document(found["evt_2"], events[2])
        assert store.event_json_many([]) == {}

    def test_events_added_from_their_parts_are_read_as_json(self, store: Store) -> None:
        record = _customer("cus_1", 10, name=_TRICKY, metadata={"plan": "\u00e9t\u00e9"})
        created = _parts("evt_01KBGACVQKV3RS3DTR98H6BCFN", record)
        updated = _parts(
            "evt_01KBGACVQKV3RS3DTR98H6BCFP",
            record,
            type="customer.updated",
            request_id=_TRICKY,
            idempotency_key="key \u00e9\"'",
            pending_webhooks=2,
            previous_attributes={"name": "Jenny", "metadata": {"plan": None}},
        )
        odd = _parts("evt_with-odd.id", record, type="customer.updated")
        with store.transaction():
            store.insert(record)
            for parts in (created, updated, odd):
                store.event_add(**parts)
        found = store.event_json_many([created["event_id"], updated["event_id"], "evt_with-odd.id"])
        for parts in (created, updated, odd):
            _same_document(found[parts["event_id"]], event_of(**parts))

    def test_purged_events_are_not_read_as_json(self, store: Store) -> None:
        store.event_insert(make_event("evt_old", 100))
        store.event_insert(make_event("evt_new", 300))
        store.event_purge(before=200)
        assert list(store.event_json_many({"evt_old", "evt_new"})) == ["evt_new"]
