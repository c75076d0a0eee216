"""SIGTERM (``kill``, ``timeout``, a service manager's stop) ends an import as Ctrl-C does:
nothing imported, no partial file left, a message; the process then dies of the signal."""

from __future__ import annotations

import signal
from pathlib import Path

from customer_core import CustomerService, SQLiteStore

from .test_transfer_cli import interrupted_import, state, write_customers


def test_a_terminated_import_into_a_new_file_leaves_no_file(tmp_path: Path) -> None:
    source = tmp_path / "big.jsonl"
    write_customers(source, 12_000)
    target = tmp_path / "new.db"
    process, stderr = interrupted_import(target, source, "terminate")
    assert process.returncode == -signal.SIGTERM
    assert stderr.decode().endswith("interrupted: nothing was imported\n")
    assert sorted(path.name for path in tmp_path.iterdir()) == ["big.jsonl"]


def test_a_terminated_import_into_a_file_leaves_it_as_it_was(tmp_path: Path) -> None:
    source = tmp_path / "big.jsonl"
    write_customers(source, 12_000)
    db = tmp_path / "customers.db"
    with SQLiteStore(db) as store:
        CustomerService(store).create(email="kept@example.com")
    before = state(db)
    process, stderr = interrupted_import(db, source, "terminate")
    assert process.returncode == -signal.SIGTERM
    assert stderr.decode().endswith("interrupted: nothing was imported\n")
    assert state(db) == before
    assert sorted(path.name for path in tmp_path.iterdir()) == ["big.jsonl", "customers.db"]
