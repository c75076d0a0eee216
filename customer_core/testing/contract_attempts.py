"""Store contract for finding one delivery attempt by id (``delivery_attempt_get``): what
the attempts list's cursors (``starting_after``, ``ending_before``) stand on.

A mixin of ``StoreContract``: it runs on every store through that class.
"""

from __future__ import annotations

from ..store.base import Store
from .contract_outbox import make_attempt

__all__ = ["AttemptLookupContract"]


class AttemptLookupContract:
    """An attempt is found by its id as it was added, until it is purged."""

    def test_an_attempt_is_found_by_its_id(self, store: Store) -> None:
        first = make_attempt("wda_1", 100, "we_1", duration_ms=12, succeeded=False)
        second = make_attempt("wda_2", 200, "we_2", status_code=200, succeeded=True)
        store.outbox_settle([], [first, second])
        assert store.delivery_attempt_get("wda_1") == first
        assert store.delivery_attempt_get("wda_2") == second
        assert store.delivery_attempt_get("wda_3") is None
        assert store.delivery_attempt_get("") is None

    def test_a_purged_attempt_is_not_found(self, store: Store) -> None:
        store.outbox_settle([], [make_attempt("wda_old", 100), make_attempt("wda_new", 300)])
        assert store.outbox_purge(before=200) == 1
        assert store.delivery_attempt_get("wda_old") is None
        assert store.delivery_attempt_get("wda_new") == make_attempt("wda_new", 300)

    def test_an_attempt_added_in_a_transaction_that_failed_is_not_found(self, store: Store) -> None:
        try:
            with store.transaction():
                store.outbox_settle([], [make_attempt("wda_gone", 100)])
                raise RuntimeError("the block fails")
        except RuntimeError:
            pass
        assert store.delivery_attempt_get("wda_gone") is None
