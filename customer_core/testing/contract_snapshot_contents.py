"""Store contract: ``Store.snapshot()`` shows everything a caller can observe (webhook
endpoints too), so comparing two snapshots compares whole states, and a restore brings
every part back. Mixed into ``StoreContract``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..store.base import Store
from .contract_events import make_event
from .contract_tax_ids import make_tax_id

__all__ = ["SnapshotContentsContract"]


def _record(customer_id: str, created: int, **fields: Any) -> dict[str, Any]:
    # store_contract imports this module: its make_record is read when a test runs.
    from .store_contract import make_record

    return make_record(customer_id, created, **fields)


def _endpoint(endpoint_id: str, created: int, url: str) -> dict[str, Any]:
    return {"id": endpoint_id, "created": created, "url": url, "secret": f"whsec_{endpoint_id}"}


class SnapshotContentsContract:
    PARTS = (
        "customers",
        "tombstones",
        "invoice_prefixes",
        "idempotency_keys",
        "tax_ids",
        "events",
        "webhook_endpoints",
    )

    def make_store(self, tmp_path: Path) -> Store:
        raise NotImplementedError

    def test_snapshot_shows_webhook_endpoints_in_key_order(self, store: Store) -> None:
        for endpoint_id, created in [("we_b", 20), ("we_a", 20), ("we_c", 10)]:
            store.webhook_endpoint_put(_endpoint(endpoint_id, created, "https://x.example"))
        assert store.snapshot()["webhook_endpoints"] == [
            _endpoint("we_c", 10, "https://x.example"),
            _endpoint("we_a", 20, "https://x.example"),
            _endpoint("we_b", 20, "https://x.example"),
        ]

    def test_a_restore_brings_back_every_part_a_snapshot_shows(self, store: Store) -> None:
        store.insert(_record("cus_1", 10, invoice_prefix="ONE"))
        store.insert(_record("cus_2", 20, invoice_prefix="TWO"))
        store.delete("cus_2")
        store.idempotency_put("key-1", {"created": 5, "body": {"id": "cus_1"}})
        store.insert_tax_id(make_tax_id("txi_1", "cus_1", 11))
        store.event_insert(make_event("evt_1", 12))
        store.webhook_endpoint_put(_endpoint("we_1", 13, "https://one.example"))
        before = store.snapshot()
        # Each part shown (a store may show more parts than these).
        assert {name: len(before[name]) for name in self.PARTS} == {
            "customers": 1,
            "tombstones": 1,
            "invoice_prefixes": 2,
            "idempotency_keys": 1,
            "tax_ids": 1,
            "events": 1,
            "webhook_endpoints": 1,
        }
        checkpoint = store.checkpoint()
        store.webhook_endpoint_put(_endpoint("we_1", 13, "https://changed.example"))
        store.webhook_endpoint_put(_endpoint("we_2", 14, "https://two.example"))
        store.event_insert(make_event("evt_2", 15))
        store.insert(_record("cus_3", 30, invoice_prefix="THREE"))
        changed = store.snapshot()
        assert changed["webhook_endpoints"] != before["webhook_endpoints"]
        store.restore(checkpoint)
        assert store.snapshot() == before
        assert store.webhook_endpoint_get("we_2") is None
        store.webhook_endpoint_delete("we_1")
        store.restore(checkpoint)
        assert store.webhook_endpoint_get("we_1") == _endpoint("we_1", 13, "https://one.example")
