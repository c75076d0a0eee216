"""Store contract for ``outbox_event_ids``: the events with a delivery not yet made, which
the events list's ``delivery_success`` filter reads.

A mixin of ``StoreContract``: it runs on every store through that class.
"""

from __future__ import annotations

from ..store.base import Store
from .contract_outbox import make_delivery

__all__ = ["OutboxEventsContract"]


class OutboxEventsContract:
    """An event is in ``outbox_event_ids`` while one of its deliveries is pending or was
    given up; made and canceled deliveries leave, as the purge of given-up ones does."""

    def test_outbox_event_ids_are_the_events_with_a_delivery_not_yet_made(
        self, store: Store
    ) -> None:
        assert store.outbox_event_ids() == set()
        store.outbox_add(
            [
                make_delivery("evt_a", "we_1", 100.0),
                make_delivery("evt_a", "we_2", 100.0),
                make_delivery("evt_b", "we_1", 200.0),
                make_delivery("evt_c", "we_1", 300.0),
            ]
        )
        assert store.outbox_event_ids() == {"evt_a", "evt_b", "evt_c"}
        # One of evt_a's two made, evt_b given up: both still have one not made.
        store.outbox_settle(
            [
                make_delivery("evt_a", "we_1", 100.0, status="succeeded", attempts=1),
                make_delivery("evt_b", "we_1", 200.0, status="failed", attempts=1),
            ],
            [],
        )
        assert store.outbox_event_ids() == {"evt_a", "evt_b", "evt_c"}
        store.outbox_settle(
            [
                make_delivery("evt_a", "we_2", 100.0, status="canceled"),
                make_delivery("evt_c", "we_1", 300.0, status="succeeded", attempts=1),
            ],
            [],
        )
        assert store.outbox_event_ids() == {"evt_b"}
        # A rolled-back add leaves nothing behind.
        try:
            with store.transaction():
                store.outbox_add([make_delivery("evt_d", "we_1", 400.0)])
                assert "evt_d" in store.outbox_event_ids()
                raise LookupError("roll back")
        except LookupError:
            pass
        assert store.outbox_event_ids() == {"evt_b"}
        assert store.outbox_purge(before=1000.0) == 1  # the given-up delivery, created at 199
        assert store.outbox_event_ids() == set()
