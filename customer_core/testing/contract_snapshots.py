"""Store contract: checkpoints and restores (``Store.checkpoint`` / ``Store.restore``).

A mixin of ``StoreContract``: it runs on every store with the contract's ``store``
fixture and ``make_store``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ..errors import DuplicateKeyError, StoreClosedError
from ..search import engine as search_engine
from ..search import parse
from ..store.base import Checkpoint, KeyRange, Store
from .contract_tax_ids import make_tax_id

__all__ = ["SnapshotContract"]


def _record(customer_id: str, created: int, **fields: Any) -> dict[str, Any]:
    # store_contract imports this module: its make_record is read when a test runs.
    from .store_contract import make_record

    return make_record(customer_id, created, **fields)


def _ids(records: list[dict[str, Any]]) -> list[str]:
    return [record["id"] for record in records]


class SnapshotContract:
    """A checkpoint is everything the store keeps; a restore brings all of it back."""

    def make_store(self, tmp_path: Path) -> Store:
        raise NotImplementedError

    @pytest.fixture
    def kept(self, store: Store) -> Store:
        """Live customers, a tombstone, a changed prefix, idempotency keys and tax IDs."""
        store.insert(_record("cus_1", 10, email="amy@example.com", invoice_prefix="ONE"))
        store.insert(_record("cus_2", 20, email="bob@example.com", metadata={"plan": "gold"}))
        store.insert(_record("cus_3", 30, invoice_prefix="THREE"))
        store.insert(_record("cus_4", 40, invoice_prefix="FOUR"))
        store.delete("cus_4")
        store.replace(_record("cus_3", 30, invoice_prefix="NEW3"))
        store.idempotency_put("key-1", {"created": 5, "body": {"id": "cus_1"}})
        store.idempotency_put("key-2", {"created": 50, "body": None})
        store.insert_tax_id(make_tax_id("txi_1", "cus_1", 11))
        store.insert_tax_id(make_tax_id("txi_2", "cus_2", 21))
        return store

    @staticmethod
    def _change_everything(store: Store) -> None:
        store.insert(_record("cus_5", 50, email="amy@example.com", invoice_prefix="FIVE"))
        store.replace(_record("cus_1", 10, email="new@example.com", invoice_prefix="NEW1"))
        store.replace(_record("cus_2", 20, metadata={"plan": "silver"}))
        store.delete("cus_3")
        store.idempotency_put("key-3", {"created": 60})
        store.idempotency_put("key-2", {"created": 70})
        store.idempotency_purge(before=10)
        store.insert_tax_id(make_tax_id("txi_5", "cus_5", 51))
        store.delete_tax_id("txi_1")

    def test_restore_brings_back_exactly_what_the_checkpoint_saw(self, kept: Store) -> None:
        before = kept.snapshot()
        checkpoint = kept.checkpoint()
        self._change_everything(kept)
        assert kept.snapshot() != before
        kept.restore(checkpoint)
        assert kept.snapshot() == before
        kept.check_consistency()

    def test_indexes_and_reservations_follow_the_restore(self, kept: Store) -> None:
        checkpoint = kept.checkpoint()
        self._change_everything(kept)
        kept.restore(checkpoint)
        assert _ids(kept.scan(email="amy@example.com")) == ["cus_1"]
        assert kept.metadata_keys("plan", "gold", KeyRange(), limit=5) == [(20, "cus_2")]
        assert kept.metadata_keys("plan", "silver", KeyRange(), limit=5) == []
        assert _ids(search_engine.find(kept, parse('email:"new@example.com"'), limit=5)) == []
        assert kept.is_deleted("cus_4") and not kept.is_deleted("cus_3")
        assert kept.count() == 3
        # Ids and prefixes taken after the checkpoint are free again; those before are not.
        kept.insert(_record("cus_5", 50, invoice_prefix="FIVE"))
        kept.insert(_record("cus_6", 60, invoice_prefix="NEW1"))
        for taken, prefix in (("cus_4", None), ("cus_7", "FOUR"), ("cus_8", "THREE")):
            with pytest.raises(DuplicateKeyError):
                kept.insert(_record(taken, 70, invoice_prefix=prefix))
        assert kept.idempotency_get("key-1") == {"created": 5, "body": {"id": "cus_1"}}
        assert kept.idempotency_get("key-3") is None
        assert _ids(kept.tax_ids("cus_1")) == ["txi_1"]
        assert kept.get_tax_id("txi_5") is None

    def test_a_checkpoint_restores_any_number_of_times(self, kept: Store) -> None:
        before = kept.snapshot()
        checkpoint = kept.checkpoint()
        for round_number in range(3):
            self._change_everything(kept)
            kept.insert(_record(f"cus_round{round_number}", 90))
            kept.restore(checkpoint)
            assert kept.snapshot() == before

    def test_an_empty_checkpoint_empties_the_store(self, store: Store) -> None:
        empty, nothing = store.checkpoint(), store.snapshot()
        self._fill_a_little(store)
        store.restore(empty)
        assert store.snapshot() == nothing
        assert nothing["customers"] == [] and nothing["tombstones"] == {}
        assert store.count() == 0 and store.scan() == []

    @staticmethod
    def _fill_a_little(store: Store) -> None:
        store.insert(_record("cus_1", 10, email="amy@example.com", invoice_prefix="ONE"))
        store.insert(_record("cus_2", 20))
        store.delete("cus_2")
        store.idempotency_put("key-1", {"created": 5})

    def test_another_store_of_the_same_type_takes_the_checkpoint(
        self, kept: Store, tmp_path: Path
    ) -> None:
        other_directory = tmp_path / "other"
        other_directory.mkdir()
        with self.make_store(other_directory) as other:
            other.insert(_record("cus_9", 90))
            other.restore(kept.checkpoint())
            assert other.snapshot() == kept.snapshot()
            other.check_consistency()

    def test_a_restore_rolls_back_with_its_transaction(self, kept: Store) -> None:
        checkpoint = kept.checkpoint()
        self._change_everything(kept)
        changed = kept.snapshot()
        with pytest.raises(RuntimeError), kept.transaction():
            kept.insert(_record("cus_before", 80))
            kept.restore(checkpoint)
            kept.insert(_record("cus_after", 90, invoice_prefix="NEW1"))
            raise RuntimeError("boom")
        assert kept.snapshot() == changed
        kept.check_consistency()

    def test_a_restore_inside_a_transaction_commits_with_it(self, kept: Store) -> None:
        checkpoint = kept.checkpoint()
        before = kept.snapshot()
        self._change_everything(kept)
        with kept.transaction():
            kept.restore(checkpoint)
            kept.insert(_record("cus_after", 90))
        assert kept.snapshot() == {
            **before,
            "customers": [*before["customers"], _record("cus_after", 90)],
        }

    def test_a_checkpoint_of_another_kind_of_store_is_refused(self, kept: Store) -> None:
        before = kept.snapshot()
        other = Checkpoint(type("OtherStore", (Store,), {}), {})
        with pytest.raises(ValueError, match="cannot restore a checkpoint of OtherStore"):
            kept.restore(other)
        with pytest.raises(ValueError):
            kept.restore("not a checkpoint")  # type: ignore[arg-type]
        assert kept.snapshot() == before

    def test_a_closed_store_refuses_checkpoints(self, tmp_path: Path) -> None:
        store = self.make_store(tmp_path)
        checkpoint = store.checkpoint()
        store.close()
        with pytest.raises(StoreClosedError):
            store.checkpoint()
        with pytest.raises(StoreClosedError):
            store.restore(checkpoint)
