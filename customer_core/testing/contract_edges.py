"""Store contract, edges: key ranges kept by every lookup, invoice prefixes released by a
failed write inside a transaction, pages that end exactly at ``limit``, keys at the int64
bounds, and ``Store.check_consistency`` itself. Mixed into ``StoreContract``.

Each test here was written against a deliberately broken store (a mutation) that the rest
of the suite let through; the docstrings name the mutation.
"""

from __future__ import annotations

from typing import Any

import pytest

from ..errors import DuplicateKeyError
from ..integers import INT64_MAX, INT64_MIN
from ..search import engine as search_engine
from ..search import parse
from ..service import CustomerService
from ..store.base import KeyRange, Record, SortKey, Store

__all__ = ["EdgeContract"]


def make_record(customer_id: str, created: int, **fields: Any) -> Record:
    """``store_contract.make_record``, imported on call: that module imports this one."""
    from .store_contract import make_record as make

    return make(customer_id, created, **fields)


def ids(records: list[Record]) -> list[str]:
    return [record["id"] for record in records]


def pages(store: Store, query: str, limit: int) -> list[list[str]]:
    """Walk a search page by page as the service does (the next page lies below the last
    key shown), stopping after 20 pages: a lookup that ignores its range never ends."""
    walked: list[list[str]] = []
    key_range = KeyRange()
    for _ in range(20):
        page = search_engine.find(store, parse(query), key_range, limit=limit)
        walked.append(ids(page))
        if len(page) < limit:
            break
        last: SortKey = (page[-1]["created"], page[-1]["id"])
        key_range = KeyRange(upper=last, upper_inclusive=False)
    return walked


EXTREMES = [
    ("cus_min", INT64_MIN),
    ("cus_neg", -1),
    ("cus_zero", 0),
    ("cus_big", INT64_MAX - 1),
    ("cus_max", INT64_MAX),
]


class EdgeContract:
    """Edges; the ``store`` fixture comes from ``StoreContract``."""

    # --- lookups keep to their key range ----------------------------------------------

    @pytest.fixture
    def alike(self, store: Store) -> Store:
        """Seven customers, created 10 to 70, with the same email, name words and metadata."""
        for number in range(1, 8):
            store.insert(
                make_record(
                    f"cus_{number}",
                    number * 10,
                    email="Amy@Example.com",
                    name="Amy Rocket",
                    metadata={"plan": "gold"},
                )
            )
        return store

    @pytest.mark.parametrize(
        "query",
        ['email:"amy@example.com"', 'name:"amy rocket"', 'metadata["plan"]:"gold"', 'name~"rock"'],
    )
    def test_search_pages_walk_every_match_once_and_end(self, alike: Store, query: str) -> None:
        """Mutation: the email-word lookup ignores its key range, so page 2 repeats page 1
        and an SDK's auto-paging never ends."""
        assert pages(alike, query, limit=3) == [
            ["cus_7", "cus_6", "cus_5"],
            ["cus_4", "cus_3", "cus_2"],
            ["cus_1"],
        ]

    def test_every_lookup_keeps_to_its_key_range(self, alike: Store) -> None:
        between = KeyRange(lower=(20, "cus_2"), lower_inclusive=False, upper=(50, "cus_5"))
        expected = [(50, "cus_5"), (40, "cus_4"), (30, "cus_3")]
        assert alike.word_keys("email", ["amy@example.com"], between, limit=10) == expected
        assert alike.word_keys("name", ["amy", "rocket"], between, limit=10) == expected
        assert alike.metadata_keys("plan", "gold", between, limit=10) == expected
        assert ids(alike.scan(between)) == ["cus_5", "cus_4", "cus_3"]
        assert ids(alike.scan(between, email="Amy@Example.com")) == ["cus_5", "cus_4", "cus_3"]
        assert ids(alike.scan_containing("rock", between, limit=10)) == [
            "cus_5",
            "cus_4",
            "cus_3",
        ]

    # --- invoice prefixes after a failed write ----------------------------------------

    def test_a_failed_insert_inside_a_transaction_holds_no_invoice_prefix(
        self, store: Store
    ) -> None:
        """Mutation: an insert that reserves the prefix, then finds the id taken, leaves the
        prefix reserved; outside a transaction the rollback hid it, inside one it stays."""
        store.insert(make_record("cus_a", 10, invoice_prefix="A"))
        store.insert(make_record("cus_gone", 10, invoice_prefix="G"))
        store.delete("cus_gone")
        with store.transaction():
            for taken in ("cus_a", "cus_gone"):
                with pytest.raises(DuplicateKeyError) as caught:
                    store.insert(make_record(taken, 20, invoice_prefix="NEW"))
                assert caught.value.key == "id"
            store.insert(make_record("cus_b", 20, invoice_prefix="NEW"))
        assert store.snapshot()["invoice_prefixes"] == {
            "A": "cus_a",
            "G": "cus_gone",
            "NEW": "cus_b",
        }

    def test_a_failed_bulk_insert_inside_a_transaction_holds_no_invoice_prefix(
        self, store: Store
    ) -> None:
        store.insert(make_record("cus_a", 10, invoice_prefix="A"))
        with store.transaction():
            with pytest.raises(DuplicateKeyError):
                store.insert_many(
                    [
                        make_record("cus_b", 20, invoice_prefix="NEW"),
                        make_record("cus_a", 20, invoice_prefix="OTHER"),
                    ]
                )
            store.insert(make_record("cus_c", 20, invoice_prefix="NEW"))
            store.insert(make_record("cus_d", 20, invoice_prefix="OTHER"))
        assert store.snapshot()["invoice_prefixes"] == {
            "A": "cus_a",
            "NEW": "cus_c",
            "OTHER": "cus_d",
        }

    def test_a_failed_replace_inside_a_transaction_holds_no_invoice_prefix(
        self, store: Store
    ) -> None:
        store.insert(make_record("cus_a", 10, invoice_prefix="A"))
        store.insert(make_record("cus_b", 10, invoice_prefix="B"))
        with store.transaction():
            with pytest.raises(DuplicateKeyError):
                store.replace(make_record("cus_a", 10, invoice_prefix="B"))
            store.insert(make_record("cus_c", 20, invoice_prefix="C"))
        assert store.snapshot()["invoice_prefixes"] == {"A": "cus_a", "B": "cus_b", "C": "cus_c"}
        assert store.get("cus_a")["invoice_prefix"] == "A"  # type: ignore[index]

    # --- pages that end exactly at the limit ------------------------------------------

    def test_scan_returns_exactly_limit_records_and_never_the_bounds_it_excludes(
        self, alike: Store
    ) -> None:
        for limit in range(1, 9):
            assert len(alike.scan(limit=limit)) == min(limit, 7)
        assert ids(alike.scan(KeyRange(upper=(30, "cus_3"), upper_inclusive=False))) == [
            "cus_2",
            "cus_1",
        ]
        assert ids(
            alike.scan(KeyRange(lower=(50, "cus_5"), lower_inclusive=False), descending=False)
        ) == ["cus_6", "cus_7"]

    def test_has_more_is_false_when_exactly_limit_customers_remain(self, store: Store) -> None:
        """Mutation: ``has_more`` computed as ``len(records) >= limit``; the service's pages
        over this store must say "no more" when the page takes the last customer."""
        now = [1_700_000_000]
        service = CustomerService(store, clock=lambda: now[0], seed=5)
        made = []
        for _ in range(4):
            made.append(service.create(email="amy@example.com").id)
            now[0] += 1
        newest_first = made[::-1]
        first = service.list(limit=2)
        assert ([c.id for c in first.data], first.has_more) == (newest_first[:2], True)
        rest = service.list(limit=2, starting_after=newest_first[1])
        assert ([c.id for c in rest.data], rest.has_more) == (newest_first[2:], False)
        assert service.list(limit=4).has_more is False
        assert service.list(limit=3).has_more is True
        before = service.list(limit=3, ending_before=newest_first[3])
        assert ([c.id for c in before.data], before.has_more) == (newest_first[:3], False)
        found = service.search(query='email:"amy@example.com"', limit=4)
        assert (len(found.data), found.has_more, found.next_page) == (4, False, None)
        found = service.search(query='email:"amy@example.com"', limit=3)
        assert (found.has_more, found.next_page is None) == (True, False)
        last = service.search(query='email:"amy@example.com"', limit=1, page=found.next_page)
        assert ([c.id for c in last.data], last.has_more, last.next_page) == (
            [newest_first[3]],
            False,
            None,
        )

    # --- keys at the int64 bounds -----------------------------------------------------

    @pytest.fixture
    def extreme(self, store: Store) -> Store:
        for customer_id, created in EXTREMES:
            store.insert(
                make_record(customer_id, created, email="edge@example.com", name="Edge Case")
            )
        return store

    def test_records_at_the_int64_bounds_keep_their_order(self, extreme: Store) -> None:
        """Mutation: a store that keeps ``created`` in a narrower type (or a float) loses
        or misorders the customers at the ends of the 64-bit range."""
        oldest_first = [customer_id for customer_id, _ in EXTREMES]
        assert ids(extreme.scan(descending=False)) == oldest_first
        assert ids(extreme.scan()) == oldest_first[::-1]
        assert ids(list(extreme.iter_all(batch_size=2))) == oldest_first[::-1]
        for customer_id, created in EXTREMES:
            assert extreme.sort_key(customer_id) == (created, customer_id)
            assert extreme.get(customer_id)["created"] == created  # type: ignore[index]
        extreme.delete("cus_max")
        assert extreme.sort_key("cus_max") == (INT64_MAX, "cus_max")

    @pytest.mark.parametrize(
        ("key_range", "expected"),
        [
            (KeyRange(lower=(INT64_MAX, "")), ["cus_max"]),
            (KeyRange(lower=(INT64_MAX, "cus_max"), lower_inclusive=False), []),
            (
                KeyRange(upper=(INT64_MAX, ""), upper_inclusive=False),
                ["cus_big", "cus_zero", "cus_neg", "cus_min"],
            ),
            (KeyRange(upper=(INT64_MIN, "")), []),
            (KeyRange(upper=(INT64_MIN, "cus_min")), ["cus_min"]),
            (KeyRange(upper=(INT64_MIN, "cus_min"), upper_inclusive=False), []),
            (
                KeyRange(lower=(INT64_MIN, ""), upper=(INT64_MAX, "")),
                ["cus_big", "cus_zero", "cus_neg", "cus_min"],
            ),
            (KeyRange(lower=(INT64_MAX, ""), upper=(INT64_MIN, "")), []),
        ],
    )
    def test_ranges_bounded_at_the_int64_edges(
        self, extreme: Store, key_range: KeyRange, expected: list[str]
    ) -> None:
        keys = [(created, customer_id) for customer_id, created in EXTREMES]
        expected_keys = sorted((key for key in keys if key[1] in expected), reverse=True)
        assert ids(extreme.scan(key_range)) == expected
        assert ids(extreme.scan(key_range, email="edge@example.com")) == expected
        assert ids(extreme.scan_containing("edge", key_range, limit=10)) == expected
        assert extreme.word_keys("name", ["edge", "case"], key_range, limit=10) == expected_keys
        assert extreme.word_keys("email", ["edge@example.com"], key_range, limit=10) == (
            expected_keys
        )
        assert extreme.metadata_keys("n", "x", key_range, limit=10) == [
            key for key in expected_keys if key[1] == "cus_max"
        ]

    # --- the consistency check --------------------------------------------------------

    def test_check_consistency_passes_on_a_store_in_use(self, alike: Store) -> None:
        alike.delete("cus_3")
        record = alike.get("cus_4")
        assert record is not None
        alike.replace({**record, "email": None, "metadata": {}})
        alike.check_consistency()
