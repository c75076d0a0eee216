"""The store contract suite, run against every store."""

from __future__ import annotations

from pathlib import Path

import pytest

from customer_core import CustomerService, MemoryStore, SQLiteStore, Store
from customer_core.testing import StoreContract

from .conftest import POSTGRES_MISSING, STORE_FACTORIES


class TestMemoryStore(StoreContract):
    def make_store(self, tmp_path: Path) -> Store:
        return MemoryStore()


class TestSQLiteStore(StoreContract):
    def make_store(self, tmp_path: Path) -> Store:
        return SQLiteStore(tmp_path / "customers.db")


class TestPostgresStore(StoreContract):
    @pytest.fixture(autouse=True)
    def _needs_postgres(self) -> None:
        if "postgres" not in STORE_FACTORIES:
            pytest.skip(f"no PostgreSQL server for the tests: {POSTGRES_MISSING}")

    def make_store(self, tmp_path: Path) -> Store:
        return STORE_FACTORIES["postgres"](tmp_path)


def test_memory_store_substring_scan_decodes_only_records_that_can_match() -> None:
    store = MemoryStore()
    service = CustomerService(store, seed=1)
    for number in range(40):
        service.create(name=f"Customer {number}", description="Rocket" if number == 7 else None)
    # A Kelvin sign, which str.lower() makes "k", lets its record through whatever the text.
    kelvin = service.create(name="\u212aIM")

    def names(text: str) -> list[str]:
        return [record["name"] for record in store.scan_containing(text, limit=100)]

    assert names("rocket") == ["\u212aIM", "Customer 7"]
    assert names("xyz") == ["\u212aIM"]
    assert len(names("caf\u00e9")) == 41  # non-ASCII text: nothing skipped
    assert [customer.id for customer in service.search(query='name~"kim"').data] == [kelvin.id]
