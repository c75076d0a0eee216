"""Store contract for events: ``event_insert``, ``event_get``, ``event_scan``, ``event_purge``.

A mixin of ``StoreContract``: it runs on every store through that class.
"""

from __future__ import annotations

from typing import Any

import pytest

from ..errors import DuplicateKeyError, RecordNotFoundError
from ..store.base import KeyRange, Record, Store

__all__ = ["EventContract", "make_event"]


def make_event(
    event_id: str, created: int, type: str = "customer.created", **fields: Any
) -> Record:
    """A small event with nested values to round-trip."""
    return {
        "id": event_id,
        "object": "event",
        "created": created,
        "data": {"object": {"id": "cus_1", "metadata": {"k": "v"}, "preferred_locales": []}},
        "request": {"id": None, "idempotency_key": "key-1"},
        "type": type,
        **fields,
    }


def event_ids(events: list[Record]) -> list[str]:
    return [event["id"] for event in events]


class EventContract:
    """Events are appended, read back by id, walked in ``(created, id)`` order and purged."""

    @pytest.fixture
    def with_events(self, store: Store) -> Store:
        """Five events: created 10 (created), 20 (updated x2, deleted), 30 (updated)."""
        for event_id, created, type in [
            ("evt_a", 10, "customer.created"),
            ("evt_c", 20, "customer.updated"),
            ("evt_b", 20, "customer.updated"),
            ("evt_d", 20, "customer.deleted"),
            ("evt_e", 30, "customer.updated"),
        ]:
            store.event_insert(make_event(event_id, created, type))
        return store

    def test_event_insert_then_get_returns_an_equal_copy(self, store: Store) -> None:
        event = make_event("evt_1", 100)
        store.event_insert(event)
        event["data"]["object"]["metadata"]["k"] = "changed"
        got = store.event_get("evt_1")
        assert got is not None
        assert got == make_event("evt_1", 100)
        assert list(got) == list(event)
        got["data"]["object"]["id"] = "changed"
        assert store.event_get("evt_1") == make_event("evt_1", 100)
        assert store.event_get("evt_missing") is None

    def test_event_insert_rejects_an_id_already_taken(self, store: Store) -> None:
        store.event_insert(make_event("evt_1", 100))
        with pytest.raises(DuplicateKeyError) as caught:
            store.event_insert(make_event("evt_1", 200))
        assert caught.value.key == "id"
        assert store.event_get("evt_1")["created"] == 100  # type: ignore[index]

    def test_event_scan_walks_created_then_id_both_ways(self, with_events: Store) -> None:
        newest_first = ["evt_e", "evt_d", "evt_c", "evt_b", "evt_a"]
        assert event_ids(with_events.event_scan()) == newest_first
        assert event_ids(with_events.event_scan(descending=False)) == newest_first[::-1]
        assert event_ids(with_events.event_scan(limit=2)) == ["evt_e", "evt_d"]

    def test_event_scan_keeps_to_the_key_range(self, with_events: Store) -> None:
        below_c = KeyRange(upper=(20, "evt_c"), upper_inclusive=False)
        assert event_ids(with_events.event_scan(below_c)) == ["evt_b", "evt_a"]
        from_20 = KeyRange(lower=(20, ""), upper=(21, ""), upper_inclusive=False)
        assert event_ids(with_events.event_scan(from_20, descending=False)) == [
            "evt_b",
            "evt_c",
            "evt_d",
        ]

    def test_event_scan_filters_by_types_in_key_order(self, with_events: Store) -> None:
        updated = with_events.event_scan(types=["customer.updated"])
        assert event_ids(updated) == ["evt_e", "evt_c", "evt_b"]
        two = with_events.event_scan(types={"customer.created", "customer.deleted"})
        assert event_ids(two) == ["evt_d", "evt_a"]
        mixed = with_events.event_scan(
            KeyRange(upper=(20, "evt_d"), upper_inclusive=False),
            descending=False,
            types=["customer.updated", "customer.created"],
            limit=2,
        )
        assert event_ids(mixed) == ["evt_a", "evt_b"]
        assert with_events.event_scan(types=[]) == []
        assert with_events.event_scan(types=["invoice.paid"]) == []

    def test_event_purge_removes_only_older_events(self, with_events: Store) -> None:
        assert with_events.event_purge(before=20) == 1
        assert with_events.event_get("evt_a") is None
        assert event_ids(with_events.event_scan(types=["customer.created"])) == []
        assert event_ids(with_events.event_scan()) == ["evt_e", "evt_d", "evt_c", "evt_b"]
        assert with_events.event_purge(before=20) == 0

    def test_events_roll_back_with_their_transaction(self, with_events: Store) -> None:
        before = with_events.snapshot()
        with pytest.raises(RuntimeError), with_events.transaction():
            with_events.event_insert(make_event("evt_f", 40))
            with_events.event_purge(before=25)
            raise RuntimeError("abort")
        assert with_events.snapshot() == before
        assert event_ids(with_events.snapshot()["events"]) == [
            "evt_a",
            "evt_b",
            "evt_c",
            "evt_d",
            "evt_e",
        ]
        assert event_ids(with_events.event_scan(types=["customer.updated"])) == [
            "evt_e",
            "evt_c",
            "evt_b",
        ]

    # --- webhook endpoints ----------------------------------------------------------------

    def test_webhook_endpoints_are_saved_replaced_listed_and_deleted(self, store: Store) -> None:
        for endpoint_id, created in [("we_a", 10), ("we_c", 20), ("we_b", 20)]:
            store.webhook_endpoint_put(
                {"id": endpoint_id, "created": created, "url": "http://x", "secret": "whsec_1"}
            )
        assert [e["id"] for e in store.webhook_endpoint_scan()] == ["we_c", "we_b", "we_a"]
        assert [e["id"] for e in store.webhook_endpoint_scan(descending=False, limit=2)] == [
            "we_a",
            "we_b",
        ]
        below = KeyRange(upper=(20, "we_c"), upper_inclusive=False)
        assert [e["id"] for e in store.webhook_endpoint_scan(below)] == ["we_b", "we_a"]
        store.webhook_endpoint_put({"id": "we_a", "created": 99, "url": "http://y"})
        assert store.webhook_endpoint_get("we_a") == {
            "id": "we_a",
            "created": 10,
            "url": "http://y",
        }
        before = store.snapshot()
        with pytest.raises(RuntimeError), store.transaction():
            store.webhook_endpoint_delete("we_b")
            store.webhook_endpoint_put({"id": "we_d", "created": 5, "url": "http://z"})
            raise RuntimeError("abort")
        assert store.snapshot() == before
        assert [e["id"] for e in store.webhook_endpoint_scan()] == ["we_c", "we_b", "we_a"]
        store.webhook_endpoint_delete("we_b")
        assert store.webhook_endpoint_get("we_b") is None
        with pytest.raises(RecordNotFoundError):
            store.webhook_endpoint_delete("we_b")
        assert [e["id"] for e in store.webhook_endpoint_scan()] == ["we_c", "we_a"]
