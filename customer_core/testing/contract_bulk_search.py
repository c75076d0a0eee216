"""Store contract: searching customers written by ``insert_many``.

A store may leave the postings only search reads (the words of name and phone, metadata
values) to the first search after a bulk write (the memory and SQLite stores do; see
docs/decisions.md, "Import and export"). Whatever comes between the write and that search
(a replace, a delete, a transaction that aborts, a search from another thread while the
import's transaction is open), searches answer exactly as on a store written one
``insert`` at a time, and ``check_consistency`` holds. ``StoreContract`` inherits these.
"""

from __future__ import annotations

import random
import threading
from typing import Any

import pytest

from ..store.base import KeyRange, Record, SortKey, Store
from ..store.memory import MemoryStore

__all__ = ["BulkSearchContract", "bulk_write_trial"]

_NAMES = ["Ada King", "Ada Lovelace", "Grace Hopper", "king ada", None]
_PLANS = ["Gold", "gold", "silver", None]
_EVERYTHING = KeyRange()
_WAIT = 60.0
"""Seconds a thread of these tests waits for another at most (never a fixed sleep)."""


def _record(customer_id: str, created: int, **fields: Any) -> Record:
    """``store_contract.make_record``, imported on call: that module imports this one."""
    from .store_contract import make_record

    return make_record(customer_id, created, **fields)


def _random_record(number: int, rng: random.Random) -> Record:
    found = _record(
        f"cus_{number:04d}",
        rng.randrange(5),
        email=rng.choice([f"c{number}@example.com", "Shared@Example.com", None]),
        invoice_prefix=f"P{number:04d}",
        name=rng.choice(_NAMES),
        phone=rng.choice(["+1 555 0100", "555-0199", None]),
    )
    plan = rng.choice(_PLANS)
    found["metadata"] = {"n": str(number % 3)} | ({"plan": plan} if plan else {})
    return found


def _answers(store: Store) -> list[object]:
    """What every search-side read gives, and the list's email filter."""
    return [
        store.word_keys("name", ["ada"], _EVERYTHING, limit=100),
        store.word_keys("name", ["ada king"], _EVERYTHING, limit=100),
        store.word_keys("name", ["grace", "hopper"], _EVERYTHING, limit=100),
        store.word_keys("phone", ["555"], _EVERYTHING, limit=100),
        store.word_keys("email", ["shared@example.com"], _EVERYTHING, limit=100),
        store.metadata_keys("plan", "gold", _EVERYTHING, limit=100),
        store.metadata_keys("n", "1", _EVERYTHING, limit=100),
        [found["id"] for found in store.scan(email="Shared@Example.com")],
        [found["id"] for found in store.scan()],
    ]


def bulk_write_trial(bulk: Store, seed: int) -> None:
    """Random bulk writes, replaces, deletes, searches and aborted transactions on ``bulk``
    and the same on a MemoryStore written one ``insert`` at a time: every search answers
    the same (a trial for ``seed``, also run on more seeds by the memory store's tests)."""
    rng = random.Random(seed)
    single = MemoryStore()
    live: list[str] = []
    number = 0
    for _ in range(12):
        step = rng.choice(["batch", "batch", "replace", "delete", "search", "abort", "undo"])
        if step == "batch":
            batch = [_random_record(number + n, rng) for n in range(rng.randrange(1, 6))]
            number += len(batch)
            bulk.insert_many(batch)
            for one in batch:
                single.insert(one)
            live += [one["id"] for one in batch]
        elif step == "replace" and live:
            changed = _random_record(int(rng.choice(live)[4:]), rng)
            bulk.replace(changed)
            single.replace(changed)
        elif step == "delete" and live:
            gone = live.pop(rng.randrange(len(live)))
            bulk.delete(gone)
            single.delete(gone)
        elif step == "search":
            assert _answers(bulk) == _answers(single)
        elif step in ("abort", "undo"):
            # Writes, and a search that builds the postings, inside a transaction that
            # rolls back: the store must be as before, built postings included.
            before = _answers(single)
            with pytest.raises(RuntimeError), bulk.transaction():
                bulk.insert_many([_random_record(number, rng), _random_record(number + 1, rng)])
                if live:
                    bulk.replace(_random_record(int(rng.choice(live)[4:]), rng))
                    bulk.delete(rng.choice(live))
                if step == "abort":
                    _answers(bulk)
                bulk.insert_many([_random_record(number + 2, rng)])
                raise RuntimeError
            number += 3
            assert _answers(bulk) == before
        assert bulk.get(live[0]) == single.get(live[0]) if live else True
    assert _answers(bulk) == _answers(single)
    bulk.check_consistency()
    single.check_consistency()


class BulkSearchContract:
    """Searches after ``insert_many``; the ``store`` fixture comes from ``StoreContract``
    (it checks the store's consistency at the end of each test)."""

    def test_a_search_after_insert_many_finds_the_imported_customers(self, store: Store) -> None:
        imported = [
            _record("cus_1", 10, email="Ada@Example.com", name="Ada King", phone="+1 555 0100"),
            _record("cus_2", 20, name="Grace Hopper", plan="x"),
            _record("cus_3", 30, email="grace@example.com", name="Ada Lovelace"),
        ]
        imported[1]["metadata"] = {"plan": "Gold", "region": "EU"}
        store.insert_many(imported[:2])
        store.insert_many(imported[2:])
        assert store.word_keys("name", ["ada"], _EVERYTHING, limit=10) == [
            (30, "cus_3"),
            (10, "cus_1"),
        ]
        assert store.word_keys("name", ["ada king"], _EVERYTHING, limit=10) == [(10, "cus_1")]
        assert store.word_keys("phone", ["555", "0100"], _EVERYTHING, limit=10) == [(10, "cus_1")]
        assert store.metadata_keys("plan", "gold", _EVERYTHING, limit=10) == [(20, "cus_2")]
        assert store.metadata_keys("n", "3", _EVERYTHING, limit=10) == [(30, "cus_3")]
        assert store.word_keys("email", ["ada@example.com"], _EVERYTHING, limit=10) == [
            (10, "cus_1")
        ]
        assert [found["id"] for found in store.scan(email="grace@example.com")] == ["cus_3"]

    def test_a_replace_or_delete_before_the_first_search_is_what_search_sees(
        self, store: Store
    ) -> None:
        store.insert_many(
            [
                _record("cus_1", 10, name="Ada King", plan="x"),
                _record("cus_2", 20, name="Ada Lovelace"),
                _record("cus_3", 30, name="Ada Byron"),
            ]
        )
        # cus_1 renamed (its old words gone, one kept), cus_2 deleted, before any search.
        store.replace({**_record("cus_1", 10, name="Grace King"), "metadata": {"plan": "Gold"}})
        store.delete("cus_2")
        assert store.word_keys("name", ["ada"], _EVERYTHING, limit=10) == [(30, "cus_3")]
        assert store.word_keys("name", ["king"], _EVERYTHING, limit=10) == [(10, "cus_1")]
        assert store.word_keys("name", ["lovelace"], _EVERYTHING, limit=10) == []
        assert store.metadata_keys("plan", "gold", _EVERYTHING, limit=10) == [(10, "cus_1")]
        assert store.metadata_keys("n", "1", _EVERYTHING, limit=10) == []
        assert store.metadata_keys("n", "2", _EVERYTHING, limit=10) == []
        # And after the first search built them, writes keep the postings exact.
        store.replace(_record("cus_3", 30, name="Grace Hopper"))
        assert store.word_keys("name", ["ada"], _EVERYTHING, limit=10) == []
        assert store.word_keys("name", ["grace"], _EVERYTHING, limit=10) == [
            (30, "cus_3"),
            (10, "cus_1"),
        ]

    def test_an_aborted_import_leaves_nothing_to_search(self, store: Store) -> None:
        store.insert_many([_record("cus_1", 10, name="Ada King")])
        with pytest.raises(RuntimeError), store.transaction():
            store.insert_many([_record("cus_2", 20, name="Ada Lovelace")])
            # Inside the import's transaction, its customers are searchable already.
            assert store.word_keys("name", ["ada"], _EVERYTHING, limit=10) == [
                (20, "cus_2"),
                (10, "cus_1"),
            ]
            store.insert_many([_record("cus_3", 30, name="Ada Byron")])
            raise RuntimeError
        assert store.word_keys("name", ["ada"], _EVERYTHING, limit=10) == [(10, "cus_1")]
        assert store.get("cus_2") is None

    @pytest.mark.parametrize("seed", range(6))
    def test_searches_after_bulk_writes_answer_as_after_single_inserts(
        self, store: Store, seed: int
    ) -> None:
        bulk_write_trial(store, seed)

    def test_a_search_beside_an_open_import_sees_it_whole_or_not_at_all(self, store: Store) -> None:
        store.insert_many([_record("cus_0000", 1, name="Ada Zero")])
        imported = [_record(f"cus_{n:04d}", 2 + n, name=f"Ada {n}") for n in range(1, 41)]
        halfway = threading.Event()
        found: list[list[SortKey]] = []

        def search() -> None:
            halfway.wait(_WAIT)
            found.append(store.word_keys("name", ["ada"], _EVERYTHING, limit=100))

        searcher = threading.Thread(target=search)
        searcher.start()
        try:
            with store.transaction():
                store.insert_many(imported[:20])
                halfway.set()
                # A store whose reads wait for the writer answers after the commit; one
                # whose reads run beside it may answer meanwhile: either answer is whole.
                store.insert_many(imported[20:])
        finally:
            halfway.set()
            searcher.join(_WAIT)
        assert not searcher.is_alive()
        everyone = [(2 + n, f"cus_{n:04d}") for n in range(40, 0, -1)] + [(1, "cus_0000")]
        assert found[0] in ([(1, "cus_0000")], everyone)
        assert store.word_keys("name", ["ada"], _EVERYTHING, limit=100) == everyone
