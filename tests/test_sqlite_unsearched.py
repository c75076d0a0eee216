"""SQLiteStore leaves the search postings of customers written by ``insert_many`` (the words
of name and phone, metadata values) to the first search that reads them, noting the
customers in ``customers_unsearched``, one row per ``insert_many``: that search builds them
in a write transaction, from whichever process or connection it runs. What this file holds
the store to: other processes see the same answers, a ``kill -9`` mid-build leaves a
consistent file whose next search finishes the build, checkpoints, backups and files of
schema version 15 keep working (decisions.md, "Import and export")."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pydantic_core
import pytest

from customer_core import SQLiteStore
from customer_core.store.base import KeyRange, Record, StoreInconsistency
from customer_core.store.sql import _postings
from customer_core.store.sqlite import MIGRATIONS, SCHEMA_VERSION, _run
from customer_core.testing.store_contract import make_record

ROOT = Path(__file__).resolve().parent.parent
EVERYTHING = KeyRange()


def customers(start: int, count: int) -> list[Record]:
    return [
        make_record(f"cus_{n:06d}", 1000 + n, email=f"c{n}@example.com", name=f"Ada Number{n}")
        for n in range(start, start + count)
    ]


def unsearched_rows(store: SQLiteStore) -> int:
    connection = store._connection
    assert connection is not None
    return int(connection.execute("SELECT COUNT(*) FROM customers_unsearched").fetchone()[0])


def postings(store: SQLiteStore) -> int:
    connection = store._connection
    assert connection is not None
    (words,) = connection.execute("SELECT COUNT(*) FROM customer_words").fetchone()
    (metadata,) = connection.execute("SELECT COUNT(*) FROM customer_metadata").fetchone()
    return int(words + metadata)


def search_in_child(path: Path, *, setup: str = "") -> str:
    """The keys a search for the name word "ada" finds, from a process of its own."""
    code = (
        "import sys\n"
        "from customer_core import SQLiteStore\n"
        "from customer_core.store.base import KeyRange\n"
        f"{setup}"
        "store = SQLiteStore(sys.argv[1])\n"
        "print(len(store.word_keys('name', ['ada'], KeyRange(), limit=100000)), flush=True)\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", code, str(path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stderr
    return completed.stdout.strip()


def test_insert_many_notes_its_customers_and_the_first_search_posts_them(tmp_path: Path) -> None:
    with SQLiteStore(tmp_path / "c.db") as store:
        store.insert_many(customers(0, 3))
        store.insert_many(customers(3, 2))
        # The customers and their email postings only; one note per insert_many.
        assert (unsearched_rows(store), postings(store)) == (2, 5)
        # Lookups by id and email, list pages and email searches build nothing.
        assert store.get("cus_000001")["name"] == "Ada Number1"  # type: ignore[index]
        assert [found["id"] for found in store.scan(email="c4@example.com")] == ["cus_000004"]
        assert len(store.scan()) == 5
        assert store.word_keys("email", ["c2@example.com"], EVERYTHING, limit=5) == [
            (1002, "cus_000002")
        ]
        store.check_consistency()
        assert unsearched_rows(store) == 2
        assert store.word_keys("name", ["number3"], EVERYTHING, limit=5) == [(1003, "cus_000003")]
        assert unsearched_rows(store) == 0
        # Every posting insert would have written: email, two name words, their pair, n.
        assert postings(store) == 5 * 5
        store.check_consistency()


def test_another_process_builds_them_and_sees_what_this_one_imported(tmp_path: Path) -> None:
    path = tmp_path / "shared.db"
    with SQLiteStore(path) as store:
        store.insert_many(customers(0, 30))
        assert search_in_child(path) == "30"
        # The child's build is this store's too.
        assert unsearched_rows(store) == 0
        store.check_consistency()
        # While this process's import is open, another process's search runs beside it
        # and sees the store as before the import.
        with store.transaction():
            store.insert_many(customers(30, 20))
            assert search_in_child(path) == "30"
        assert search_in_child(path) == "50"
        # An import by another process, found by this store's search.
        code = (
            "import sys\n"
            "from customer_core import SQLiteStore\n"
            "from customer_core.testing.store_contract import make_record\n"
            "with SQLiteStore(sys.argv[1]) as store:\n"
            "    store.insert_many([make_record(f'cus_9{n:05d}', 5, name='Ada Child')"
            " for n in range(7)])\n"
        )
        subprocess.run([sys.executable, "-c", code, str(path)], check=True, cwd=ROOT, timeout=300)
        assert len(store.word_keys("name", ["ada", "child"], EVERYTHING, limit=100)) == 7
        assert len(store.word_keys("name", ["ada"], EVERYTHING, limit=100)) == 57
        store.check_consistency()


def test_a_kill_mid_build_leaves_a_consistent_file_the_next_search_finishes(
    tmp_path: Path,
) -> None:
    path = tmp_path / "c.db"
    with SQLiteStore(path) as store:
        for start in range(0, 6000, 2000):
            store.insert_many(customers(start, 2000))
        before = store.snapshot()
    # A child builds one insert_many's postings a transaction and stops for good inside
    # the second one (its first is committed); then it is killed.
    stall = (
        "import threading\n"
        "from customer_core.store import sqlite as module\n"
        "module._UNSEARCHED_PER_TRANSACTION = 1\n"
        "real, seen = module.searched_fields, [0]\n"
        "def stalling(body):\n"
        "    seen[0] += 1\n"
        "    if seen[0] == 2500:\n"
        "        print('building', flush=True)\n"
        "        threading.Event().wait()\n"
        "    return real(body)\n"
        "module.searched_fields = stalling\n"
        "store = module.SQLiteStore(sys.argv[1])\n"
        "store.word_keys('name', ['ada'], KeyRange(), limit=5)\n"
    )
    code = "import sys\nfrom customer_core.store.base import KeyRange\n" + stall + "print('done')\n"
    process = subprocess.Popen(
        [sys.executable, "-c", code, str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    with process:
        try:
            assert process.stdout is not None and process.stderr is not None
            assert process.stdout.readline() == "building\n", process.stderr.read()
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=60)
        finally:
            if process.poll() is None:
                process.kill()
    assert process.returncode == -signal.SIGKILL
    with SQLiteStore(path) as store:
        assert store.snapshot() == before
        assert unsearched_rows(store) == 2  # the first one's build was committed
        store.check_consistency()
        assert len(store.word_keys("name", ["ada"], EVERYTHING, limit=10_000)) == 6000
        assert unsearched_rows(store) == 0
        assert postings(store) == 6000 * 5
        store.check_consistency()


def test_checkpoints_and_backups_keep_what_is_still_to_build(tmp_path: Path) -> None:
    with SQLiteStore(tmp_path / "c.db") as store:
        store.insert_many(customers(0, 3))
        checkpoint = store.checkpoint()
        store.backup(tmp_path / "copy.db")
        assert len(store.word_keys("name", ["ada"], EVERYTHING, limit=10)) == 3
        store.insert_many(customers(3, 2))
        store.restore(checkpoint)
        assert unsearched_rows(store) == 1
        store.check_consistency()
        assert len(store.word_keys("name", ["ada"], EVERYTHING, limit=10)) == 3
        store.check_consistency()
    with SQLiteStore(tmp_path / "copy.db") as copy:
        assert unsearched_rows(copy) == 1
        assert len(copy.word_keys("name", ["ada"], EVERYTHING, limit=10)) == 3
        copy.check_consistency()


def test_check_consistency_tells_a_wrong_note_or_a_missing_email_posting(tmp_path: Path) -> None:
    with SQLiteStore(tmp_path / "c.db") as store:
        store.insert_many(customers(0, 2))
        connection = store._connection
        assert connection is not None
        connection.execute("INSERT INTO customers_unsearched (customer_ids) VALUES ('[\"cus_x\"]')")
        with pytest.raises(StoreInconsistency, match="cus_x"):
            store.check_consistency()
        connection.execute("DELETE FROM customers_unsearched WHERE customer_ids = '[\"cus_x\"]'")
        connection.execute("DELETE FROM customer_words WHERE field = 'email'")
        with pytest.raises(StoreInconsistency, match="customer_words"):
            store.check_consistency()


def test_a_file_of_schema_version_15_is_migrated_and_searched(tmp_path: Path) -> None:
    path = tmp_path / "v15.db"
    connection = sqlite3.connect(path, isolation_level=None)
    for migration in MIGRATIONS[:15]:
        _run(migration, connection)
    connection.execute("UPDATE schema_version SET version = 15")
    old = make_record("cus_old", 5, email="Old@example.com", name="Ada Old", plan="x")
    connection.execute(
        "INSERT INTO customers (id, created, email, body) VALUES (?, ?, ?, ?)",
        ("cus_old", 5, old["email"], pydantic_core.to_json(old).decode()),
    )
    for table, rows in _postings("cus_old", 5, old).items():
        first, second = ("key", "value") if table == "customer_metadata" else ("field", "word")
        connection.executemany(
            f"INSERT INTO {table} ({first}, {second}, created, customer_id) VALUES (?, ?, ?, ?)",
            rows,
        )
    connection.close()
    with SQLiteStore(path) as store:
        version = store._connection.execute("SELECT version FROM schema_version").fetchone()[0]  # type: ignore[union-attr]
        assert version == SCHEMA_VERSION
        assert unsearched_rows(store) == 0
        store.check_consistency()
        store.insert_many(customers(0, 2))
        assert store.word_keys("name", ["ada"], EVERYTHING, limit=10) == [
            (1001, "cus_000001"),
            (1000, "cus_000000"),
            (5, "cus_old"),
        ]
        store.check_consistency()
