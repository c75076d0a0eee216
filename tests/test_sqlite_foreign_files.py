"""Another program's SQLite file that happens to keep a ``schema_version`` table (migration
tools do) is refused untouched, with the tables it lacks named: it used to be switched to
WAL and half migrated, failing with SQLite's words ("no such index: customers_by_email"),
or, at the current version, opened and failing at the first read."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from customer_core import SQLiteStore, StoreError
from customer_core.store.sqlite import SCHEMA_VERSION


def foreign_file(path: Path, version: int) -> bytes:
    connection = sqlite3.connect(path)
    connection.execute("CREATE TABLE schema_version (version INT)")
    connection.execute("INSERT INTO schema_version VALUES (?)", (version,))
    connection.execute("CREATE TABLE users (id INT)")
    connection.commit()
    connection.close()
    return path.read_bytes()


@pytest.mark.parametrize("version", [1, 3, SCHEMA_VERSION - 1, SCHEMA_VERSION])
def test_a_foreign_file_with_a_schema_version_is_refused_untouched(
    tmp_path: Path, version: int
) -> None:
    path = tmp_path / "other.db"
    before = foreign_file(path, version)
    with pytest.raises(StoreError) as caught:
        SQLiteStore(path)
    assert caught.value.message.startswith(
        f"Could not open the customer store {path}: it is a SQLite database but not a "
        f"customer_core store (schema version {version} has no "
    )
    assert "customers" in caught.value.message
    assert path.read_bytes() == before
    assert not Path(f"{path}-wal").exists()
    connection = sqlite3.connect(path)
    assert connection.execute("PRAGMA journal_mode").fetchone() == ("delete",)
    connection.close()
