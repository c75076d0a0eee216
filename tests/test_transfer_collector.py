"""An import pauses Python's cyclic garbage collector and leaves what it kept (a memory
store's index entries) in the oldest generation: the first collection after it does not
walk every customer's entries (2.6 s for 1M customers before), and a freeze the
application made stays as it was."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from customer_core import CustomerService, MemoryStore
from customer_core.transfer import import_customers

from .test_transfer_cli import write_customers


@pytest.fixture
def young_generations_collected() -> Iterator[list[int]]:
    """The size of each young generation (0 or 1) a collection walks, while the test runs."""
    sizes: list[int] = []

    def record(phase: str, info: dict[str, Any]) -> None:
        if phase == "start" and info["generation"] < 2:
            sizes.append(len(gc.get_objects(generation=info["generation"])))

    was_enabled = gc.isenabled()
    gc.enable()
    gc.collect()
    gc.callbacks.append(record)
    try:
        yield sizes
    finally:
        gc.callbacks.remove(record)
        if not was_enabled:
            gc.disable()


def test_after_an_import_no_young_collection_walks_its_customers(
    tmp_path: Path, young_generations_collected: list[int]
) -> None:
    source = tmp_path / "customers.jsonl"
    write_customers(source, 3000)  # 24,000 index entries kept by the store
    store = MemoryStore()
    import_customers(CustomerService(store), source)
    assert gc.isenabled()
    kept = [[index] for index in range(5000)]  # enough allocations for young collections
    assert young_generations_collected, "no collection ran"
    assert max(young_generations_collected) < 12_000
    assert store.count() == 3000 and len(kept) == 5000


def test_an_import_leaves_the_applications_freeze_and_collector_setting(tmp_path: Path) -> None:
    source = tmp_path / "customers.jsonl"
    write_customers(source, 10)
    frozen = [[index] for index in range(100)]
    was_enabled = gc.isenabled()
    gc.disable()
    gc.freeze()
    try:
        count = gc.get_freeze_count()
        import_customers(CustomerService(MemoryStore()), source)
        assert gc.get_freeze_count() == count
        assert not gc.isenabled()  # paused by the application: left paused
    finally:
        gc.unfreeze()
        if was_enabled:
            gc.enable()
    assert len(frozen) == 100
