"""The store contract suite: every ``Store`` must pass it unchanged.

Subclass ``StoreContract`` in a test module, implement ``make_store`` and pytest
collects every test below for your store::

    class TestMyStore(StoreContract):
        def make_store(self, tmp_path):
            return MyStore(tmp_path / "customers.db")

The class is not named ``Test*``, so pytest never collects it on its own. After every test
the suite calls ``Store.check_consistency()`` (part of the port: your store implements it),
so a store whose indexes drift from its records fails even where the answers looked right.

pytest rewrites ``assert`` statements (to show the values compared) only in test modules
and the modules registered for it, so that a failing contract test here says more than
``AssertionError``. The customer_core pytest plugin (on by default once customer_core is
installed) registers the suite's modules; with the plugin off (``-p no:customer_core``),
register them at the top of your ``conftest.py``, before anything imports them::

    import pytest
    from customer_core.testing import CONTRACT_MODULES

    pytest.register_assert_rewrite(*CONTRACT_MODULES)
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ..errors import DuplicateKeyError, RecordNotFoundError, StoreClosedError
from ..search import engine as search_engine
from ..search import parse
from ..store.base import KeyRange, Record, Store
from .contract_attempts import AttemptLookupContract
from .contract_bulk import BulkContract
from .contract_bulk_search import BulkSearchContract
from .contract_edges import EdgeContract
from .contract_event_batches import EventBatchContract
from .contract_event_blocks import EventBlockContract
from .contract_event_bodies import EventBodyContract
from .contract_event_json import EventJsonContract
from .contract_event_parts import EventPartsContract
from .contract_event_writes import EventWriteContract
from .contract_events import EventContract
from .contract_files import FilesContract
from .contract_idempotency import IdempotencyContract
from .contract_outbox import OutboxContract
from .contract_outbox_events import OutboxEventsContract
from .contract_prefix_reading import PrefixReadingContract
from .contract_purges import PurgeContract
from .contract_search_words import SearchWordsContract
from .contract_snapshot_contents import SnapshotContentsContract
from .contract_snapshots import SnapshotContract
from .contract_tax_ids import TaxIdContract
from .contract_unstored_keys import UnstoredKeyContract
from .contract_waits import WaitsContract

__all__ = ["StoreContract", "make_record"]


def make_record(
    customer_id: str,
    created: int,
    *,
    email: str | None = None,
    invoice_prefix: str | None = None,
    **fields: Any,
) -> Record:
    """A small record with the fields stores index, plus nested values to round-trip."""
    return {
        "id": customer_id,
        "object": "customer",
        "address": None,
        "created": created,
        "email": email,
        "invoice_prefix": invoice_prefix,
        "metadata": {"n": customer_id[-1]},
        "preferred_locales": ["en"],
        **fields,
    }


def ids(records: list[Record]) -> list[str]:
    return [record["id"] for record in records]


class StoreContract(
    SnapshotContract,
    TaxIdContract,
    BulkContract,
    BulkSearchContract,
    SearchWordsContract,
    EventContract,
    EventBodyContract,
    EventPartsContract,
    EventWriteContract,
    EventBlockContract,
    EventBatchContract,
    EventJsonContract,
    OutboxContract,
    OutboxEventsContract,
    AttemptLookupContract,
    EdgeContract,
    UnstoredKeyContract,
    FilesContract,
    PrefixReadingContract,
    IdempotencyContract,
    PurgeContract,
    SnapshotContentsContract,
    WaitsContract,
):
    """Behaviour every Store has; see ``customer_core.store.base.Store`` for the port."""

    def make_store(self, tmp_path: Path) -> Store:
        raise NotImplementedError

    @pytest.fixture
    def store(self, tmp_path: Path) -> Iterator[Store]:
        with self.make_store(tmp_path) as store:
            yield store
            store.check_consistency()

    @pytest.fixture
    def filled(self, store: Store) -> Store:
        """Five records: created 10, 20, 20, 20, 30; ties broken by id."""
        for customer_id, created, email in [
            ("cus_a", 10, "a@example.com"),
            ("cus_c", 20, "shared@example.com"),
            ("cus_b", 20, "shared@example.com"),
            ("cus_d", 20, "Shared@example.com"),
            ("cus_e", 30, None),
        ]:
            store.insert(
                make_record(
                    customer_id, created, email=email, invoice_prefix=customer_id[-1].upper()
                )
            )
        return store

    # --- insert and get ----------------------------------------------------------------

    def test_get_returns_none_for_an_unknown_id(self, store: Store) -> None:
        assert store.get("cus_missing") is None
        assert store.is_deleted("cus_missing") is False
        assert store.sort_key("cus_missing") is None

    def test_insert_then_get_returns_an_equal_record(self, store: Store) -> None:
        record = make_record("cus_1", 100, email="x@example.com", invoice_prefix="ABC", balance=-5)
        store.insert(record)
        assert store.get("cus_1") == record
        assert store.sort_key("cus_1") == (100, "cus_1")
        assert store.count() == 1

    def test_get_returns_a_copy_the_caller_owns(self, store: Store) -> None:
        store.insert(make_record("cus_1", 100))
        first = store.get("cus_1")
        assert first is not None
        first["metadata"]["n"] = "changed"
        first["email"] = "changed@example.com"
        again = store.get("cus_1")
        assert again is not None
        assert again["metadata"] == {"n": "1"}
        assert again["email"] is None

    def test_insert_does_not_keep_the_callers_dict(self, store: Store) -> None:
        record = make_record("cus_1", 100)
        store.insert(record)
        record["metadata"]["n"] = "changed"
        assert store.get("cus_1")["metadata"] == {"n": "1"}  # type: ignore[index]

    def test_insert_keeps_key_order_of_the_record(self, store: Store) -> None:
        record = make_record("cus_1", 100, zeta=1, alpha=2)
        store.insert(record)
        assert list(store.get("cus_1")) == list(record)  # type: ignore[arg-type]

    def test_insert_rejects_an_id_already_taken(self, store: Store) -> None:
        store.insert(make_record("cus_1", 100))
        with pytest.raises(DuplicateKeyError) as caught:
            store.insert(make_record("cus_1", 200))
        assert caught.value.key == "id"
        assert store.get("cus_1")["created"] == 100  # type: ignore[index]

    def test_insert_rejects_the_id_of_a_tombstone(self, store: Store) -> None:
        store.insert(make_record("cus_1", 100))
        store.delete("cus_1")
        with pytest.raises(DuplicateKeyError) as caught:
            store.insert(make_record("cus_1", 200))
        assert caught.value.key == "id"

    def test_insert_rejects_an_invoice_prefix_held_by_another_customer(self, store: Store) -> None:
        store.insert(make_record("cus_1", 100, invoice_prefix="ABC"))
        before = store.snapshot()
        with pytest.raises(DuplicateKeyError) as caught:
            store.insert(make_record("cus_2", 100, invoice_prefix="ABC"))
        assert (caught.value.key, caught.value.value) == ("invoice_prefix", "ABC")
        assert store.snapshot() == before

    def test_insert_rejects_an_invoice_prefix_held_by_a_tombstone(self, store: Store) -> None:
        store.insert(make_record("cus_1", 100, invoice_prefix="ABC"))
        store.delete("cus_1")
        with pytest.raises(DuplicateKeyError) as caught:
            store.insert(make_record("cus_2", 100, invoice_prefix="ABC"))
        assert caught.value.key == "invoice_prefix"

    # --- replace -------------------------------------------------------------------------

    def test_replace_overwrites_and_keeps_created(self, store: Store) -> None:
        store.insert(make_record("cus_1", 100, email="old@example.com"))
        store.replace(make_record("cus_1", 999, email="new@example.com", balance=7))
        record = store.get("cus_1")
        assert record is not None
        assert (record["created"], record["email"], record["balance"]) == (
            100,
            "new@example.com",
            7,
        )
        assert ids(store.scan(email="old@example.com")) == []
        assert ids(store.scan(email="new@example.com")) == ["cus_1"]

    def test_replace_of_an_unknown_or_deleted_id_fails(self, store: Store) -> None:
        with pytest.raises(RecordNotFoundError):
            store.replace(make_record("cus_1", 100))
        store.insert(make_record("cus_1", 100))
        store.delete("cus_1")
        with pytest.raises(RecordNotFoundError):
            store.replace(make_record("cus_1", 100))
        assert store.get("cus_1") is None

    def test_replace_keeps_former_prefixes_reserved_for_their_customer(self, store: Store) -> None:
        store.insert(make_record("cus_1", 100, invoice_prefix="OLD"))
        store.replace(make_record("cus_1", 100, invoice_prefix="NEW"))
        with pytest.raises(DuplicateKeyError):
            store.insert(make_record("cus_2", 100, invoice_prefix="OLD"))
        store.replace(make_record("cus_1", 100, invoice_prefix="OLD"))
        assert store.get("cus_1")["invoice_prefix"] == "OLD"  # type: ignore[index]

    def test_replace_rejects_a_prefix_held_by_another_customer(self, store: Store) -> None:
        store.insert(make_record("cus_1", 100, invoice_prefix="ONE"))
        store.insert(make_record("cus_2", 100, invoice_prefix="TWO"))
        before = store.snapshot()
        with pytest.raises(DuplicateKeyError) as caught:
            store.replace(make_record("cus_2", 100, invoice_prefix="ONE", balance=5))
        assert caught.value.key == "invoice_prefix"
        assert store.snapshot() == before

    # --- delete --------------------------------------------------------------------------

    def test_delete_leaves_a_tombstone(self, filled: Store) -> None:
        filled.delete("cus_c")
        assert filled.get("cus_c") is None
        assert filled.is_deleted("cus_c") is True
        assert filled.sort_key("cus_c") == (20, "cus_c")
        assert "cus_c" not in ids(filled.scan())
        assert ids(filled.scan(email="shared@example.com")) == ["cus_b"]
        assert filled.count() == 4
        assert filled.snapshot()["tombstones"] == {"cus_c": 20}

    def test_delete_of_an_unknown_or_deleted_id_fails(self, store: Store) -> None:
        with pytest.raises(RecordNotFoundError):
            store.delete("cus_1")
        store.insert(make_record("cus_1", 100))
        store.delete("cus_1")
        with pytest.raises(RecordNotFoundError):
            store.delete("cus_1")

    # --- scan ----------------------------------------------------------------------------

    def test_scan_orders_newest_first_and_breaks_ties_by_id(self, filled: Store) -> None:
        assert ids(filled.scan()) == ["cus_e", "cus_d", "cus_c", "cus_b", "cus_a"]
        assert ids(filled.scan(descending=False)) == ["cus_a", "cus_b", "cus_c", "cus_d", "cus_e"]

    def test_scan_respects_inclusive_and_exclusive_bounds(self, filled: Store) -> None:
        inclusive = KeyRange(lower=(20, "cus_c"), upper=(30, "cus_e"))
        assert ids(filled.scan(inclusive)) == ["cus_e", "cus_d", "cus_c"]
        exclusive = KeyRange(
            lower=(20, "cus_c"), lower_inclusive=False, upper=(30, "cus_e"), upper_inclusive=False
        )
        assert ids(filled.scan(exclusive)) == ["cus_d"]
        by_second = KeyRange(lower=(20, ""), upper=(21, ""), upper_inclusive=False)
        assert ids(filled.scan(by_second, descending=False)) == ["cus_b", "cus_c", "cus_d"]

    def test_scan_stops_at_the_limit(self, filled: Store) -> None:
        assert ids(filled.scan(limit=2)) == ["cus_e", "cus_d"]
        assert ids(filled.scan(limit=2, descending=False)) == ["cus_a", "cus_b"]
        assert filled.scan(limit=0) == []

    def test_scan_by_email_is_exact_and_case_sensitive(self, filled: Store) -> None:
        assert ids(filled.scan(email="shared@example.com")) == ["cus_c", "cus_b"]
        assert ids(filled.scan(email="Shared@example.com")) == ["cus_d"]
        assert ids(filled.scan(email="shared@example")) == []
        bounded = KeyRange(upper=(20, "cus_c"), upper_inclusive=False)
        assert ids(filled.scan(bounded, email="shared@example.com")) == ["cus_b"]
        assert ids(filled.scan(email="shared@example.com", limit=1, descending=False)) == ["cus_b"]

    def test_scan_returns_whole_records(self, filled: Store) -> None:
        assert filled.scan(limit=1)[0] == filled.get("cus_e")

    def test_iter_all_walks_every_live_record_in_pages(self, filled: Store) -> None:
        filled.delete("cus_b")
        assert ids(list(filled.iter_all(batch_size=2))) == ["cus_e", "cus_d", "cus_c", "cus_a"]

    # --- transactions --------------------------------------------------------------------

    def test_transaction_commits_everything_inside(self, filled: Store) -> None:
        with filled.transaction():
            filled.insert(make_record("cus_f", 40))
            filled.delete("cus_a")
        assert filled.get("cus_f") is not None
        assert filled.is_deleted("cus_a")

    def test_transaction_rolls_back_everything_on_error(self, filled: Store) -> None:
        before = filled.snapshot()
        with pytest.raises(RuntimeError), filled.transaction():
            filled.insert(make_record("cus_f", 40, email="f@example.com", invoice_prefix="F"))
            filled.replace(make_record("cus_a", 10, email="new@example.com", invoice_prefix="NEWA"))
            filled.delete("cus_b")
            raise RuntimeError("boom")
        assert filled.snapshot() == before
        assert filled.get("cus_f") is None
        assert ids(filled.scan(email="a@example.com")) == ["cus_a"]
        filled.insert(make_record("cus_g", 40, invoice_prefix="NEWA"))

    def test_nested_transactions_join_the_outer_one(self, filled: Store) -> None:
        before = filled.snapshot()
        with pytest.raises(RuntimeError), filled.transaction():
            with filled.transaction():
                filled.insert(make_record("cus_f", 40))
            raise RuntimeError("boom")
        assert filled.snapshot() == before

    def test_a_failed_call_inside_a_transaction_changes_nothing(self, filled: Store) -> None:
        with filled.transaction():
            with pytest.raises(DuplicateKeyError):
                filled.insert(make_record("cus_a", 1))
            filled.insert(make_record("cus_f", 40))
        assert filled.get("cus_a")["created"] == 10  # type: ignore[index]
        assert filled.count() == 6

    # --- search --------------------------------------------------------------------------

    @pytest.fixture
    def searchable(self, store: Store) -> Store:
        people = [
            ("cus_1", 10, "amy@rocketrides.io", "Amy Rocket", {"plan": "Gold", "tier": "1"}),
            ("cus_2", 20, "AMY@rocketrides.io", "Amy", {"plan": "gold"}),
            ("cus_3", 20, "amy.x@rocketrides.io", "Bob Amy", {"plan": "silver"}),
            ("cus_4", 30, None, None, {}),
            ("cus_5", 40, "amy@rocketrides.iox", "amy rocket rides", {"plan": "gold", "x": ""}),
        ]
        for customer_id, created, email, name, metadata in people:
            store.insert(
                make_record(customer_id, created, email=email, name=name, metadata=metadata)
            )
        return store

    def search(
        self, store: Store, query: str, key_range: KeyRange = KeyRange(), limit: int = 100
    ) -> list[str]:
        return ids(search_engine.find(store, parse(query), key_range, limit=limit))

    def test_search_metadata_is_case_insensitive_and_newest_first(self, searchable: Store) -> None:
        assert self.search(searchable, 'metadata["plan"]:"GOLD"') == ["cus_5", "cus_2", "cus_1"]
        assert self.search(searchable, 'metadata["plan"]:"gold"', limit=2) == ["cus_5", "cus_2"]
        upper = KeyRange(upper=(20, "cus_2"), upper_inclusive=False)
        assert self.search(searchable, 'metadata["plan"]:"gold"', upper) == ["cus_1"]
        assert searchable.metadata_keys("plan", "gold", KeyRange(), limit=10) == [
            (40, "cus_5"),
            (20, "cus_2"),
            (10, "cus_1"),
        ]

    def test_search_names_substrings_nulls_and_negation(self, searchable: Store) -> None:
        assert self.search(searchable, 'name:"amy rocket"') == ["cus_5", "cus_1"]
        assert self.search(searchable, 'name~"ROCK"') == ["cus_5", "cus_1"]
        assert self.search(searchable, "name:null") == ["cus_4"]
        assert self.search(searchable, '-metadata["plan"]:null') == [
            "cus_5",
            "cus_3",
            "cus_2",
            "cus_1",
        ]
        assert self.search(searchable, 'metadata["x"]:null') == [
            "cus_5",
            "cus_4",
            "cus_3",
            "cus_2",
            "cus_1",
        ]
        assert self.search(searchable, '-name~"amy"') == ["cus_4"]

    def test_search_created_ranges_and_or(self, searchable: Store) -> None:
        assert self.search(searchable, "created>10 created<=30") == ["cus_4", "cus_3", "cus_2"]
        assert self.search(searchable, "created:20") == ["cus_3", "cus_2"]
        assert self.search(searchable, 'created=40 OR name:"bob"') == ["cus_5", "cus_3"]
        assert self.search(searchable, 'metadata["plan"]:"gold" created<20') == ["cus_1"]

    def test_search_never_returns_deleted_customers(self, searchable: Store) -> None:
        searchable.delete("cus_2")
        assert self.search(searchable, 'metadata["plan"]:"gold"') == ["cus_5", "cus_1"]
        assert self.search(searchable, 'email:"amy@rocketrides.io"') == ["cus_1"]
        assert "cus_2" not in self.search(searchable, "created>0")

    def test_search_indexes_follow_replaced_records(self, searchable: Store) -> None:
        record = searchable.get("cus_1")
        assert record is not None
        searchable.replace({**record, "email": "zed@example.com", "metadata": {"plan": "bronze"}})
        assert self.search(searchable, 'metadata["plan"]:"gold"') == ["cus_5", "cus_2"]
        assert self.search(searchable, 'metadata["plan"]:"bronze"') == ["cus_1"]
        assert self.search(searchable, 'email:"zed@example.com"') == ["cus_1"]
        assert self.search(searchable, 'email:"amy@rocketrides.io"') == ["cus_2"]
        # One key kept (its value only changes case), one changed, one removed, one added.
        searchable.replace({**record, "metadata": {"plan": "GOLD", "tier": "2", "new": "yes"}})
        searchable.replace({**record, "metadata": {"plan": "gold", "tier": "3", "region": "eu"}})
        assert self.search(searchable, 'metadata["plan"]:"gold"') == ["cus_5", "cus_2", "cus_1"]
        assert self.search(searchable, 'metadata["tier"]:"3"') == ["cus_1"]
        assert self.search(searchable, 'metadata["tier"]:"2"') == []
        assert self.search(searchable, 'metadata["new"]:"yes"') == []
        assert searchable.metadata_keys("region", "eu", KeyRange(), limit=5) == [(10, "cus_1")]
        assert searchable.metadata_keys("tier", "2", KeyRange(), limit=5) == []
        assert searchable.metadata_keys("new", "yes", KeyRange(), limit=5) == []

    # Names whose case folding or JSON form is awkward: a Kelvin sign that str.lower() turns
    # into "k", a dotted capital I that becomes "i" and a dot, a quote and a backslash
    # that JSON escapes, a control character, non-ASCII letters.
    AWKWARD_NAMES = (
        "\u212aIM Rocket",
        "TA\u0130PE\u0130 Rides",
        'Amy "Rocket" Jones',
        "back\\slash rock",
        "tab\there rocker",
        "Zoë Rockefeller",
        "plain name",
    )

    @pytest.fixture
    def awkward(self, store: Store) -> Store:
        for number, name in enumerate(self.AWKWARD_NAMES):
            store.insert(make_record(f"cus_{number}", 10 * number, name=name))
        return store

    @pytest.mark.parametrize(
        "text",
        [
            "kim",
            "rock",
            "rocket",
            '"rocket"',
            "back\\slash",
            "tab\there",
            "zoë",
            "tai",
            "pei\u0307",
        ],
    )
    def test_scan_containing_leaves_out_no_record_holding_the_text(
        self, awkward: Store, text: str
    ) -> None:
        holding = [
            f"cus_{number}"
            for number, name in enumerate(self.AWKWARD_NAMES)
            if text in name.lower()
        ]
        found = ids(awkward.scan_containing(text, limit=100))
        assert set(holding) <= set(found)
        everything = ids(awkward.scan(limit=100))
        assert found == [
            customer_id for customer_id in everything if customer_id in found
        ]  # newest first
        assert len(awkward.scan_containing(text, limit=1)) <= 1
        in_range = ids(awkward.scan_containing(text, KeyRange(upper=(30, "cus_3")), limit=100))
        assert set(in_range) == {customer_id for customer_id in found if int(customer_id[-1]) <= 3}

    def test_substring_search_folds_case_as_python_does(self, awkward: Store) -> None:
        assert self.search(awkward, 'name~"kim"') == ["cus_0"]
        assert self.search(awkward, 'name~"ROCK"') == ["cus_5", "cus_4", "cus_3", "cus_2", "cus_0"]
        assert self.search(awkward, 'name~"\\"rocket\\""') == ["cus_2"]
        assert self.search(awkward, 'name~"zoë"') == ["cus_5"]
        assert self.search(awkward, 'name~"tai"') == ["cus_1"]  # its "i" is the dotted I's
        assert self.search(awkward, 'name~"pei\u0307"') == ["cus_1"]
        assert self.search(awkward, 'name~"rides" created>5') == ["cus_1"]
        assert self.search(awkward, 'name~"nowhere"') == []

    def test_search_count_stops_at_the_cap(self, searchable: Store) -> None:
        assert search_engine.count(searchable, parse('email~"amy"'), cap=10_000) == 4
        assert search_engine.count(searchable, parse('email~"amy"'), cap=2) == 2

    # --- idempotency keys ----------------------------------------------------------------

    def test_idempotency_entries_round_trip_and_overwrite(self, store: Store) -> None:
        assert store.idempotency_get("key-1") is None
        entry = {
            "created": 100,
            "endpoint": "/v1/customers",
            "status": 200,
            "body": {"id": "cus_1", "n": [1, None]},
        }
        store.idempotency_put("key-1", entry)
        assert store.idempotency_get("key-1") == entry
        store.idempotency_put("key-1", {**entry, "status": 400})
        assert store.idempotency_get("key-1")["status"] == 400  # type: ignore[index]
        assert store.snapshot()["idempotency_keys"] == {"key-1": {**entry, "status": 400}}

    def test_idempotency_purge_forgets_old_entries(self, store: Store) -> None:
        for n in range(5):
            store.idempotency_put(f"key-{n}", {"created": n * 10})
        assert store.idempotency_purge(before=25) == 3
        assert [store.idempotency_get(f"key-{n}") is None for n in range(5)] == [
            True,
            True,
            True,
            False,
            False,
        ]

    def test_idempotency_writes_roll_back_with_the_transaction(self, store: Store) -> None:
        store.idempotency_put("kept", {"created": 1})
        with pytest.raises(RuntimeError), store.transaction():
            store.idempotency_put("new", {"created": 2})
            store.idempotency_put("kept", {"created": 3})
            store.idempotency_purge(before=10)
            raise RuntimeError("boom")
        assert store.idempotency_get("new") is None
        assert store.idempotency_get("kept") == {"created": 1}

    # --- whole-store views, concurrency, closing -------------------------------------------

    def test_snapshot_lists_customers_tombstones_and_prefixes(self, filled: Store) -> None:
        filled.delete("cus_e")
        snapshot = filled.snapshot()
        assert ids(snapshot["customers"]) == ["cus_a", "cus_b", "cus_c", "cus_d"]
        assert snapshot["tombstones"] == {"cus_e": 30}
        assert snapshot["invoice_prefixes"] == {p: f"cus_{p.lower()}" for p in "ABCDE"}

    def test_concurrent_inserts_from_threads_lose_nothing(self, store: Store) -> None:
        def work(thread: int) -> None:
            for n in range(50):
                store.insert(
                    make_record(f"cus_{thread}_{n:03d}", n, invoice_prefix=f"T{thread}N{n}")
                )

        threads = [threading.Thread(target=work, args=(t,)) for t in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert store.count() == 200
        assert len(store.scan(limit=500)) == 200

    def test_a_closed_store_refuses_work(self, tmp_path: Path) -> None:
        store = self.make_store(tmp_path)
        store.insert(make_record("cus_1", 1))
        store.close()
        with pytest.raises(StoreClosedError):
            store.get("cus_1")
        with pytest.raises(StoreClosedError):
            store.insert(make_record("cus_2", 1))
