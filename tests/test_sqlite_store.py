"""What only the durable store must do: survive reopening, crashes, other processes, bad files."""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from customer_core import CustomerService, SQLiteStore, StoreError
from customer_core.errors import APIError
from customer_core.store.base import KeyRange
from customer_core.store.sqlite import MIGRATIONS, SCHEMA_VERSION

from .test_customer_object import FULL

ROOT = Path(__file__).resolve().parent.parent


def worker(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.sqlite_worker", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_everything_survives_closing_and_reopening(tmp_path: Path) -> None:
    path = tmp_path / "customers.db"
    with SQLiteStore(path) as store:
        service = CustomerService(store, seed=1)
        kept = service.create(**FULL)
        service.update(kept.id, metadata={"extra": "1"})
        gone = service.create(invoice_prefix="GONE")
        service.delete(gone.id)
        before = store.snapshot()
        body = service.retrieve(kept.id).to_dict()
    with SQLiteStore(path) as store:
        service = CustomerService(store)
        assert store.snapshot() == before
        assert service.retrieve(kept.id).to_dict() == body
        assert service.retrieve(gone.id).to_dict() == {
            "id": gone.id,
            "object": "customer",
            "deleted": True,
        }
        with pytest.raises(Exception, match="GONE"):
            service.create(invoice_prefix="GONE")


def test_wal_journal_and_synchronous_setting(tmp_path: Path) -> None:
    with SQLiteStore(tmp_path / "a.db") as store:
        assert store._connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"  # type: ignore[union-attr]
        assert store._connection.execute("PRAGMA synchronous").fetchone()[0] == 2  # type: ignore[union-attr]
    with SQLiteStore(tmp_path / "b.db", synchronous="NORMAL") as store:
        assert store._connection.execute("PRAGMA synchronous").fetchone()[0] == 1  # type: ignore[union-attr]
    with pytest.raises(ValueError, match="synchronous"):
        SQLiteStore(tmp_path / "c.db", synchronous="OFF")  # type: ignore[arg-type]


def test_a_batch_commits_all_of_its_writes_at_once(tmp_path: Path) -> None:
    path = tmp_path / "customers.db"
    with SQLiteStore(path) as store:
        service = CustomerService(store)
        with service.batch():
            made = [service.create(email=f"u{n}@example.com").id for n in range(50)]
            # Not visible to another connection before the commit.
            other = sqlite3.connect(path)
            assert other.execute("SELECT COUNT(*) FROM customers").fetchone()[0] == 0
            other.close()
        assert [c.id for c in service.list(limit=100).data] == made[::-1]


def test_backup_copies_a_live_store(tmp_path: Path) -> None:
    with SQLiteStore(tmp_path / "live.db") as store:
        service = CustomerService(store)
        customer = service.create(email="a@example.com")
        store.backup(tmp_path / "copy.db")
    with SQLiteStore(tmp_path / "copy.db") as copy:
        assert copy.get(customer.id)["email"] == "a@example.com"  # type: ignore[index]


def test_an_older_schema_version_is_migrated_forward(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    connection = sqlite3.connect(path, isolation_level=None)
    for statement in MIGRATIONS[0]:
        connection.execute(statement)
    connection.execute("UPDATE schema_version SET version = 1")
    body = (
        '{"id":"cus_old","object":"customer","created":5,"email":"Old.Timer@example.com",'
        '"invoice_prefix":"OLD","metadata":{"plan":"Gold"}}'
    )
    connection.execute(
        "INSERT INTO customers VALUES ('cus_old', 5, 'Old.Timer@example.com', ?)", (body,)
    )
    connection.execute("INSERT INTO invoice_prefixes VALUES ('OLD', 'cus_old')")
    connection.close()
    with SQLiteStore(path) as store:
        assert store.get("cus_old")["invoice_prefix"] == "OLD"  # type: ignore[index]
        # Version 2 added the search indexes and filled them from the old rows.
        assert store.metadata_keys("plan", "gold", KeyRange(), limit=5) == [(5, "cus_old")]
        # Version 6 posted the words of email, name and phone.
        assert store.word_keys("email", ["old.timer@example.com"], KeyRange(), limit=5) == [
            (5, "cus_old")
        ]
        version = store._connection.execute("SELECT version FROM schema_version").fetchone()[0]  # type: ignore[union-attr]
        assert version == SCHEMA_VERSION
        store.check_consistency()


# --- bad files: a clear error naming the path, and the file left as it was ------------------


def refused(path: Path, match: str) -> StoreError:
    before = path.read_bytes() if path.is_file() else None
    with pytest.raises(StoreError, match=match) as caught:
        SQLiteStore(path)
    assert str(path) in caught.value.message
    assert isinstance(caught.value, APIError)
    if before is not None:
        assert path.read_bytes() == before
    assert not Path(f"{path}-wal").exists()
    return caught.value


def test_a_file_that_is_not_sqlite_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_bytes(b"these are my notes, not a database\n" * 200)
    refused(path, "not a SQLite database")


def test_another_programs_sqlite_database_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    connection = sqlite3.connect(path)
    connection.execute("CREATE TABLE users (name TEXT)")
    connection.commit()
    connection.close()
    refused(path, "not a customer_core store")


def test_a_newer_schema_version_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "future.db"
    with SQLiteStore(path):
        pass
    connection = sqlite3.connect(path)
    connection.execute("UPDATE schema_version SET version = ?", (SCHEMA_VERSION + 1,))
    connection.commit()
    connection.close()
    refused(path, f"schema version {SCHEMA_VERSION + 1}, newer than this customer_core understands")


def test_a_directory_is_refused(tmp_path: Path) -> None:
    refused(tmp_path, "it is a directory")


@pytest.mark.parametrize("device", ["/dev/null", "/dev/zero", "fifo"])
def test_a_device_or_a_pipe_is_refused_by_name(tmp_path: Path, device: str) -> None:
    path = Path(device)
    if device == "fifo":
        path = tmp_path / "customers.db"
        os.mkfifo(path)  # opening it would wait for a writer forever
    with pytest.raises(StoreError) as caught:
        SQLiteStore(path)
    assert caught.value.message == (
        f"Could not open the customer store {path}: it is not a regular file "
        "(a device, a pipe or a socket)"
    )


def test_a_read_only_location_is_refused() -> None:
    error = refused(Path("/proc/customer_core_test/customers.db"), "unable to open database file")
    assert error.http_status == 500


def test_a_full_disk_fails_the_write_cleanly_and_keeps_earlier_data(tmp_path: Path) -> None:
    with SQLiteStore(tmp_path / "full.db") as store:
        service = CustomerService(store, seed=1)
        kept = service.create(**FULL)
        before = store.snapshot()
        connection = store._connection
        assert connection is not None
        pages = connection.execute("PRAGMA page_count").fetchone()[0]
        connection.execute(f"PRAGMA max_page_count = {pages}")  # SQLite's own "disk full" path
        with pytest.raises(StoreError, match="full") as caught:
            with service.batch():
                for n in range(500):
                    service.create(email=f"n{n}@example.com", description="x" * 4000)
        assert str(tmp_path / "full.db") in caught.value.message
        assert store.snapshot() == before
        connection.execute("PRAGMA max_page_count = 1073741823")
        assert service.create(email="after@example.com").email == "after@example.com"
        assert service.retrieve(kept.id).to_dict()["metadata"] == FULL["metadata"]


def test_a_record_changed_by_another_program_into_bad_json_is_a_store_error(tmp_path: Path) -> None:
    path = tmp_path / "edited.db"
    with SQLiteStore(path) as store:
        service = CustomerService(store, seed=1)
        broken, fine = service.create(email="a@example.com"), service.create(email="b@example.com")
        other = sqlite3.connect(path)
        other.execute("UPDATE customers SET body = '{\"id\": ' WHERE id = ?", (broken.id,))
        other.commit()
        other.close()
        for call in (
            lambda: service.retrieve(broken.id),
            lambda: service.list(),
            lambda: service.delete(broken.id),
        ):
            with pytest.raises(StoreError, match="a stored record is not valid JSON") as caught:
                call()
            assert str(path) in caught.value.message and caught.value.http_status == 500
        assert service.retrieve(fine.id).email == "b@example.com"  # type: ignore[union-attr]
        assert not store.is_deleted(broken.id)  # the failed delete changed nothing


def test_a_substring_search_decodes_only_the_records_that_can_match(tmp_path: Path) -> None:
    with SQLiteStore(tmp_path / "search.db") as store:
        service = CustomerService(store, seed=1)
        for number in range(40):
            service.create(name=f"Customer {number}")
        rocket = service.create(name="Amy ROCKET")
        service.create(name="Customer 40")
        assert [record["id"] for record in store.scan_containing("rocket", limit=100)] == [
            rocket.id
        ]
        assert [customer.id for customer in service.search(query='name~"rocket"').data] == [
            rocket.id
        ]
        # Text a JSON body would hold escaped cannot narrow: every record comes back for search to check.
        assert len(store.scan_containing('"rocket"', limit=100)) == 42


def test_a_substring_search_checks_bodies_another_writer_escaped(tmp_path: Path) -> None:
    path = tmp_path / "escaped.db"
    with SQLiteStore(path) as store:
        service = CustomerService(store, seed=1)
        kelvin = service.create(name="\u212aim Rocket")  # a Kelvin sign: str.lower() makes it "k"
        service.create(name="Bob")
        other = sqlite3.connect(path)
        (body,) = other.execute("SELECT body FROM customers WHERE id = ?", (kelvin.id,)).fetchone()
        escaped = json.dumps(json.loads(body))  # the same record, non-ASCII written as \\u escapes
        assert "\u212a" not in escaped
        other.execute("UPDATE customers SET body = ? WHERE id = ?", (escaped, kelvin.id))
        other.commit()
        other.close()
        assert [customer.id for customer in service.search(query='name~"kim"').data] == [kelvin.id]


# --- crashes and other processes ----------------------------------------------------------


def test_a_killed_writer_loses_no_acknowledged_write(tmp_path: Path) -> None:
    rng = random.Random(7)
    deadline = time.monotonic() + 300  # each trial starts an interpreter: slow under load
    trials = 0
    path = tmp_path / "crash.db"
    acknowledged_creates: set[str] = set()
    acknowledged_updates: dict[str, int] = {}
    while trials < 20 and time.monotonic() < deadline:
        process = worker("crash", str(path))
        # Kill at a random moment of the writing, not of the interpreter's start (which
        # takes longer than the sleep on a loaded machine).
        first = process.stdout.readline()  # type: ignore[union-attr]
        time.sleep(rng.uniform(0.05, 0.6))
        process.send_signal(signal.SIGKILL)
        output, _ = process.communicate(timeout=30)
        output = first + output
        for line in output.splitlines():
            parts = line.split()
            if len(parts) != 3 or not parts[2].isdigit():
                continue  # a line cut short by the kill was never a complete acknowledgement
            kind, customer_id, n = parts[0], parts[1], int(parts[2])
            if kind == "C":
                acknowledged_creates.add(customer_id)
            elif kind == "U":
                acknowledged_updates[customer_id] = n
        trials += 1
        with SQLiteStore(path) as store:
            assert store._connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"  # type: ignore[union-attr]
            store.check_consistency()
            service = CustomerService(store)
            for customer_id in acknowledged_creates:
                service.retrieve(customer_id)  # a whole, valid record
            for customer_id, n in acknowledged_updates.items():
                # Later unacknowledged writes may have landed too, never fewer.
                customer = service.retrieve(customer_id)
                assert int(customer.metadata["n"]) >= n  # type: ignore[union-attr]
            assert_every_write_has_its_event(store)
    assert trials >= 20
    assert len(acknowledged_creates) > 20


def assert_every_write_has_its_event(store: SQLiteStore) -> None:
    """Each customer's events start with customer.created and the newest one shows the
    customer exactly as stored: a write without its event, or an event without its write,
    breaks that. Each event has its webhook delivery (the one endpoint wants every event),
    and each delivery its event."""
    content = store.snapshot()
    events = {event["id"] for event in content["events"]}
    assert store.outbox_pending(events) == dict.fromkeys(events, 1)
    (deliveries,) = store._connection.execute("SELECT COUNT(*) FROM webhook_outbox").fetchone()  # type: ignore[union-attr]
    assert deliveries == len(events)
    history: dict[str, list[dict[str, object]]] = {}
    for event in content["events"]:  # oldest first
        history.setdefault(event["data"]["object"]["id"], []).append(event)
    assert set(history) == {customer["id"] for customer in content["customers"]}
    for customer in content["customers"]:
        events = history[customer["id"]]
        assert events[0]["type"] == "customer.created"
        assert events[-1]["data"]["object"] == customer  # type: ignore[index]


def test_processes_writing_at_once_lose_no_update(tmp_path: Path) -> None:
    path = tmp_path / "shared.db"
    with SQLiteStore(path) as store:
        targets = [CustomerService(store).create().id for _ in range(20)]
    processes = [worker("writer", str(path), name, "500", *targets) for name in ("p0", "p1")]
    for process in processes:
        output, errors = process.communicate(timeout=300)
        assert process.returncode == 0, errors
        assert output.strip() == "ok"
    with SQLiteStore(path) as store:
        service = CustomerService(store)
        snapshot = store.snapshot()
        assert len(snapshot["customers"]) == 1020
        assert len({c["id"] for c in snapshot["customers"]}) == 1020
        assert len(set(snapshot["invoice_prefixes"])) == 1020
        keys: set[str] = set()
        for target in targets:
            keys |= set(service.retrieve(target).metadata)  # type: ignore[union-attr]
        assert keys == {f"{name}_{n}" for name in ("p0", "p1") for n in range(500)}
        store.check_consistency()


@pytest.mark.parametrize("damaged", ["'abc'", "2.5", "0"])
def test_a_damaged_schema_version_is_refused_untouched(tmp_path: Path, damaged: str) -> None:
    path = tmp_path / "damaged.db"
    with SQLiteStore(path) as store:
        CustomerService(store).create(email="kept@example.com")
    connection = sqlite3.connect(path)
    connection.execute(f"UPDATE schema_version SET version = {damaged}")
    connection.commit()
    connection.close()
    error = refused(path, "its schema_version table holds")
    assert str(error).endswith(", not a schema version")
