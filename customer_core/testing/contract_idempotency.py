"""Store contract, idempotency entries: purges go by each entry's latest ``created``, and
a rolled-back overwrite or purge leaves every entry purgeable as before. Mixed into
``StoreContract``.

A store may keep an entry's time apart from its body so that a purge need not read every
body (the memory store does); these tests catch the two drifting apart.
"""

from __future__ import annotations

import pytest

from ..store.base import Store

__all__ = ["IdempotencyContract"]


class IdempotencyContract:
    """Idempotency purges after overwrites and rollbacks."""

    def test_purge_goes_by_the_latest_put_of_a_key(self, store: Store) -> None:
        store.idempotency_put("moved", {"created": 100})
        store.idempotency_put("moved", {"created": 5})
        store.idempotency_put("kept", {"created": 5})
        store.idempotency_put("kept", {"created": 100})
        assert store.idempotency_purge(before=50) == 1
        assert store.idempotency_get("moved") is None
        assert store.idempotency_get("kept") == {"created": 100}

    def test_entries_restored_by_a_rollback_are_purged_later(self, store: Store) -> None:
        store.idempotency_put("old", {"created": 1, "body": {"id": "cus_1"}})
        store.idempotency_put("young", {"created": 40})
        with pytest.raises(RuntimeError), store.transaction():
            store.idempotency_put("old", {"created": 90})
            assert store.idempotency_purge(before=50) == 1  # "young"
            raise RuntimeError("boom")
        assert store.idempotency_get("young") == {"created": 40}
        assert store.idempotency_purge(before=30) == 1
        assert store.idempotency_get("old") is None
        assert store.idempotency_purge(before=50) == 1
        assert store.idempotency_get("young") is None
        assert store.idempotency_purge(before=1_000) == 0
