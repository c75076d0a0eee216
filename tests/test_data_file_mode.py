"""New data files (and the default data directory) are their owner's alone, whatever the
umask: they hold the customers and the webhook endpoints' signing secrets."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from customer_core import CustomerService, SQLiteStore
from customer_core.cli import main

pytest_plugins = ["pytester"]


@pytest.fixture(autouse=True)
def _permissive_umask() -> Iterator[None]:
    before = os.umask(0o022)
    yield
    os.umask(before)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_store_file_and_its_wal_and_shm_are_the_owners_alone(tmp_path: Path) -> None:
    path = tmp_path / "customers.db"
    with SQLiteStore(path) as store:
        service = CustomerService(store)
        service.webhook_endpoints.create(url="http://127.0.0.1:9/hook", enabled_events=["*"])
        service.create(email="jenny@example.com")
        modes = {name: _mode(tmp_path / name) for name in os.listdir(tmp_path)}
    assert modes == {"customers.db": 0o600, "customers.db-wal": 0o600, "customers.db-shm": 0o600}


def test_an_existing_file_keeps_its_mode(tmp_path: Path) -> None:
    path = tmp_path / "shared.db"
    SQLiteStore(path).close()
    path.chmod(0o640)
    with SQLiteStore(path) as store:
        CustomerService(store).create(name="Jenny")
    assert _mode(path) == 0o640


def test_a_backup_is_the_owners_alone(tmp_path: Path) -> None:
    with SQLiteStore(tmp_path / "customers.db") as store:
        CustomerService(store).create(name="Jenny")
        store.backup(tmp_path / "copy.db")
    assert _mode(tmp_path / "copy.db") == 0o600
    with SQLiteStore(tmp_path / "copy.db") as copy:
        assert [c.name for c in CustomerService(copy).list().data] == ["Jenny"]


def test_the_default_data_directory_is_made_the_owners_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("CUSTOMER_CORE_DATA", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert main(["create", "-d", "name=Jenny"]) == 0
    assert '"name": "Jenny"' in capsys.readouterr().out
    directory = tmp_path / "xdg" / "customer-core"
    assert _mode(directory) == 0o700
    assert _mode(directory / "customers.db") == 0o600


def test_a_new_file_behind_a_dangling_link_is_the_owners_alone(tmp_path: Path) -> None:
    (tmp_path / "link.db").symlink_to(tmp_path / "target.db")
    with SQLiteStore(tmp_path / "link.db") as store:
        CustomerService(store).create(name="Jenny")
    assert _mode(tmp_path / "target.db") == 0o600


def test_the_pytest_plugins_sqlite_store_files_are_the_owners_alone(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        test_modes="""
import os, stat

def test_modes(customer_service):
    customer_service.create(name="Jenny")
    path = customer_service.store.path
    modes = {suffix: stat.S_IMODE(os.stat(path + suffix).st_mode) for suffix in ("", "-wal", "-shm")}
    assert modes == {"": 0o600, "-wal": 0o600, "-shm": 0o600}
"""
    )
    pytester.runpytest("--customer-core-store=sqlite").assert_outcomes(passed=1)
