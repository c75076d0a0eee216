"""MemoryStore builds the search entries of customers written by ``insert_many`` at the
first search that reads them, not at the write: whatever comes between (replace, delete,
more writes, transactions that abort, checkpoints), searches answer exactly as on a store
written one ``insert`` at a time, and the indexes end up holding exactly their records'
entries (``check_consistency``). Lookups by id and email and list pages never build them.
"""

from __future__ import annotations

import pytest

from customer_core import MemoryStore
from customer_core.store.base import KeyRange
from customer_core.testing.contract_bulk_search import bulk_write_trial
from customer_core.testing.store_contract import make_record


@pytest.mark.parametrize("seed", range(40))
def test_searches_after_bulk_writes_answer_as_after_single_inserts(seed: int) -> None:
    bulk_write_trial(MemoryStore(), seed)


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
