"""Where an export to a path lands (the last trial's data-safety defects): never over the
store being exported, through a symlink to its target, into a FIFO or device in place,
keeping an existing file's permissions, and never touching a user's ``NAME.partial``."""

from __future__ import annotations

import io
import os
import stat
import threading
from pathlib import Path

import pytest

from customer_core import CustomerService, InvalidRequestError, SQLiteStore
from customer_core.cli import main
from customer_core.transfer import export_customers


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "customers.db"
    with SQLiteStore(path) as store:
        CustomerService(store).create(email="kept@example.com")
    return path


def exported(db: Path) -> bytes:
    buffer = io.BytesIO()
    with SQLiteStore(db) as store:
        export_customers(store, buffer)
    return buffer.getvalue()


@pytest.mark.parametrize("suffix", ["", "-wal", "-shm"])
def test_exporting_onto_the_store_itself_is_refused_and_changes_nothing(
    db: Path, suffix: str, capsys: pytest.CaptureFixture[str]
) -> None:
    before = exported(db)
    target = f"{db}{suffix}"
    assert main(["export", "--db", str(db), "-o", target]) == 1
    assert capsys.readouterr().err == (
        f"error: Cannot export to {os.path.realpath(target)}: it is the customer store's own "
        "data file; choose another output file.\n"
    )
    assert exported(db) == before
    with SQLiteStore(db) as store:
        store.check_consistency()


def test_the_store_named_through_a_symlink_is_refused(db: Path, tmp_path: Path) -> None:
    link = tmp_path / "link.jsonl"
    link.symlink_to(db)
    with SQLiteStore(db) as store, pytest.raises(InvalidRequestError) as caught:
        export_customers(store, link)
    assert caught.value.param == "output"
    assert link.is_symlink()
    with SQLiteStore(db) as store:
        assert store.count() == 1


def test_a_store_opened_through_a_symlink_names_its_real_files(db: Path, tmp_path: Path) -> None:
    link = tmp_path / "link.db"
    link.symlink_to(db)
    real = os.path.realpath(db)
    with SQLiteStore(link) as store:
        assert store.files() == (real, f"{real}-journal", f"{real}-wal", f"{real}-shm")
        with pytest.raises(InvalidRequestError):
            export_customers(store, f"{db}-wal")
    with SQLiteStore(":memory:") as store:
        assert store.files() == ()


def test_a_symlink_keeps_pointing_at_its_file_which_gets_the_export(
    db: Path, tmp_path: Path
) -> None:
    real = tmp_path / "real.jsonl"
    real.write_bytes(b"old\n")
    link = tmp_path / "link.jsonl"
    link.symlink_to(real)
    assert main(["export", "--db", str(db), "-o", str(link)]) == 0
    assert link.is_symlink()
    assert real.read_bytes() == exported(db)


def test_an_existing_file_keeps_its_permissions(db: Path, tmp_path: Path) -> None:
    secret = tmp_path / "secret.jsonl"
    secret.write_bytes(b"")
    secret.chmod(0o600)
    assert main(["export", "--db", str(db), "-o", str(secret)]) == 0
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    assert secret.read_bytes() == exported(db)


def test_a_new_file_gets_the_umask_mode(db: Path, tmp_path: Path) -> None:
    previous = os.umask(0o027)
    try:
        target = tmp_path / "new.jsonl"
        assert main(["export", "--db", str(db), "-o", str(target)]) == 0
    finally:
        os.umask(previous)
    assert stat.S_IMODE(target.stat().st_mode) == 0o640


def test_a_users_partial_file_is_left_alone(db: Path, tmp_path: Path) -> None:
    mine = tmp_path / "mine.partial"
    mine.write_bytes(b"my own work\n")
    assert main(["export", "--db", str(db), "-o", str(tmp_path / "mine")]) == 0
    assert mine.read_bytes() == b"my own work\n"
    assert sorted(p.name for p in tmp_path.iterdir() if "mine" in p.name) == [
        "mine",
        "mine.partial",
    ]


def test_a_fifo_is_written_in_place(db: Path, tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    received = bytearray()

    def read() -> None:
        with open(fifo, "rb") as file:
            received.extend(file.read())

    reader = threading.Thread(target=read)
    reader.start()
    assert main(["export", "--db", str(db), "-o", str(fifo)]) == 0
    reader.join(timeout=30)
    assert not reader.is_alive()
    assert stat.S_ISFIFO(fifo.stat().st_mode)
    assert bytes(received) == exported(db)


def test_dev_null_stays_a_device(db: Path) -> None:
    assert main(["export", "--db", str(db), "-o", os.devnull]) == 0
    assert stat.S_ISCHR(os.stat(os.devnull).st_mode)
