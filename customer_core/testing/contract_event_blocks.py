"""Store contract: events and their deliveries written inside a transaction block.

The service writes a customer, its event and the event's deliveries in one block. A store
may send the event and delivery rows later than the call (PostgreSQL sends them with the
block's next statement or its COMMIT, a round trip saved), so these tests pin what any
store must keep: reads inside the block see them, the block commits them with the rest,
and a refused one (a taken id) makes the block fail and leaves nothing of it.
A mixin of ``StoreContract``: it runs on every store through that class.
"""

from __future__ import annotations

from typing import Any

import pytest

from ..errors import DuplicateKeyError
from ..store.base import KeyRange, Record, Store
from .contract_events import make_event
from .contract_outbox import make_delivery

__all__ = ["EventBlockContract"]


def _customer(customer_id: str, created: int) -> Record:
    return {"id": customer_id, "object": "customer", "created": created, "metadata": {}}


def _event_ids(events: list[Record]) -> list[Any]:
    return [event["id"] for event in events]


class EventBlockContract:
    """An event and its deliveries in the block of the write they record."""

    def test_a_block_reads_back_its_event_and_deliveries_then_commits_them(
        self, store: Store
    ) -> None:
        with store.transaction():
            store.insert(_customer("cus_1", 10))
            store.event_insert(make_event("evt_1", 10))
            store.outbox_add([make_delivery("evt_1", "we_1", 20.0)])
            assert store.event_get("evt_1") == make_event("evt_1", 10)
            assert store.outbox_pending(["evt_1"]) == {"evt_1": 1}
            store.event_insert(make_event("evt_2", 11, "customer.updated"))
            assert _event_ids(store.event_scan(KeyRange())) == ["evt_2", "evt_1"]
        assert store.get("cus_1") is not None
        assert _event_ids(store.event_scan()) == ["evt_2", "evt_1"]
        assert store.outbox_event_ids() == {"evt_1"}
        # A block that writes nothing but an event and its deliveries commits them too.
        with store.transaction():
            store.event_insert(make_event("evt_3", 12, body='it\'s 100% \\ "quoted" \u00e9'))
            store.outbox_add(
                [make_delivery("evt_3", "we_1", 30.0), make_delivery("evt_3", "we_2", 31.0)]
            )
        assert store.event_get("evt_3") == make_event(
            "evt_3", 12, body='it\'s 100% \\ "quoted" \u00e9'
        )
        assert store.outbox_pending(["evt_3"]) == {"evt_3": 2}

    def test_a_taken_event_id_fails_the_block_and_leaves_nothing_of_it(self, store: Store) -> None:
        store.event_insert(make_event("evt_1", 100))
        with pytest.raises(DuplicateKeyError) as caught, store.transaction():
            store.insert(_customer("cus_1", 200))
            store.event_insert(make_event("evt_1", 200))
            store.outbox_add([make_delivery("evt_1", "we_1", 300.0)])
        assert caught.value.key == "id"
        assert "evt_1" in str(caught.value)
        assert store.get("cus_1") is None
        assert store.event_get("evt_1") == make_event("evt_1", 100)
        assert store.outbox_event_ids() == set()
        # The store goes on: the next block commits.
        with store.transaction():
            store.insert(_customer("cus_2", 200))
            store.event_insert(make_event("evt_2", 200))
        assert _event_ids(store.event_scan()) == ["evt_2", "evt_1"]

    def test_a_taken_event_id_is_refused_at_the_latest_by_the_next_call_in_the_block(
        self, store: Store
    ) -> None:
        store.event_insert(make_event("evt_1", 100))
        with pytest.raises(DuplicateKeyError), store.transaction():
            store.event_insert(make_event("evt_1", 200))
            store.event_get("evt_1")  # a read sends what the block has not sent yet
            pytest.fail("the taken id was not refused before the block's next read")
        assert store.event_get("evt_1") == make_event("evt_1", 100)

    def test_a_delivery_already_made_fails_the_block_and_leaves_nothing_of_it(
        self, store: Store
    ) -> None:
        store.event_insert(make_event("evt_1", 100))
        store.outbox_add([make_delivery("evt_1", "we_1", 150.0)])
        with pytest.raises(DuplicateKeyError), store.transaction():
            store.event_insert(make_event("evt_2", 200))
            store.outbox_add([make_delivery("evt_2", "we_1", 250.0)])
            store.outbox_add([make_delivery("evt_1", "we_1", 260.0)])
        assert store.event_get("evt_2") is None
        assert store.outbox_event_ids() == {"evt_1"}
        assert store.outbox_pending(["evt_1", "evt_2"]) == {"evt_1": 1}
