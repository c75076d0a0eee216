"""An import that holds its SQLite store file (``import_customers(..., exclusive=True)``,
``held_exclusively``): a rollback journal instead of the WAL while no other connection has
the file open, the WAL as before when one has; others never read part of it, and the
file is back in WAL mode after it. Killed mid-import: test_transfer_cli's kill test (the
command imports this way into an existing file)."""

from __future__ import annotations

import contextlib
import io
import os
import sqlite3
from pathlib import Path

import pytest

from customer_core import CustomerService, SQLiteStore
from customer_core.errors import StoreError
from customer_core.store.sqlite_exclusive import held_exclusively
from customer_core.transfer import TransferError, import_customers

from . import test_export_target
from .test_transfer_cli import write_customers

db = test_export_target.db
"""The fixture: a closed store file holding one customer."""


def journal_mode(path: Path) -> str:
    with contextlib.closing(sqlite3.connect(path)) as connection:
        mode: str = connection.execute("PRAGMA journal_mode").fetchone()[0]
    return mode


def test_an_exclusive_import_writes_through_a_journal_and_leaves_the_file_in_wal_mode(
    db: Path, tmp_path: Path
) -> None:
    source = tmp_path / "in.jsonl"
    write_customers(source, 500)
    with SQLiteStore(db) as store:
        with held_exclusively(store) as held:
            assert held
            with store.transaction():
                store.get("cus_nothing")
            assert not os.path.exists(f"{db}-wal")  # a rollback journal, not the WAL
            # Another connection waits for the file, then gives up: it reads nothing.
            with (
                contextlib.closing(sqlite3.connect(db, timeout=0.05)) as other,
                pytest.raises(sqlite3.OperationalError, match="locked"),
            ):
                other.execute("SELECT count(*) FROM customers")
            with pytest.raises(StoreError, match="locked"):
                SQLiteStore(db, busy_timeout=0.05)
        result = import_customers(CustomerService(store), source, exclusive=True)
        assert result.created == 500
        # Released: others read and write as usual, in WAL mode.
        with SQLiteStore(db) as other:
            assert other.count() == 501
            CustomerService(other).create(email="after@example.com")
        assert store.count() == 502
        store.check_consistency()
    assert journal_mode(db) == "wal"
    assert not os.path.exists(f"{db}-journal")


def test_a_file_another_connection_has_open_keeps_the_wal_and_its_readers(
    db: Path, tmp_path: Path
) -> None:
    source = tmp_path / "in.jsonl"
    write_customers(source, 50)
    with SQLiteStore(db) as reader, SQLiteStore(db) as store:
        assert reader.count() == 1  # its read connection stays open
        with held_exclusively(store) as held:
            assert not held
            with store.transaction():
                CustomerService(store).create(email="new@example.com")
                assert reader.count() == 1  # reads on, the write not committed yet
        assert import_customers(CustomerService(store), source, exclusive=True).created == 50
        assert reader.count() == 52
    assert journal_mode(db) == "wal"


def test_inside_a_transaction_or_in_memory_nothing_changes(db: Path) -> None:
    with SQLiteStore(db) as store, store.transaction(), held_exclusively(store) as held:
        assert not held
    with SQLiteStore(":memory:") as store, held_exclusively(store) as held:
        assert not held


def test_a_refused_exclusive_import_leaves_the_store_as_it_was(db: Path) -> None:
    good = b'{"id": "cus_Good", "object": "customer", "created": 1, "invoice_prefix": "GOOD"}'
    bad = good.replace(b"cus_Good", b"cus_Bad").replace(b"GOOD", b"BAD1")[:-1] + b', "email": "x"}'
    with SQLiteStore(db) as store:
        before = store.snapshot()
        with pytest.raises(TransferError, match="line 2: email"):
            import_customers(CustomerService(store), io.BytesIO(good + b"\n" + bad), exclusive=True)
        assert store.snapshot() == before
        # The file is free again.
        with SQLiteStore(db) as other:
            assert other.count() == 1
    assert journal_mode(db) == "wal"
    assert not os.path.exists(f"{db}-journal")
