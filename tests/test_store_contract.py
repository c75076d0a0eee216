"""The store contract suite, run against every store."""

from __future__ import annotations

from pathlib import Path

from customer_core import MemoryStore, SQLiteStore, Store
from customer_core.testing import StoreContract


class TestMemoryStore(StoreContract):
    def make_store(self, tmp_path: Path) -> Store:
        return MemoryStore()


class TestSQLiteStore(StoreContract):
    def make_store(self, tmp_path: Path) -> Store:
        return SQLiteStore(tmp_path / "customers.db")
