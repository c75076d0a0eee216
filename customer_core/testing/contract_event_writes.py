"""Store contract: a customer and its event written in one call (``insert_with_event``):
both or neither; and an update event whose previous attributes the store works out
(``PreviousAttributes``).

The service's create with events writes the customer and its event this way when nothing
else joins the write; a store may do it in one hold of its lock with no transaction of its
own. These tests pin that what is read back is what ``insert`` and ``event_add`` would
have left, and that a refusal (customer id, invoice prefix, event id) or an aborted block
leaves neither. The service's update passes its diff as ``PreviousAttributes``, which a
store may work out when the event is read: every read gives the rule's value of the
customer before and after, whatever happened to the customer since. A mixin of
``StoreContract``: it runs on every store through that class.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from ..errors import DuplicateKeyError
from ..store.base import PreviousAttributes, Record, Store, event_of
from .contract_event_bodies import _customer
from .contract_events import event_ids, make_event

__all__ = ["EventWriteContract"]

_TRICKY = 'it\'s "quoted" \\ \u00e9 \n {"object":null}'
"""Text JSON must escape, and text that looks like an event's structure."""
_EVENT = "evt_01KBGACVQKV3RS3DTR98H6BCFN"
_NEXT_EVENT = "evt_01KBGACVQKV3RS3DTR98H6BCFP"


def _created(record: Record, event_id: str = _EVENT, **changes: Any) -> tuple[Any, ...]:
    """``insert_with_event``'s arguments after the record: a ``customer.created`` event."""
    parts: dict[str, Any] = {
        "event_id": event_id,
        "created": record["created"],
        "type": "customer.created",
        "request_id": None,
        "idempotency_key": None,
        "pending_webhooks": 0,
    }
    parts.update(changes)
    return tuple(parts.values())


def _event(record: Record, parts: tuple[Any, ...]) -> Record:
    """The event ``event_of`` makes of a call's record and parts."""
    event_id, created, type, request_id, idempotency_key, pending, *previous = parts
    return event_of(
        event_id, created, type, record, request_id, idempotency_key, pending, *previous
    )


def _changed(before: Record, after: Record, keys: Sequence[str] | None) -> Record:
    """A rule for ``PreviousAttributes``: the old values of the keys that differ."""
    names = list(before) if keys is None else keys
    return {key: before.get(key) for key in names if before.get(key) != after.get(key)}


def _update(store: Store, event_id: str, before: Record, after: Record) -> Record:
    """Replace ``before`` by ``after`` and add its event with ``PreviousAttributes`` (as
    the service's update does); return the event ``event_of`` makes of the values."""
    keys = ["name", "metadata"]
    with store.transaction():
        store.replace(after)
        store.event_add(
            event_id,
            after["created"],
            "customer.updated",
            after,
            "req_1",
            None,
            0,
            PreviousAttributes(_changed, before, after, keys),
        )
    return event_of(
        event_id,
        after["created"],
        "customer.updated",
        _customer(after["id"], after["created"], name=after["name"], metadata=after["metadata"]),
        "req_1",
        None,
        0,
        _changed(before, after, keys),
    )


class EventWriteContract:
    """A customer and its event in one store call."""

    def test_insert_with_event_stores_both_as_insert_and_event_add_would(
        self, store: Store
    ) -> None:
        record = _customer("cus_1", 10, invoice_prefix="ABCD0001")
        parts = _created(
            record, request_id=_TRICKY, idempotency_key="key \u00e9", pending_webhooks=2
        )
        store.insert_with_event(record, *parts)
        record["metadata"]["plan"] = "changed after the call"
        written = _customer("cus_1", 10, invoice_prefix="ABCD0001")
        assert store.get("cus_1") == written
        got = store.event_get(_EVENT)
        expected = _event(written, parts)
        assert got == expected
        assert list(got) == list(expected)  # Stripe's key order
        assert list(got["data"]) == ["object"]
        assert list(got["data"]["object"]) == list(written)
        assert store.event_scan() == [got]
        assert event_ids(store.event_scan(types=["customer.created"])) == [_EVENT]
        with pytest.raises(DuplicateKeyError):  # the prefix is the customer's
            store.insert(_customer("cus_2", 11, invoice_prefix="ABCD0001"))

    def test_ids_and_types_of_any_text_round_trip(self, store: Store) -> None:
        record = _customer("cus_1", 10)
        parts = _created(record, 'evt_"quoted"\\', type='a.type "of" \\ its own')
        store.insert_with_event(record, *parts)
        assert store.event_get('evt_"quoted"\\') == _event(_customer("cus_1", 10), parts)

    def test_a_customer_id_taken_writes_neither(self, store: Store) -> None:
        store.insert(_customer("cus_1", 10))
        with pytest.raises(DuplicateKeyError) as raised:
            store.insert_with_event(
                _customer("cus_1", 11, invoice_prefix="NEW00001"),
                *_created(_customer("cus_1", 11)),
            )
        assert raised.value.key == "id"
        assert store.event_get(_EVENT) is None
        assert store.event_scan() == []
        assert store.get("cus_1") == _customer("cus_1", 10)
        store.insert(_customer("cus_2", 12, invoice_prefix="NEW00001"))  # not reserved

    def test_a_deleted_customer_id_writes_neither(self, store: Store) -> None:
        store.insert(_customer("cus_1", 10))
        store.delete("cus_1")
        with pytest.raises(DuplicateKeyError):
            store.insert_with_event(_customer("cus_1", 11), *_created(_customer("cus_1", 11)))
        assert store.event_scan() == []
        assert store.get("cus_1") is None

    def test_an_invoice_prefix_held_by_another_writes_neither(self, store: Store) -> None:
        store.insert(_customer("cus_1", 10, invoice_prefix="ABCD0001"))
        record = _customer("cus_2", 11, invoice_prefix="ABCD0001")
        with pytest.raises(DuplicateKeyError) as raised:
            store.insert_with_event(record, *_created(record))
        assert raised.value.key == "invoice_prefix"
        assert store.get("cus_2") is None
        assert store.event_scan() == []
        # The service's next try, with another prefix, writes both.
        record["invoice_prefix"] = "ABCD0002"
        store.insert_with_event(record, *_created(record))
        assert store.get("cus_2") == _customer("cus_2", 11, invoice_prefix="ABCD0002")
        assert event_ids(store.event_scan()) == [_EVENT]

    def test_an_event_id_taken_writes_neither(self, store: Store) -> None:
        store.event_insert(make_event(_EVENT, 5))
        record = _customer("cus_1", 10, invoice_prefix="ABCD0001")
        with pytest.raises(DuplicateKeyError) as raised:
            store.insert_with_event(record, *_created(record))
        assert raised.value.key == "id"
        assert store.get("cus_1") is None
        assert store.count() == 0
        assert store.event_get(_EVENT) == make_event(_EVENT, 5)
        store.insert(_customer("cus_2", 12, invoice_prefix="ABCD0001"))  # not reserved
        assert event_ids(store.event_scan()) == [_EVENT]

    def test_an_aborted_transaction_keeps_neither(self, store: Store) -> None:
        with pytest.raises(RuntimeError), store.transaction():
            record = _customer("cus_1", 10, invoice_prefix="ABCD0001")
            store.insert_with_event(record, *_created(record))
            second = _customer("cus_2", 5)
            store.insert_with_event(second, *_created(second, _NEXT_EVENT))
            assert event_ids(store.event_scan()) == [_EVENT, _NEXT_EVENT]  # created 10, 5
            raise RuntimeError("abort")
        assert store.get("cus_1") is None
        assert store.get("cus_2") is None
        assert store.event_scan() == []
        store.insert(_customer("cus_3", 12, invoice_prefix="ABCD0001"))  # not reserved

    def test_a_refusal_inside_a_block_that_leaves_it_keeps_neither(self, store: Store) -> None:
        store.event_insert(make_event(_EVENT, 5))
        record = _customer("cus_1", 10)
        with pytest.raises(DuplicateKeyError), store.transaction():
            store.insert(_customer("cus_2", 9))
            store.insert_with_event(record, *_created(record))
        assert store.get("cus_1") is None
        assert store.get("cus_2") is None
        assert event_ids(store.event_scan()) == [_EVENT]

    def test_a_committed_block_keeps_both_and_a_checkpoint_restores_them(
        self, store: Store
    ) -> None:
        saved = store.checkpoint()
        with store.transaction():
            record = _customer("cus_1", 10)
            store.insert_with_event(record, *_created(record))
            store.event_add(_NEXT_EVENT, 11, "customer.deleted", record, None, None, 0)
        assert event_ids(store.event_scan()) == [_NEXT_EVENT, _EVENT]
        assert store.get("cus_1") == _customer("cus_1", 10)
        store.restore(saved)
        assert store.event_scan() == []
        assert store.get("cus_1") is None
        store.check_consistency()

    def test_previous_attributes_worked_out_by_the_store_read_back_on_every_path(
        self, store: Store
    ) -> None:
        first = _customer("cus_1", 10)
        store.insert_with_event(first, *_created(first))
        second = _customer("cus_1", 10, name=_TRICKY, metadata={"plan": "silver"})
        expected = _update(store, _NEXT_EVENT, _customer("cus_1", 10), second)
        assert expected["data"]["previous_attributes"] == {
            "name": "Jenny",
            "metadata": {"plan": "gold"},
        }
        # Later changes of the customer leave the event as it was.
        third = _customer("cus_1", 10, name="Third", metadata={})
        later = _update(store, "evt_01KBGACVQKV3RS3DTR98H6BCFQ", dict(second), third)
        second["name"] = "changed after the call"
        assert store.event_get(_NEXT_EVENT) == expected
        assert store.event_scan(types=["customer.updated"]) == [later, expected]
        assert store.event_get_many([_NEXT_EVENT]) == {_NEXT_EVENT: expected}
        got = store.event_get(_NEXT_EVENT)
        assert got is not None
        assert list(got["data"]) == ["object", "previous_attributes"]
        assert list(got["data"]["previous_attributes"]) == ["name", "metadata"]

    def test_previous_attributes_of_a_record_not_just_replaced_are_worked_out_too(
        self, store: Store
    ) -> None:
        store.insert(_customer("cus_1", 10))
        store.insert(_customer("cus_2", 11))
        other = _customer("cus_2", 11, name="Not the record written")
        parts = ("evt_1", 11, "customer.updated", other, None, None, 0)
        store.event_add(*parts, PreviousAttributes(_changed, _customer("cus_2", 11), other))
        assert store.event_get("evt_1") == event_of(*parts, {"name": "Jenny"})

    def test_an_aborted_update_keeps_no_event_and_the_old_customer(self, store: Store) -> None:
        store.insert(_customer("cus_1", 10))
        with pytest.raises(RuntimeError), store.transaction():
            _update(store, _NEXT_EVENT, _customer("cus_1", 10), _customer("cus_1", 10, name="B"))
            raise RuntimeError("abort")
        assert store.event_scan() == []
        assert store.get("cus_1") == _customer("cus_1", 10)
        expected = _update(store, _EVENT, _customer("cus_1", 10), _customer("cus_1", 10, name="C"))
        assert store.event_scan() == [expected]

    def test_a_checkpoint_and_a_purge_keep_worked_out_events_right(self, store: Store) -> None:
        store.insert(_customer("cus_1", 10))
        expected = _update(store, _EVENT, _customer("cus_1", 10), _customer("cus_1", 10, name="B"))
        saved = store.checkpoint()
        _update(store, _NEXT_EVENT, _customer("cus_1", 10, name="B"), _customer("cus_1", 10))
        store.restore(saved)
        assert store.event_scan() == [expected]
        assert store.get("cus_1") == _customer("cus_1", 10, name="B")
        store.check_consistency()
        assert store.event_purge(before=11) == 1
        assert store.event_scan() == []
