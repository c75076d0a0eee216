"""Store contract for bounded purges: ``event_purge``, ``idempotency_purge`` and
``outbox_purge`` remove at most ``limit`` rows, the oldest expired first, so that a
backlog goes in bites over several writes instead of stalling one.

A mixin of ``StoreContract``: it runs on every store through that class.
"""

from __future__ import annotations

import pytest

from ..store.base import Store
from .contract_events import make_event
from .contract_outbox import make_attempt, make_delivery

__all__ = ["PurgeContract"]


def _event_ids(store: Store) -> list[str]:
    return [event["id"] for event in store.event_scan(descending=False)]


class PurgeContract:
    """Each purge keeps to its limit, takes the oldest first, never an unexpired row, and
    repeated calls finish the backlog."""

    @pytest.fixture
    def with_old_events(self, store: Store) -> Store:
        """Seven events of three types: created 10 to 40 (ties at 20 and 30), one at 50."""
        for event_id, created, type in [
            ("evt_d", 30, "customer.deleted"),
            ("evt_a", 10, "customer.created"),
            ("evt_c", 20, "customer.updated"),
            ("evt_b", 20, "customer.created"),
            ("evt_e", 30, "customer.updated"),
            ("evt_f", 40, "customer.updated"),
            ("evt_g", 50, "customer.created"),
        ]:
            store.event_insert(make_event(event_id, created, type))
        return store

    def test_event_purge_takes_the_oldest_across_types_up_to_its_limit(
        self, with_old_events: Store
    ) -> None:
        store = with_old_events
        assert store.event_purge(before=50, limit=2) == 2
        assert _event_ids(store) == ["evt_c", "evt_d", "evt_e", "evt_f", "evt_g"]
        assert store.event_get("evt_b") is None
        assert store.event_purge(before=50, limit=2) == 2
        assert _event_ids(store) == ["evt_e", "evt_f", "evt_g"]
        assert store.event_purge(before=50, limit=2) == 2
        assert _event_ids(store) == ["evt_g"]  # evt_g, created 50, is not expired
        assert store.event_purge(before=50, limit=2) == 0
        assert [e["id"] for e in store.event_scan(types=["customer.created"])] == ["evt_g"]

    def test_event_purge_by_default_removes_everything_expired_of_a_small_store(
        self, with_old_events: Store
    ) -> None:
        assert with_old_events.event_purge(before=30) == 3
        assert _event_ids(with_old_events) == ["evt_d", "evt_e", "evt_f", "evt_g"]

    def test_repeated_event_purges_work_off_a_backlog(self, store: Store) -> None:
        types = ["customer.created", "customer.updated", "customer.tax_id.created"]
        for number in range(25):
            event_id = f"evt_{number:03}"
            store.event_insert(make_event(event_id, 100 + number // 2, types[number % 3]))
        removed = []
        while count := store.event_purge(before=110, limit=4):
            assert count <= 4
            removed.append(count)
        assert removed == [4, 4, 4, 4, 4]  # the 20 created 100 to 109
        assert _event_ids(store) == [f"evt_{number:03}" for number in range(20, 25)]

    def test_a_bounded_event_purge_rolls_back_with_its_block(self, with_old_events: Store) -> None:
        store = with_old_events
        before = store.snapshot()
        with pytest.raises(RuntimeError), store.transaction():
            assert store.event_purge(before=50, limit=3) == 3
            raise RuntimeError("abort")
        assert store.snapshot() == before
        assert store.event_purge(before=25, limit=10) == 3
        assert _event_ids(store) == ["evt_d", "evt_e", "evt_f", "evt_g"]

    @pytest.fixture
    def with_old_keys(self, store: Store) -> Store:
        """Six idempotency entries: created 10, 20 (two), 30, 40, 50."""
        for key, created in [
            ("k-e", 40),
            ("k-a", 10),
            ("k-c", 20),
            ("k-b", 20),
            ("k-d", 30),
            ("k-f", 50),
        ]:
            store.idempotency_put(key, {"created": created, "status": 200})
        return store

    @staticmethod
    def _kept_keys(store: Store) -> list[str]:
        return [
            key for key in ("k-a", "k-b", "k-c", "k-d", "k-e", "k-f") if store.idempotency_get(key)
        ]

    def test_idempotency_purge_takes_the_oldest_up_to_its_limit(self, with_old_keys: Store) -> None:
        store = with_old_keys
        assert store.idempotency_purge(before=50, limit=2) == 2
        assert self._kept_keys(store) == ["k-c", "k-d", "k-e", "k-f"]  # 10, then k-b of the 20s
        assert store.idempotency_purge(before=50, limit=2) == 2
        assert self._kept_keys(store) == ["k-e", "k-f"]
        assert store.idempotency_purge(before=50, limit=2) == 1
        assert store.idempotency_purge(before=50, limit=2) == 0
        assert self._kept_keys(store) == ["k-f"]  # created 50: not expired

    def test_an_overwritten_key_is_purged_by_its_latest_time(self, with_old_keys: Store) -> None:
        store = with_old_keys
        store.idempotency_put("k-a", {"created": 45, "status": 200})
        assert store.idempotency_purge(before=50, limit=4) == 4
        assert self._kept_keys(store) == ["k-a", "k-f"]

    def test_a_bounded_idempotency_purge_rolls_back_with_its_block(
        self, with_old_keys: Store
    ) -> None:
        store = with_old_keys
        with pytest.raises(RuntimeError), store.transaction():
            assert store.idempotency_purge(before=50, limit=3) == 3
            raise RuntimeError("abort")
        assert self._kept_keys(store) == ["k-a", "k-b", "k-c", "k-d", "k-e", "k-f"]
        assert store.idempotency_purge(before=25, limit=10) == 3
        assert self._kept_keys(store) == ["k-d", "k-e", "k-f"]

    @pytest.fixture
    def with_old_deliveries(self, store: Store) -> Store:
        """Given-up deliveries created 99, 149, 199 (two) and 399, a pending one created 49,
        and attempts created 10, 20, 30 and 400."""
        store.outbox_add(
            [
                make_delivery("evt_c", "we_1", 200.0, status="failed"),
                make_delivery("evt_a", "we_1", 100.0, status="failed"),
                make_delivery("evt_c", "we_2", 200.0, status="failed"),
                make_delivery("evt_b", "we_1", 150.0, status="failed"),
                make_delivery("evt_d", "we_1", 400.0, status="failed"),
                make_delivery("evt_p", "we_1", 50.0),
            ]
        )
        for attempt_id, created in [("wda_c", 30), ("wda_a", 10), ("wda_b", 20), ("wda_d", 400)]:
            store.outbox_settle([], [make_attempt(attempt_id, created)])
        return store

    @staticmethod
    def _left(store: Store) -> tuple[dict[str, int], list[str]]:
        pending = store.outbox_pending(["evt_a", "evt_b", "evt_c", "evt_d", "evt_p"])
        attempts = [a["id"] for a in store.delivery_attempt_scan(descending=False)]
        return pending, attempts

    def test_outbox_purge_takes_given_up_deliveries_then_attempts_up_to_its_limit(
        self, with_old_deliveries: Store
    ) -> None:
        store = with_old_deliveries
        assert store.outbox_purge(before=300.0, limit=3) == 3
        assert self._left(store) == (
            {"evt_c": 1, "evt_d": 1, "evt_p": 1},  # evt_c to we_2 (same created) stays
            ["wda_a", "wda_b", "wda_c", "wda_d"],
        )
        assert store.outbox_purge(before=300.0, limit=3) == 3
        assert self._left(store) == ({"evt_d": 1, "evt_p": 1}, ["wda_c", "wda_d"])
        assert store.outbox_purge(before=300.0, limit=3) == 1
        assert store.outbox_purge(before=300.0, limit=3) == 0
        # The pending delivery (created 49) is not given up; created 399 and 400 are young.
        assert self._left(store) == ({"evt_d": 1, "evt_p": 1}, ["wda_d"])

    def test_a_bounded_outbox_purge_rolls_back_with_its_block(
        self, with_old_deliveries: Store
    ) -> None:
        store = with_old_deliveries
        before = self._left(store)
        with pytest.raises(RuntimeError), store.transaction():
            assert store.outbox_purge(before=300.0, limit=5) == 5
            raise RuntimeError("abort")
        assert self._left(store) == before
        assert store.outbox_purge(before=300.0, limit=100) == 7
