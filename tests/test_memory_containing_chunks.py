"""``MemoryStore.scan_containing`` holds the store's lock for a chunk of records at a time:
a ``~`` search that few records match walks the whole store, and other calls (a server's
retrieves on its event loop) must get the lock between chunks, not after the walk."""

from __future__ import annotations

from typing import Any

import pytest

from customer_core import CustomerService, MemoryStore
from customer_core.store import memory
from customer_core.store.base import KeyRange
from customer_core.testing import FakeClock


class CountingLock:
    def __init__(self, lock: Any) -> None:
        self.lock, self.holds = lock, 0

    def __enter__(self) -> Any:
        self.holds += 1
        return self.lock.__enter__()

    def __exit__(self, *exc: object) -> Any:
        return self.lock.__exit__(*exc)


@pytest.fixture
def store(monkeypatch: pytest.MonkeyPatch) -> MemoryStore:
    monkeypatch.setattr(memory, "CONTAINING_CHUNK", 50)
    store = MemoryStore()
    clock = FakeClock(1_700_000_000)
    service = CustomerService(store, clock=clock, seed=1)
    for n in range(500):
        service.create(name=f"Rare {n}" if n % 37 == 0 else f"Common {n}")
        clock.advance(1)
    return store


def test_a_walk_that_finds_little_takes_the_lock_a_chunk_at_a_time(store: MemoryStore) -> None:
    counting = CountingLock(store._lock)
    store._lock = counting  # type: ignore[assignment]
    assert store.scan_containing("nowhere", limit=10) == []
    assert counting.holds == 11  # 500 records, 50 at a time, and the last (empty) look


def test_matches_across_chunks_come_newest_first_up_to_the_limit(store: MemoryStore) -> None:
    found = store.scan_containing("rare", limit=5)
    assert [record["name"] for record in found] == [f"Rare {n}" for n in (481, 444, 407, 370, 333)]
    every = store.scan_containing("RARE", KeyRange(), limit=100)
    assert [record["name"] for record in every] == [f"Rare {n}" for n in range(481, -1, -37)]
    assert store.scan_containing("rare", limit=0) == []
