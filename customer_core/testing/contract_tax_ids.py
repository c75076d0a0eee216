"""Store contract for tax IDs: records kept per customer, removed with it, rolled back
with the transaction. ``StoreContract`` inherits ``TaxIdContract``; its ``store``
fixture comes from there."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ..errors import DuplicateKeyError, RecordNotFoundError, StoreClosedError
from ..store.base import KeyRange, Record, Store

__all__ = ["TaxIdContract", "make_tax_id"]


def make_tax_id(tax_id: str, customer_id: str, created: int, **fields: Any) -> Record:
    """A small tax ID record with the fields stores read, plus a nested value to round-trip."""
    return {
        "id": tax_id,
        "object": "tax_id",
        "country": "DE",
        "created": created,
        "customer": customer_id,
        "owner": {"customer": customer_id, "type": "customer"},
        "type": "eu_vat",
        "value": "DE123456789",
        **fields,
    }


def _customer(customer_id: str, created: int = 1) -> Record:
    return {"id": customer_id, "object": "customer", "created": created, "email": None}


def _ids(records: list[Record]) -> list[str]:
    return [record["id"] for record in records]


class TaxIdContract:
    """Behaviour every Store has for tax IDs; see ``Store.insert_tax_id`` and its siblings."""

    def make_store(self, tmp_path: Path) -> Store:
        raise NotImplementedError

    @pytest.fixture
    def with_tax_ids(self, store: Store) -> Store:
        """Customers cus_1 (tax IDs created 10, 20, 20, 30; ties broken by id) and cus_2 (one)."""
        store.insert(_customer("cus_1"))
        store.insert(_customer("cus_2"))
        for tax_id, created in [("txi_a", 10), ("txi_c", 20), ("txi_b", 20), ("txi_d", 30)]:
            store.insert_tax_id(make_tax_id(tax_id, "cus_1", created))
        store.insert_tax_id(make_tax_id("txi_z", "cus_2", 15, type="us_ein", country="US"))
        return store

    def test_tax_id_round_trips_and_unknown_ids_are_none(self, store: Store) -> None:
        store.insert(_customer("cus_1"))
        record = make_tax_id("txi_1", "cus_1", 100, verification={"status": "pending"})
        store.insert_tax_id(record)
        assert store.get_tax_id("txi_1") == record
        assert list(store.get_tax_id("txi_1")) == list(record)  # type: ignore[arg-type]
        assert store.get_tax_id("txi_missing") is None
        assert store.tax_ids("cus_missing") == []

    def test_tax_id_records_are_copies(self, store: Store) -> None:
        store.insert(_customer("cus_1"))
        record = make_tax_id("txi_1", "cus_1", 100)
        store.insert_tax_id(record)
        record["owner"]["type"] = "changed"
        fetched = store.get_tax_id("txi_1")
        assert fetched is not None and fetched["owner"]["type"] == "customer"
        fetched["owner"]["type"] = "changed"
        assert store.tax_ids("cus_1")[0]["owner"]["type"] == "customer"

    def test_tax_id_needs_a_live_customer(self, store: Store) -> None:
        with pytest.raises(RecordNotFoundError):
            store.insert_tax_id(make_tax_id("txi_1", "cus_missing", 100))
        store.insert(_customer("cus_1"))
        store.delete("cus_1")
        with pytest.raises(RecordNotFoundError):
            store.insert_tax_id(make_tax_id("txi_1", "cus_1", 100))
        assert store.get_tax_id("txi_1") is None
        assert store.snapshot()["tax_ids"] == []

    def test_tax_id_rejects_an_id_already_taken(self, with_tax_ids: Store) -> None:
        before = with_tax_ids.snapshot()
        with pytest.raises(DuplicateKeyError) as caught:
            with_tax_ids.insert_tax_id(make_tax_id("txi_a", "cus_2", 99))
        assert (caught.value.key, caught.value.value) == ("id", "txi_a")
        assert with_tax_ids.snapshot() == before

    def test_tax_ids_of_a_customer_in_key_order(self, with_tax_ids: Store) -> None:
        store = with_tax_ids
        assert _ids(store.tax_ids("cus_1")) == ["txi_d", "txi_c", "txi_b", "txi_a"]
        assert _ids(store.tax_ids("cus_1", descending=False)) == [
            "txi_a",
            "txi_b",
            "txi_c",
            "txi_d",
        ]
        assert _ids(store.tax_ids("cus_1", limit=2)) == ["txi_d", "txi_c"]
        assert _ids(store.tax_ids("cus_2")) == ["txi_z"]

    def test_tax_ids_within_a_key_range(self, with_tax_ids: Store) -> None:
        store = with_tax_ids
        below_c = KeyRange(upper=(20, "txi_c"), upper_inclusive=False)
        assert _ids(store.tax_ids("cus_1", below_c)) == ["txi_b", "txi_a"]
        above_b = KeyRange(lower=(20, "txi_b"), lower_inclusive=False)
        assert _ids(store.tax_ids("cus_1", above_b, descending=False, limit=1)) == ["txi_c"]
        assert _ids(store.tax_ids("cus_1", KeyRange(lower=(20, ""), upper=(20, "~")))) == [
            "txi_c",
            "txi_b",
        ]
        assert store.tax_ids("cus_2", KeyRange(lower=(16, ""))) == []

    def test_delete_tax_id(self, with_tax_ids: Store) -> None:
        with_tax_ids.delete_tax_id("txi_c")
        assert with_tax_ids.get_tax_id("txi_c") is None
        assert _ids(with_tax_ids.tax_ids("cus_1")) == ["txi_d", "txi_b", "txi_a"]
        with pytest.raises(RecordNotFoundError):
            with_tax_ids.delete_tax_id("txi_c")

    def test_deleting_a_customer_removes_its_tax_ids(self, with_tax_ids: Store) -> None:
        with_tax_ids.delete("cus_1")
        assert [with_tax_ids.get_tax_id(f"txi_{x}") for x in "abcd"] == [None] * 4
        assert with_tax_ids.tax_ids("cus_1") == []
        assert _ids(with_tax_ids.snapshot()["tax_ids"]) == ["txi_z"]

    def test_tax_id_writes_roll_back_with_the_transaction(self, with_tax_ids: Store) -> None:
        store = with_tax_ids
        before = store.snapshot()
        with pytest.raises(RuntimeError), store.transaction():
            store.insert(_customer("cus_3"))
            store.insert_tax_id(make_tax_id("txi_new", "cus_3", 40))
            store.delete_tax_id("txi_z")
            store.delete("cus_1")
            raise RuntimeError("boom")
        assert store.snapshot() == before
        assert _ids(store.tax_ids("cus_1")) == ["txi_d", "txi_c", "txi_b", "txi_a"]
        assert store.get_tax_id("txi_new") is None

    def test_snapshot_lists_tax_ids_by_customer_then_key(self, with_tax_ids: Store) -> None:
        assert _ids(with_tax_ids.snapshot()["tax_ids"]) == [
            "txi_a",
            "txi_b",
            "txi_c",
            "txi_d",
            "txi_z",
        ]

    def test_a_closed_store_refuses_tax_id_work(self, tmp_path: Path) -> None:
        store = self.make_store(tmp_path)
        store.insert(_customer("cus_1"))
        store.close()
        with pytest.raises(StoreClosedError):
            store.insert_tax_id(make_tax_id("txi_1", "cus_1", 1))
        with pytest.raises(StoreClosedError):
            store.tax_ids("cus_1")
