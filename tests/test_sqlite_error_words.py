"""SQLite errors in words: a writer that waits out ``busy_timeout`` behind another
process's write lock gets a StoreError saying what happened and that nothing was written
(a 503, like a stopping server's), not sqlite3's bare "database is locked" (the README
says the same); a backup that cannot be written names its target, not only the source."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from customer_core import CustomerService, SQLiteStore, StoreError


def test_a_write_lock_held_past_the_busy_timeout_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "customers.db"
    with SQLiteStore(path, busy_timeout=0.2) as store:
        service = CustomerService(store)
        first = service.create(name="Jenny")
        other = sqlite3.connect(path, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")
            with pytest.raises(StoreError) as caught:
                service.update(first.id, name="Jo")
        finally:
            other.execute("ROLLBACK")
            other.close()
        assert caught.value.message == (
            f"The customer store {path} stayed locked by another writer for 0.2 s "
            "(busy_timeout); nothing was written, retry the request."
        )
        assert (caught.value.http_status, caught.value.to_dict()["error"]["type"]) == (
            503,
            "api_error",
        )
        assert service.retrieve(first.id).name == "Jenny"
        assert service.update(first.id, name="Jo").name == "Jo"


def test_a_backup_that_cannot_be_written_names_its_target(tmp_path: Path) -> None:
    path = tmp_path / "customers.db"
    not_sqlite = tmp_path / "notes.txt"
    not_sqlite.write_text("hello\n")
    missing = tmp_path / "no" / "copy.db"
    with SQLiteStore(path) as store:
        for target, reason in (
            (not_sqlite, "file is not a database"),
            (missing, "unable to open database file"),
        ):
            with pytest.raises(StoreError) as caught:
                store.backup(target)
            assert caught.value.message == (
                f"Could not back up the customer store {path} to {target}: {reason}"
            )
    assert not_sqlite.read_text() == "hello\n"
