"""Store contract: an event about the record just written is stored exactly as given.

Stores may reuse the encoding of the record they last inserted or replaced for the
``data.object`` of the event that follows (the service records events that way); these
tests pin that the event read back is still the event given, whatever the record held.
A mixin of ``StoreContract``: it runs on every store through that class.
"""

from __future__ import annotations

from typing import Any

from ..store.base import Record, Store
from .contract_events import make_event

__all__ = ["EventBodyContract"]


def _customer(customer_id: str, created: int, **fields: Any) -> Record:
    return {
        "id": customer_id,
        "object": "customer",
        "created": created,
        "email": None,
        "invoice_prefix": None,
        "metadata": {"plan": "gold"},
        "name": "Jenny",
        "preferred_locales": ["en"],
        **fields,
    }


def _about(event_id: str, record: Record, **data: Any) -> Record:
    event = make_event(event_id, record["created"])
    event["data"] = {"object": record, **data}
    return event


class EventBodyContract:
    """Events whose ``data.object`` is the record just inserted or replaced."""

    def test_an_event_about_the_inserted_record_reads_back_as_given(self, store: Store) -> None:
        record = _customer("cus_1", 10)
        with store.transaction():
            store.insert(record)
            store.event_insert(_about("evt_1", record))
        record["metadata"]["plan"] = "changed after the event"
        got = store.event_get("evt_1")
        assert got == _about("evt_1", _customer("cus_1", 10))
        assert list(got["data"]) == ["object"]
        assert list(got["data"]["object"]) == list(_customer("cus_1", 10))
        assert store.event_scan() == [got]

    def test_an_event_about_the_replaced_record_reads_back_as_given(self, store: Store) -> None:
        store.insert(_customer("cus_1", 10))
        renamed = _customer("cus_1", 10, name="Jenny Rosen", metadata={"plan": "silver"})
        changes = {"name": "Jenny", "metadata": {"plan": "gold"}}
        with store.transaction():
            store.replace(renamed)
            store.event_insert(_about("evt_2", renamed, previous_attributes=changes))
        assert store.event_get("evt_2") == _about("evt_2", renamed, previous_attributes=changes)

    def test_a_replaced_record_naming_another_created_time_is_not_what_the_event_holds(
        self, store: Store
    ) -> None:
        store.insert(_customer("cus_1", 10))
        # The store keeps the first created time; the event holds the dict it was given.
        moved = _customer("cus_1", 99, name="Moved")
        store.replace(moved)
        store.event_insert(_about("evt_3", moved))
        assert store.get("cus_1")["created"] == 10  # type: ignore[index]
        assert store.event_get("evt_3") == _about("evt_3", _customer("cus_1", 99, name="Moved"))

    def test_event_text_that_looks_like_an_event_round_trips(self, store: Store) -> None:
        tricky = '"data":{"object":null'
        record = _customer("cus_1", 10, name=tricky, metadata={"k": '{"object":null}'})
        store.insert(record)
        event = _about("evt_4", record)
        event["request"] = {"id": tricky, "idempotency_key": tricky}
        store.event_insert(event)
        first = {"previous_attributes": {"name": tricky}, "object": record}
        store.event_insert({**make_event("evt_5", 10), "data": first})
        assert store.event_get("evt_4") == event
        assert store.event_get("evt_5") == {**make_event("evt_5", 10), "data": first}
        assert list(store.event_get("evt_5")["data"]) == ["previous_attributes", "object"]  # type: ignore[index]

    def test_an_event_about_another_record_is_not_given_the_last_one(self, store: Store) -> None:
        written = _customer("cus_1", 10)
        store.insert(written)
        other = dict(written, name="A copy, not the record written")
        store.event_insert(_about("evt_6", other))
        assert store.event_get("evt_6") == _about("evt_6", other)
