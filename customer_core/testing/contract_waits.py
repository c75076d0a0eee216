"""Store contract: ``Store.waits_abandoned()``. Inside it, calls that need no wait for a
lock held elsewhere run as usual (a stopping server still finishes the writes it began);
what a store does with a wait it abandons is tested per store. Mixed into ``StoreContract``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..store.base import Store

__all__ = ["WaitsContract"]


def _record(customer_id: str, created: int, **fields: Any) -> dict[str, Any]:
    # store_contract imports this module: its make_record is read when a test runs.
    from .store_contract import make_record

    return make_record(customer_id, created, **fields)


class WaitsContract:
    def make_store(self, tmp_path: Path) -> Store:
        raise NotImplementedError

    def test_calls_that_need_no_wait_run_while_waits_are_abandoned(self, store: Store) -> None:
        with store.waits_abandoned():
            store.insert(_record("cus_1", 10, invoice_prefix="ONE"))
            with store.waits_abandoned(), store.transaction():
                store.replace(_record("cus_1", 10, invoice_prefix="ONE", name="Jenny"))
            assert (store.get("cus_1") or {}).get("name") == "Jenny"
        store.insert(_record("cus_2", 20))
        assert store.count() == 2
