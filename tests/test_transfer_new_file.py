"""An import into a data file that does not exist builds it beside its place, as
``PATH.partial`` (no WAL, no fsync per write), and puts it in place whole when complete:
the file then is an ordinary WAL store file; a failed import leaves nothing, a killed one
only the partial file, which the next import replaces (issue 15's kill -9 leftover)."""

from __future__ import annotations

import signal
import sqlite3
from pathlib import Path

import pytest

from customer_core import CustomerService, SQLiteStore
from customer_core.cli import main
from customer_core.errors import StoreError
from customer_core.store.sqlite_new_file import new_sqlite_file
from customer_core.transfer import export_customers, import_customers, import_into_new_file

from .test_transfer_cli import _start_import, interrupted_import, write_customers


def names(directory: Path) -> list[str]:
    return sorted(path.name for path in directory.iterdir())


def test_the_new_file_is_an_ordinary_store_file_holding_the_import(tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    write_customers(source, 2500)
    target = tmp_path / "new.db"
    result = import_into_new_file(source, target)
    assert result.created == 2500
    assert names(tmp_path) == ["in.jsonl", "new.db"]
    connection = sqlite3.connect(target)
    assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    connection.close()
    # The same store as an import into an existing file gives, byte for byte.
    existing = tmp_path / "existing.db"
    with SQLiteStore(existing) as store:
        import_customers(CustomerService(store), source)
        export_customers(store, tmp_path / "existing.jsonl")
    with SQLiteStore(target) as store:
        store.check_consistency()
        export_customers(store, tmp_path / "new.jsonl")
        assert CustomerService(store).search(query='email:"c7@example.com"').data[0].email == (
            "c7@example.com"
        )
    assert (tmp_path / "new.jsonl").read_bytes() == (tmp_path / "existing.jsonl").read_bytes()


def test_an_existing_path_is_refused_and_left_alone(tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    write_customers(source, 3)
    target = tmp_path / "there.db"
    target.write_bytes(b"not ours")
    with pytest.raises(StoreError) as caught:
        import_into_new_file(source, target)
    assert caught.value.message == (
        f"Could not create the customer store {target}: it exists already"
    )
    assert target.read_bytes() == b"not ours"
    assert names(tmp_path) == ["in.jsonl", "there.db"]


def test_a_file_another_process_created_meanwhile_is_not_overwritten(tmp_path: Path) -> None:
    target = tmp_path / "raced.db"
    with pytest.raises(StoreError) as caught:
        with new_sqlite_file(target) as store:
            CustomerService(store).create(email="mine@example.com")
            target.write_bytes(b"theirs")
    assert caught.value.message == (
        f"Could not create the customer store {target}: another process created it while "
        "this one built it"
    )
    assert target.read_bytes() == b"theirs"
    assert names(tmp_path) == ["raced.db"]


def test_a_failed_build_leaves_nothing_and_a_stale_partial_file_is_replaced(
    tmp_path: Path,
) -> None:
    target = tmp_path / "new.db"
    Path(f"{target}.partial").write_bytes(b"left by a killed import")
    with pytest.raises(RuntimeError):
        with new_sqlite_file(target) as store:
            CustomerService(store).create(email="lost@example.com")
            raise RuntimeError("stop")
    assert names(tmp_path) == []
    Path(f"{target}.partial").write_bytes(b"left by a killed import")
    with new_sqlite_file(target) as store:
        CustomerService(store).create(email="kept@example.com")
    assert names(tmp_path) == ["new.db"]
    with SQLiteStore(target) as store:
        assert store.count() == 1


def test_a_killed_import_into_a_new_file_leaves_only_the_partial_file(tmp_path: Path) -> None:
    source = tmp_path / "big.jsonl"
    write_customers(source, 12_000)
    target = tmp_path / "new.db"
    process, _ = interrupted_import(target, source, "kill")
    assert process.returncode == -signal.SIGKILL
    assert names(tmp_path) == ["big.jsonl", "new.db.partial"]
    # The next import into the same path starts again and replaces the partial file.
    again = _start_import(source, target)
    _, stderr = again.communicate(timeout=600)
    assert again.returncode == 0, stderr
    assert names(tmp_path) == ["big.jsonl", "new.db"]
    with SQLiteStore(target) as store:
        assert store.count() == 12_000


def test_the_command_builds_a_new_file_and_says_so_on_failure(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "in.jsonl"
    write_customers(source, 5)
    target = tmp_path / "made.db"
    assert main(["import", str(source), "--db", str(target)]) == 0
    assert capsys.readouterr().err == (
        "imported 5 new customers (0 replaced, 0 skipped), 0 tax IDs, 0 deleted customers, "
        "0 former invoice prefixes\n"
    )
    assert names(tmp_path) == ["in.jsonl", "made.db"]
    missing = tmp_path / "nowhere" / "made.db"
    assert main(["import", str(source), "--db", str(missing)]) == 1
    assert capsys.readouterr().err == (
        f"error: cannot create the data file {missing}: the directory {missing.parent} "
        "does not exist\n"
    )
