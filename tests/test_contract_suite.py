"""The store contract suite itself: its consistency check is part of the Store port and
catches drifted indexes in each store, and its modules get pytest's assert rewriting."""

from __future__ import annotations

import importlib
import sqlite3
from pathlib import Path

import pytest
from _pytest.assertion.rewrite import AssertionRewritingHook

import customer_core.testing
from customer_core import MemoryStore, SQLiteStore, Store
from customer_core.store import memory, sqlite
from customer_core.store.base import StoreInconsistency
from customer_core.testing import CONTRACT_MODULES
from customer_core.testing.store_contract import make_record


def test_check_consistency_is_part_of_the_port_every_store_implements() -> None:
    assert "check_consistency" in Store.__abstractmethods__
    assert not hasattr(Store, "_check")


def test_the_memory_check_catches_an_index_that_drifted() -> None:
    store = MemoryStore()
    store.insert(make_record("cus_1", 10, email="a@example.com"))
    store.check_consistency()
    store._by_metadata.clear()  # a write that forgot its postings
    with pytest.raises(StoreInconsistency, match="metadata index"):
        store.check_consistency()


def test_the_sqlite_check_catches_postings_that_drifted(tmp_path: Path) -> None:
    path = tmp_path / "customers.db"
    with SQLiteStore(path) as store:
        store.insert(make_record("cus_1", 10, email="a@example.com", invoice_prefix="P"))
        store.check_consistency()
    connection = sqlite3.connect(path)
    with connection:
        connection.execute("DELETE FROM customer_words")
    connection.close()
    with SQLiteStore(path) as store, pytest.raises(StoreInconsistency, match="customer_words"):
        store.check_consistency()


def test_the_check_fails_loudly_under_python_dash_o_too() -> None:
    assert issubclass(StoreInconsistency, AssertionError)
    for module in (memory, sqlite):
        source = Path(module.__file__).read_text()
        check = source.split("def check_consistency", 1)[1].split("\n    def ", 1)[0]
        assert "assert " not in check, module.__name__


def test_every_contract_module_is_listed_and_rewritten() -> None:
    package = Path(customer_core.testing.__file__).parent
    on_disk = sorted(
        f"customer_core.testing.{path.stem}"
        for path in package.glob("*.py")
        if path.stem == "store_contract" or path.stem.startswith("contract_")
    )
    assert list(CONTRACT_MODULES) == on_disk
    assert "customer_core.testing.contract_edges" in CONTRACT_MODULES
    for name in CONTRACT_MODULES:
        module = importlib.import_module(name)
        assert isinstance(module.__loader__, AssertionRewritingHook), name
