"""MemoryStore builds the search entries of customers written by ``insert_many`` at the
first search that reads them, not at the write: whatever comes between (replace, delete,
more writes, transactions that abort, checkpoints), searches answer exactly as on a store
written one ``insert`` at a time, and the indexes end up holding exactly their records'
entries (``check_consistency``). Lookups by id and email and list pages never build them.
"""

from __future__ import annotations

import random

import pytest

from customer_core import MemoryStore
from customer_core.store.base import KeyRange, Record
from customer_core.testing.store_contract import make_record

NAMES = ["Ada King", "Ada Lovelace", "Grace Hopper", "king ada", None]
PLANS = ["Gold", "gold", "silver", None]


def record(number: int, rng: random.Random) -> Record:
    found = make_record(
        f"cus_{number:04d}",
        rng.randrange(5),
        email=rng.choice([f"c{number}@example.com", "Shared@Example.com", None]),
        invoice_prefix=f"P{number:04d}",
        name=rng.choice(NAMES),
        phone=rng.choice(["+1 555 0100", "555-0199", None]),
    )
    plan = rng.choice(PLANS)
    found["metadata"] = {"n": str(number % 3)} | ({"plan": plan} if plan else {})
    return found


def answers(store: MemoryStore) -> list[object]:
    """What every search-side read gives, and the list's email filter."""
    everything = KeyRange()
    return [
        store.word_keys("name", ["ada"], everything, limit=100),
        store.word_keys("name", ["ada king"], everything, limit=100),
        store.word_keys("name", ["grace", "hopper"], everything, limit=100),
        store.word_keys("phone", ["555"], everything, limit=100),
        store.word_keys("email", ["shared@example.com"], everything, limit=100),
        store.metadata_keys("plan", "gold", everything, limit=100),
        store.metadata_keys("n", "1", everything, limit=100),
        [found["id"] for found in store.scan(email="Shared@Example.com")],
        [found["id"] for found in store.scan()],
    ]


@pytest.mark.parametrize("seed", range(40))
def test_searches_after_bulk_writes_answer_as_after_single_inserts(seed: int) -> None:
    rng = random.Random(seed)
    bulk, single = MemoryStore(), MemoryStore()
    live: list[str] = []
    number = 0
    for _ in range(12):
        step = rng.choice(["batch", "batch", "replace", "delete", "search", "abort", "undo"])
        if step == "batch":
            batch = [record(number + n, rng) for n in range(rng.randrange(1, 6))]
            number += len(batch)
            bulk.insert_many(batch)
            for one in batch:
                single.insert(one)
            live += [one["id"] for one in batch]
        elif step == "replace" and live:
            changed = record(int(rng.choice(live)[4:]), rng)
            bulk.replace(changed)
            single.replace(changed)
        elif step == "delete" and live:
            gone = live.pop(rng.randrange(len(live)))
            bulk.delete(gone)
            single.delete(gone)
        elif step == "search":
            assert answers(bulk) == answers(single)
        elif step in ("abort", "undo"):
            # Writes, and a search that builds the entries, inside a transaction that
            # rolls back: the store must be as before, built entries included.
            before = answers(single)
            with pytest.raises(RuntimeError), bulk.transaction():
                bulk.insert_many([record(number, rng), record(number + 1, rng)])
                if live:
                    bulk.replace(record(int(rng.choice(live)[4:]), rng))
                    bulk.delete(rng.choice(live))
                if step == "abort":
                    answers(bulk)
                bulk.insert_many([record(number + 2, rng)])
                raise RuntimeError
            number += 3
            assert answers(bulk) == before
        assert bulk.get(live[0]) == single.get(live[0]) if live else True
    assert answers(bulk) == answers(single)
    bulk.check_consistency()
    single.check_consistency()


def test_a_bulk_write_defers_only_the_search_entries() -> None:
    store = MemoryStore()
    store.insert_many([make_record("cus_1", 10, email="A@example.com", name="Ada King", plan="x")])
    assert len(store._by_metadata) == 0
    assert list(store._by_words) == [("email", "a@example.com", 10, "cus_1")]
    # Lookups by id and email and list pages read what is built.
    assert [found["id"] for found in store.scan(email="A@example.com")] == ["cus_1"]
    assert [found["id"] for found in store.scan()] == ["cus_1"]
    assert store.get("cus_1") is not None
    assert len(store._by_metadata) == 0 and store._unsearched == {"cus_1": 10}
    # The first search builds them all.
    assert store.metadata_keys("n", "1", KeyRange(), limit=10) == [(10, "cus_1")]
    assert store._unsearched == {}
    assert ("name", "ada king", 10, "cus_1") in store._by_words


def test_a_checkpoint_keeps_what_is_still_to_build() -> None:
    store = MemoryStore()
    store.insert_many([make_record("cus_1", 10, name="Ada King")])
    checkpoint = store.checkpoint()
    assert store.word_keys("name", ["ada"], KeyRange(), limit=10) == [(10, "cus_1")]
    store.insert_many([make_record("cus_2", 20, name="Ada Lovelace")])
    store.restore(checkpoint)
    assert store._unsearched == {"cus_1": 10}
    assert store.word_keys("name", ["ada"], KeyRange(), limit=10) == [(10, "cus_1")]
    store.check_consistency()
