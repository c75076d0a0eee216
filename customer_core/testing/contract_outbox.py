"""Store contract for webhook deliveries: the outbox (``outbox_add``, ``outbox_next_due``,
``outbox_claim``, ``outbox_settle``, ``outbox_pending``, ``outbox_purge``,
``outbox_cancel``) and the delivery
attempts (``delivery_attempt_scan``).

A mixin of ``StoreContract``: it runs on every store through that class.
"""

from __future__ import annotations

from typing import Any

import pytest

from ..errors import DuplicateKeyError
from ..store.base import KeyRange, Record, Store

__all__ = ["OutboxContract", "make_attempt", "make_delivery"]


def make_delivery(event: str, endpoint: str, next_attempt: float, **fields: Any) -> Record:
    """A pending delivery, created a second before it is due."""
    return {
        "event": event,
        "endpoint": endpoint,
        "created": next_attempt - 1.0,
        "next_attempt": next_attempt,
        "attempts": 0,
        "status": "pending",
        **fields,
    }


def make_attempt(attempt_id: str, created: int, endpoint: str = "we_1", **fields: Any) -> Record:
    """A delivery attempt record with nested values to round-trip."""
    return {
        "id": attempt_id,
        "object": "webhook_delivery_attempt",
        "created": created,
        "endpoint": endpoint,
        "event": "evt_1",
        "status_code": 500,
        "error": None,
        "response": {"headers": {"x": "y"}},
        **fields,
    }


def keys(deliveries: list[Record]) -> list[tuple[str, str]]:
    return sorted((d["event"], d["endpoint"]) for d in deliveries)


class OutboxContract:
    """Deliveries wait in the outbox until due, are leased to one worker at a time, and
    leave it when made; attempts are kept and walked in ``(created, id)`` order."""

    @pytest.fixture
    def with_outbox(self, store: Store) -> Store:
        """Four deliveries: evt_a to we_1 and we_2 due at 100, evt_b to we_1 at 200 and
        evt_c to we_2 at 300."""
        store.outbox_add(
            [make_delivery("evt_a", "we_1", 100.0), make_delivery("evt_a", "we_2", 100.0)]
        )
        store.outbox_add([make_delivery("evt_b", "we_1", 200.0)])
        store.outbox_add([make_delivery("evt_c", "we_2", 300.0)])
        return store

    def test_an_empty_outbox_has_nothing_due(self, store: Store) -> None:
        assert store.outbox_next_due() is None
        assert store.outbox_claim(1e12, 2e12, 10) == []
        assert store.outbox_pending(["evt_a"]) == {}
        assert store.outbox_pending([]) == {}
        store.outbox_add([])

    def test_claim_takes_due_deliveries_earliest_first_and_leases_them(
        self, with_outbox: Store
    ) -> None:
        store = with_outbox
        assert store.outbox_next_due() == 100.0
        assert store.outbox_claim(99.5, 1000.0, 10) == []
        claimed = store.outbox_claim(250.0, 1000.0, 2)
        assert keys(claimed) == [("evt_a", "we_1"), ("evt_a", "we_2")]
        assert {d["next_attempt"] for d in claimed} == {1000.0}
        assert sorted(claimed, key=lambda d: d["endpoint"])[0] == {
            **make_delivery("evt_a", "we_1", 100.0),
            "next_attempt": 1000.0,
        }
        # Leased: not due again before the lease ends, then due again.
        assert keys(store.outbox_claim(250.0, 1000.0, 10)) == [("evt_b", "we_1")]
        assert store.outbox_next_due() == 300.0
        assert store.outbox_claim(299.0, 2000.0, 10) == []
        assert keys(store.outbox_claim(1000.0, 2000.0, 10)) == [
            ("evt_a", "we_1"),
            ("evt_a", "we_2"),
            ("evt_b", "we_1"),
            ("evt_c", "we_2"),
        ]
        assert store.outbox_next_due() == 2000.0

    def test_a_second_delivery_of_an_event_to_an_endpoint_is_refused(
        self, with_outbox: Store
    ) -> None:
        with pytest.raises(DuplicateKeyError) as caught:
            with_outbox.outbox_add([make_delivery("evt_d", "we_1", 5.0)] * 2)
        assert caught.value.key == "id"
        with pytest.raises(DuplicateKeyError):
            with_outbox.outbox_add([make_delivery("evt_a", "we_1", 5.0)])
        assert with_outbox.outbox_pending(["evt_a", "evt_d"]) == {"evt_a": 2}
        assert with_outbox.outbox_next_due() == 100.0

    def test_settle_keeps_retries_and_failures_and_removes_the_delivered(
        self, with_outbox: Store
    ) -> None:
        store = with_outbox
        assert store.outbox_pending(["evt_a", "evt_b", "evt_c", "evt_x"]) == {
            "evt_a": 2,
            "evt_b": 1,
            "evt_c": 1,
        }
        claimed = {(d["event"], d["endpoint"]): d for d in store.outbox_claim(300.0, 900.0, 10)}
        store.outbox_settle(
            [
                {**claimed["evt_a", "we_1"], "status": "succeeded", "attempts": 1},
                {**claimed["evt_a", "we_2"], "next_attempt": 400.0, "attempts": 1},
                {**claimed["evt_b", "we_1"], "status": "failed", "attempts": 7},
                {**claimed["evt_c", "we_2"], "status": "canceled"},
                make_delivery("evt_gone", "we_1", 1.0, status="failed"),
            ],
            [make_attempt("wda_1", 300), make_attempt("wda_2", 300, "we_2")],
        )
        assert store.outbox_pending(["evt_a", "evt_b", "evt_c", "evt_gone"]) == {
            "evt_a": 1,
            "evt_b": 1,
        }
        assert store.outbox_next_due() == 400.0
        assert store.outbox_claim(10_000.0, 20_000.0, 10) == [
            {
                **make_delivery("evt_a", "we_2", 100.0),
                "attempts": 1,
                "next_attempt": 20_000.0,
            }
        ]
        assert store.outbox_next_due() == 20_000.0  # the failed one is never due
        assert [a["id"] for a in store.delivery_attempt_scan()] == ["wda_2", "wda_1"]
        with pytest.raises(DuplicateKeyError):
            store.outbox_settle([], [make_attempt("wda_1", 301)])
        assert store.delivery_attempt_scan(endpoint="we_1") == [make_attempt("wda_1", 300)]

    def test_attempts_are_walked_in_key_order_by_endpoint(self, store: Store) -> None:
        store.outbox_settle(
            [],
            [
                make_attempt("wda_a", 10, "we_1"),
                make_attempt("wda_c", 20, "we_2"),
                make_attempt("wda_b", 20, "we_1"),
                make_attempt("wda_d", 30, "we_1"),
            ],
        )

        def ids(**options: Any) -> list[str]:
            return [a["id"] for a in store.delivery_attempt_scan(**options)]

        assert ids() == ["wda_d", "wda_c", "wda_b", "wda_a"]
        assert ids(descending=False, limit=2) == ["wda_a", "wda_b"]
        assert ids(endpoint="we_1") == ["wda_d", "wda_b", "wda_a"]
        assert ids(endpoint="we_2") == ["wda_c"]
        assert ids(endpoint="we_3") == []
        below = KeyRange(upper=(20, "wda_c"), upper_inclusive=False)
        assert ids(key_range=below) == ["wda_b", "wda_a"]
        assert ids(key_range=below, endpoint="we_1", descending=False, limit=1) == ["wda_a"]
        assert store.delivery_attempt_scan(endpoint="we_2") == [make_attempt("wda_c", 20, "we_2")]

    def test_purge_removes_old_failures_and_attempts_only(self, with_outbox: Store) -> None:
        store = with_outbox
        claimed = {(d["event"], d["endpoint"]): d for d in store.outbox_claim(300.0, 900.0, 10)}
        store.outbox_settle(
            [
                {**claimed["evt_a", "we_1"], "status": "failed"},  # created 99
                {**claimed["evt_c", "we_2"], "status": "failed"},  # created 299
            ],
            [make_attempt("wda_1", 150), make_attempt("wda_2", 250)],
        )
        assert store.outbox_purge(before=200.0) == 2
        assert store.outbox_pending(["evt_a", "evt_b", "evt_c"]) == {
            "evt_a": 1,
            "evt_b": 1,
            "evt_c": 1,
        }
        assert [a["id"] for a in store.delivery_attempt_scan()] == ["wda_2"]
        assert store.outbox_purge(before=200.0) == 0

    def test_cancel_removes_an_endpoints_pending_and_given_up_deliveries(
        self, with_outbox: Store
    ) -> None:
        store = with_outbox
        (failed,) = [d for d in store.outbox_claim(100.0, 900.0, 10) if d["endpoint"] == "we_1"]
        store.outbox_settle([{**failed, "status": "failed"}], [make_attempt("wda_1", 150)])
        assert store.outbox_cancel("we_1") == 2  # evt_a's given up, evt_b's pending
        assert store.outbox_pending(["evt_a", "evt_b", "evt_c"]) == {"evt_a": 1, "evt_c": 1}
        assert store.outbox_event_ids() == {"evt_a", "evt_c"}
        assert [a["id"] for a in store.delivery_attempt_scan()] == ["wda_1"]  # kept
        assert keys(store.outbox_claim(1000.0, 2000.0, 10)) == [
            ("evt_a", "we_2"),
            ("evt_c", "we_2"),
        ]
        assert store.outbox_cancel("we_1") == 0
        assert store.outbox_cancel("we_nowhere") == 0

    def test_outbox_changes_roll_back_with_their_transaction(self, with_outbox: Store) -> None:
        store = with_outbox
        with pytest.raises(RuntimeError), store.transaction():
            store.outbox_add([make_delivery("evt_d", "we_1", 50.0)])
            claimed = store.outbox_claim(150.0, 900.0, 10)
            store.outbox_settle(
                [{**d, "status": "succeeded"} for d in claimed], [make_attempt("wda_1", 1)]
            )
            store.outbox_purge(before=1e9)
            store.outbox_cancel("we_2")
            raise RuntimeError("abort")
        assert store.outbox_pending(["evt_a", "evt_b", "evt_c", "evt_d"]) == {
            "evt_a": 2,
            "evt_b": 1,
            "evt_c": 1,
        }
        assert store.outbox_next_due() == 100.0
        assert store.delivery_attempt_scan() == []
        assert keys(store.outbox_claim(150.0, 900.0, 10)) == [("evt_a", "we_1"), ("evt_a", "we_2")]
