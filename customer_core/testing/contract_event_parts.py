"""Store contract: ``event_add``, an event given by its parts, reads back as ``event_of``.

The service records every event this way; a store may keep the parts and compose the
event when read, and reuse the encoding of the record it just wrote. These tests pin that
what is read back is the event ``event_of`` makes of the parts, whatever the store keeps.
A mixin of ``StoreContract``: it runs on every store through that class.
"""

from __future__ import annotations

from typing import Any

import pytest

from ..errors import DuplicateKeyError
from ..store.base import Record, Store, event_of
from .contract_event_bodies import _customer
from .contract_events import event_ids, make_event

__all__ = ["EventPartsContract"]

_TRICKY = 'it\'s "quoted" \\ \u00e9 \n {"object":null}'
"""Text JSON must escape, and text that looks like an event's structure."""


def _parts(event_id: str, record: Record, **changes: Any) -> dict[str, Any]:
    """``event_add``'s keyword arguments for an event about ``record``."""
    parts: dict[str, Any] = {
        "event_id": event_id,
        "created": record["created"],
        "type": "customer.created",
        "data_object": record,
        "request_id": None,
        "idempotency_key": None,
        "pending_webhooks": 0,
        "previous_attributes": None,
    }
    parts.update(changes)
    return parts


class EventPartsContract:
    """Events added from their parts (``Store.event_add``)."""

    def test_an_event_about_the_inserted_record_reads_back_as_event_of_makes_it(
        self, store: Store
    ) -> None:
        record = _customer("cus_1", 10)
        with store.transaction():
            store.insert(record)
            store.event_add(**_parts("evt_01KBGACVQKV3RS3DTR98H6BCFN", record))
        record["metadata"]["plan"] = "changed after the event"
        expected = event_of(**_parts("evt_01KBGACVQKV3RS3DTR98H6BCFN", _customer("cus_1", 10)))
        got = store.event_get("evt_01KBGACVQKV3RS3DTR98H6BCFN")
        assert got == expected
        assert list(got) == list(expected)  # Stripe's key order
        assert list(got["data"]) == ["object"]
        assert list(got["data"]["object"]) == list(_customer("cus_1", 10))
        assert store.event_scan() == [got]

    def test_an_update_event_with_request_and_previous_attributes_round_trips(
        self, store: Store
    ) -> None:
        store.insert(_customer("cus_1", 10))
        renamed = _customer("cus_1", 10, name=_TRICKY, metadata={"plan": "silver"})
        changes = {"name": "Jenny", "metadata": {"plan": "gold", _TRICKY: None}}
        parts = _parts(
            "evt_01KBGACVQKV3RS3DTR98H6BCFP",
            renamed,
            type="customer.updated",
            request_id=_TRICKY,
            idempotency_key="key \u00e9\"'",
            pending_webhooks=2,
            previous_attributes=changes,
        )
        with store.transaction():
            store.replace(renamed)
            store.event_add(**parts)
        got = store.event_get("evt_01KBGACVQKV3RS3DTR98H6BCFP")
        assert got == event_of(**parts)
        assert list(got["data"]) == ["object", "previous_attributes"]
        assert list(got["data"]["previous_attributes"]) == ["name", "metadata"]

    def test_an_event_about_another_record_holds_that_record(self, store: Store) -> None:
        written = _customer("cus_1", 10)
        store.insert(written)
        other = dict(written, name="A copy, not the record written")
        parts = _parts("evt_1", other, type="customer.tax_id.created")
        store.event_add(**parts)
        assert store.event_get("evt_1") == event_of(**parts)

    def test_ids_and_types_of_any_text_round_trip(self, store: Store) -> None:
        record = _customer("cus_1", 10)
        store.insert(record)
        for event_id, type in [
            ('evt_"quoted"\\', "customer.created"),
            ("evt_\u00e9t\u00e9", "customer.updated"),
            ("evt_2", 'a.type "of" \\ its own'),
        ]:
            parts = _parts(event_id, record, type=type)
            store.event_add(**parts)
            assert store.event_get(event_id) == event_of(**parts)

    def test_event_add_mixes_with_event_insert_in_created_order(self, store: Store) -> None:
        record = _customer("cus_1", 20)
        store.event_insert(make_event("evt_a", 10))
        store.insert(record)
        store.event_add(**_parts("evt_b", record))
        store.event_insert(make_event("evt_c", 30, "customer.updated"))
        assert event_ids(store.event_scan()) == ["evt_c", "evt_b", "evt_a"]
        assert event_ids(store.event_scan(types=["customer.created"])) == ["evt_b", "evt_a"]

    def test_an_id_taken_is_refused_and_changes_nothing(self, store: Store) -> None:
        record = _customer("cus_1", 10)
        store.insert(record)
        store.event_insert(make_event("evt_1", 10))
        with pytest.raises(DuplicateKeyError) as raised:
            store.event_add(**_parts("evt_1", record, type="customer.updated"))
        assert raised.value.key == "id"
        store.event_add(**_parts("evt_2", record))
        with pytest.raises(DuplicateKeyError):
            store.event_add(**_parts("evt_2", record))
        assert event_ids(store.event_scan()) == ["evt_2", "evt_1"]
        assert store.event_get("evt_1") == make_event("evt_1", 10)

    def test_an_aborted_transaction_keeps_no_added_event(self, store: Store) -> None:
        with pytest.raises(RuntimeError), store.transaction():
            record = _customer("cus_1", 10)
            store.insert(record)
            store.event_add(**_parts("evt_01KBGACVQKV3RS3DTR98H6BCFN", record))
            raise RuntimeError("abort")
        assert store.event_get("evt_01KBGACVQKV3RS3DTR98H6BCFN") is None
        assert store.event_scan() == []
        assert store.get("cus_1") is None

    def test_a_checkpoint_keeps_added_events_as_they_were(self, store: Store) -> None:
        record = _customer("cus_1", 10)
        store.insert(record)
        store.event_add(**_parts("evt_1", record, previous_attributes={"name": None}))
        saved = store.checkpoint()
        store.event_add(**_parts("evt_2", record))
        store.restore(saved)
        assert store.event_scan() == [
            event_of(**_parts("evt_1", record, previous_attributes={"name": None}))
        ]
        store.check_consistency()
