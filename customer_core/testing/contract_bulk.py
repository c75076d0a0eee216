"""Store contract, bulk part: ``insert_many``, imported tombstones and prefix reservations,
and ``read_snapshot`` (what imports and exports use). Mixed into ``StoreContract``."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from ..errors import DuplicateKeyError, StoreClosedError
from ..search import engine as search_engine
from ..search import parse
from ..store.base import KeyRange, Record, Store
from .contract_tax_ids import make_tax_id


def make_record(customer_id: str, created: int, **fields: Any) -> Record:
    """``store_contract.make_record``, imported on call: that module imports this one."""
    from .store_contract import make_record as make

    return make(customer_id, created, **fields)


def ids(records: list[Record]) -> list[str]:
    return [record["id"] for record in records]


__all__ = ["BulkContract"]


class BulkContract:
    """Bulk writes and snapshots; the ``store`` and ``filled`` fixtures come from
    ``StoreContract`` (``filled``: cus_a 10, cus_b/c/d 20, cus_e 30, prefixes A to E)."""

    def make_store(self, tmp_path: Path) -> Store:
        raise NotImplementedError

    # --- insert_many -------------------------------------------------------------------

    def test_insert_many_adds_records_as_insert_would(self, filled: Store) -> None:
        batch = [
            make_record("cus_g", 25, email="g@example.com", invoice_prefix="G", plan="x"),
            make_record("cus_f", 15, email="shared@example.com", invoice_prefix="F"),
        ]
        batch[0]["metadata"] = {"plan": "Gold"}
        filled.insert_many(batch)
        assert filled.get("cus_g") == batch[0]
        assert filled.count() == 7
        assert ids(filled.scan()) == [
            "cus_e",
            "cus_g",
            "cus_d",
            "cus_c",
            "cus_b",
            "cus_f",
            "cus_a",
        ]
        assert ids(filled.scan(email="shared@example.com")) == [
            "cus_c",
            "cus_b",
            "cus_f",
        ]
        assert ids(search_engine.find(filled, parse('metadata["plan"]:"gold"'), limit=10)) == [
            "cus_g"
        ]
        assert ids(search_engine.find(filled, parse('email:"G@example.com"'), limit=10)) == [
            "cus_g"
        ]
        with pytest.raises(DuplicateKeyError):
            filled.insert(make_record("cus_h", 1, invoice_prefix="F"))

    def test_insert_many_of_nothing_changes_nothing(self, filled: Store) -> None:
        before = filled.snapshot()
        filled.insert_many([])
        assert filled.snapshot() == before

    @pytest.mark.parametrize(
        ("batch", "key", "value"),
        [
            ([("cus_new", "N1"), ("cus_a", "N2")], "id", "cus_a"),
            ([("cus_new", "N1"), ("cus_new", "N2")], "id", "cus_new"),
            ([("cus_new", "N1"), ("cus_other", "B")], "invoice_prefix", "B"),
            ([("cus_new", "N1"), ("cus_other", "N1")], "invoice_prefix", "N1"),
            ([("cus_new", "N1"), ("cus_e", "N2")], "id", "cus_e"),  # a tombstone's id
        ],
    )
    def test_insert_many_refuses_a_conflict_and_adds_nothing(
        self, filled: Store, batch: list[tuple[str, str]], key: str, value: str
    ) -> None:
        filled.delete("cus_e")
        before = filled.snapshot()
        records = [make_record(customer_id, 40, invoice_prefix=p) for customer_id, p in batch]
        with pytest.raises(DuplicateKeyError) as caught:
            filled.insert_many(records)
        assert (caught.value.key, caught.value.value) == (key, value)
        assert filled.snapshot() == before
        filled.insert(make_record("cus_new", 40, invoice_prefix="N1"))  # nothing was left held

    @pytest.mark.parametrize("conflict_at", [None, 3, 690])
    def test_a_large_insert_many_adds_every_record_or_none(
        self, filled: Store, conflict_at: int | None
    ) -> None:
        # More rows than one statement of a SQL store binds (SQLite: 50 rows): the records
        # and postings go in several statements, then a remainder.
        batch = [
            make_record(
                f"cus_m{n:04}",
                100 + n % 7,
                email=f"m{n}@example.com",
                invoice_prefix=f"M{n}",
                name=f"Many {n}",
            )
            for n in range(700)
        ]
        if conflict_at is not None:
            batch[conflict_at]["invoice_prefix"] = "A"  # cus_a's
        before = filled.snapshot()
        if conflict_at is not None:
            with pytest.raises(DuplicateKeyError) as caught:
                filled.insert_many(batch)
            assert (caught.value.key, caught.value.value) == ("invoice_prefix", "A")
            assert filled.snapshot() == before
            return
        filled.insert_many(batch)
        filled.check_consistency()
        assert filled.count() == 705
        assert filled.get("cus_m0690") == batch[690]
        assert ids(filled.scan(KeyRange(lower=(106, "")), limit=3)) == [
            "cus_m0699",
            "cus_m0692",
            "cus_m0685",
        ]
        assert ids(search_engine.find(filled, parse('name:"many 690"'), limit=10)) == ["cus_m0690"]
        assert ids(filled.scan(email="m3@example.com")) == ["cus_m0003"]

    def test_insert_many_rolls_back_with_the_transaction(self, filled: Store) -> None:
        before = filled.snapshot()
        with pytest.raises(RuntimeError), filled.transaction():
            filled.insert_many([make_record("cus_f", 15, invoice_prefix="F")])
            assert filled.get("cus_f") is not None
            raise RuntimeError("boom")
        assert filled.snapshot() == before
        assert search_engine.find(filled, parse('metadata["n"]:"f"'), limit=10) == []

    def test_batches_of_insert_many_in_a_transaction_are_read_changed_and_rolled_back(
        self, filled: Store
    ) -> None:
        # A store may index a transaction's batches in bulk later (the memory store does,
        # at commit or at the first read): reads, changes and an abort must not tell.
        before = filled.snapshot()
        with pytest.raises(RuntimeError), filled.transaction():
            filled.insert_many(
                [make_record(f"cus_f{n}", 40 + n, invoice_prefix=f"F{n}") for n in range(3)]
            )
            filled.insert_many([make_record("cus_g", 50, email="g@example.com", name="Gee Whiz")])
            assert ids(filled.scan(KeyRange(lower=(40, "")))) == [
                "cus_g",
                "cus_f2",
                "cus_f1",
                "cus_f0",
            ]
            filled.insert_many([make_record("cus_h", 60, email="g@example.com")])
            filled.replace(make_record("cus_h", 60, email="h@example.com"))
            filled.delete("cus_f1")
            assert ids(filled.scan(email="g@example.com")) == ["cus_g"]
            assert ids(search_engine.find(filled, parse('name:"gee whiz"'), limit=10)) == ["cus_g"]
            filled.insert_many([make_record("cus_i", 70, invoice_prefix="I")])
            raise RuntimeError("boom")
        assert filled.snapshot() == before
        filled.check_consistency()
        assert search_engine.find(filled, parse('metadata["n"]:"g"'), limit=10) == []

    def test_batches_of_insert_many_in_a_transaction_are_indexed_at_commit(
        self, store: Store
    ) -> None:
        with store.transaction():
            for start in (0, 3):
                store.insert_many(
                    [
                        make_record(f"cus_{n}", n, email=f"u{n % 2}@example.com", name=f"N{n}")
                        for n in range(start, start + 3)
                    ]
                )
        store.check_consistency()
        assert ids(store.scan()) == [f"cus_{n}" for n in range(5, -1, -1)]
        assert ids(store.scan(email="u1@example.com")) == ["cus_5", "cus_3", "cus_1"]
        assert ids(search_engine.find(store, parse('name:"n4"'), limit=10)) == ["cus_4"]
        assert ids(search_engine.find(store, parse('metadata["n"]:"2"'), limit=10)) == ["cus_2"]

    def test_records_of_insert_many_can_be_replaced_and_deleted(self, store: Store) -> None:
        store.insert_many([make_record(f"cus_{n}", n, invoice_prefix=f"P{n}") for n in range(5)])
        record = make_record("cus_3", 3, invoice_prefix="Q3", email="q@example.com")
        store.replace(record)
        store.delete("cus_4")
        assert ids(store.scan(KeyRange(lower=(2, "")))) == ["cus_3", "cus_2"]
        assert ids(store.scan(email="q@example.com")) == ["cus_3"]

    # --- imported tombstones and reservations ------------------------------------------

    def test_insert_tombstone_makes_a_deleted_customer(self, filled: Store) -> None:
        filled.insert_tombstone("cus_gone", 12)
        assert filled.get("cus_gone") is None
        assert filled.is_deleted("cus_gone") is True
        assert filled.sort_key("cus_gone") == (12, "cus_gone")
        assert filled.count() == 5
        for taken in ("cus_gone", "cus_a"):
            with pytest.raises(DuplicateKeyError) as caught:
                filled.insert_tombstone(taken, 1)
            assert caught.value.key == "id"
        with pytest.raises(DuplicateKeyError):
            filled.insert(make_record("cus_gone", 12))

    def test_reserve_invoice_prefix_keeps_it_for_one_customer(self, filled: Store) -> None:
        assert filled.reserve_invoice_prefix("OLDA", "cus_a") is True
        # Already held by it: nothing happens, and the answer says so (an import counts it).
        assert filled.reserve_invoice_prefix("OLDA", "cus_a") is False
        assert filled.reserve_invoice_prefix("A", "cus_a") is False  # its current prefix
        with pytest.raises(DuplicateKeyError) as caught:
            filled.reserve_invoice_prefix("OLDA", "cus_b")
        assert (caught.value.key, caught.value.value) == ("invoice_prefix", "OLDA")
        with pytest.raises(DuplicateKeyError):
            filled.insert(make_record("cus_f", 1, invoice_prefix="OLDA"))
        filled.replace(make_record("cus_a", 10, invoice_prefix="OLDA"))  # its own: allowed

    def test_imported_tombstones_and_reservations_roll_back(self, filled: Store) -> None:
        before = filled.snapshot()
        with pytest.raises(RuntimeError), filled.transaction():
            filled.insert_tombstone("cus_gone", 12)
            filled.reserve_invoice_prefix("GONE", "cus_gone")
            raise RuntimeError("boom")
        assert filled.snapshot() == before

    # --- read_snapshot -----------------------------------------------------------------

    def test_read_snapshot_streams_everything_in_order(self, filled: Store) -> None:
        filled.replace(make_record("cus_b", 20, invoice_prefix="B2"))
        filled.replace(make_record("cus_b", 20, invoice_prefix="B3"))
        filled.insert_tombstone("cus_0", 5)
        filled.reserve_invoice_prefix("Z", "cus_0")
        for tax_id, customer_id, created in [
            ("txi_1", "cus_c", 7),
            ("txi_2", "cus_a", 9),
            ("txi_3", "cus_c", 8),
            ("txi_4", "cus_e", 1),  # deleted with its customer
        ]:
            filled.insert_tax_id(make_tax_id(tax_id, customer_id, created))
        filled.delete("cus_e")
        with filled.read_snapshot() as snapshot:
            assert snapshot.count() == 4
            assert ids(list(snapshot.records())) == [
                "cus_d",
                "cus_c",
                "cus_b",
                "cus_a",
            ]
            oldest = list(snapshot.records(descending=False))
            assert ids(oldest) == ["cus_a", "cus_b", "cus_c", "cus_d"]
            assert oldest[0] == filled.get("cus_a")
            assert list(snapshot.tombstones()) == [("cus_0", 5), ("cus_e", 30)]
            assert [record["id"] for record in snapshot.tax_ids()] == ["txi_2", "txi_1", "txi_3"]
            assert next(snapshot.tax_ids()) == filled.get_tax_id("txi_2")
            assert list(snapshot.former_invoice_prefixes()) == [
                ("cus_0", "Z"),
                ("cus_b", "B"),
                ("cus_b", "B2"),
                ("cus_e", "E"),
            ]

    def test_former_invoice_prefixes_after_a_walk_over_the_records(self, filled: Store) -> None:
        # A store may answer from counts made during the walk: every case must stay exact.
        filled.delete("cus_e")
        filled.insert_tombstone("cus_0", 5)
        filled.reserve_invoice_prefix("Z", "cus_0")
        with filled.read_snapshot() as snapshot:
            assert len(list(snapshot.records_json())) == 4
            assert list(snapshot.former_invoice_prefixes()) == [("cus_0", "Z"), ("cus_e", "E")]
        filled.insert(make_record("cus_n", 1, invoice_prefix=None))
        filled.reserve_invoice_prefix("NULL1", "cus_n")  # held, though its prefix is null
        filled.reserve_invoice_prefix("ORPHAN", "cus_unknown")
        with filled.read_snapshot() as snapshot:
            assert len(list(snapshot.records(descending=False))) == 5
            assert list(snapshot.former_invoice_prefixes()) == [
                ("cus_0", "Z"),
                ("cus_e", "E"),
                ("cus_n", "NULL1"),
                ("cus_unknown", "ORPHAN"),
            ]

    def test_read_snapshot_does_not_see_writes_made_during_it(self, filled: Store) -> None:
        done = threading.Event()

        def write() -> None:
            filled.insert(make_record("cus_late", 99, invoice_prefix="LATE"))
            filled.delete("cus_a")
            done.set()

        writer = threading.Thread(target=write)
        with filled.read_snapshot() as snapshot:
            first = next(snapshot.records())
            writer.start()
            done.wait(0.5)  # SQLite lets the writer finish, the memory store makes it wait
            rest = list(snapshot.records())
            assert first["id"] == "cus_e"
            assert ids(rest) == ["cus_e", "cus_d", "cus_c", "cus_b", "cus_a"]
            assert list(snapshot.tombstones()) == []
            assert snapshot.count() == 5
        writer.join(10)
        assert done.is_set()
        assert filled.get("cus_late") is not None
        assert filled.is_deleted("cus_a")

    def test_a_closed_store_refuses_a_snapshot(self, tmp_path: Path) -> None:
        store = self.make_store(tmp_path)
        store.close()
        with pytest.raises(StoreClosedError), store.read_snapshot():
            pass
