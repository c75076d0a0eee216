"""PostgresStore's one-statement insert against writers of other connections: an id or an
invoice prefix another transaction takes while the insert runs is refused like one taken
before, and leaves nothing behind; blocks that send nothing, and pipelined first
statements."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import pytest

from customer_core import CustomerService
from customer_core.errors import DuplicateKeyError
from customer_core.store.base import KeyRange
from customer_core.testing.store_contract import make_record

from .conftest import IN_CI, POSTGRES, POSTGRES_MISSING

if POSTGRES_MISSING is not None and not IN_CI:
    pytest.skip(POSTGRES_MISSING, allow_module_level=True)

import psycopg  # noqa: E402

from customer_core.store.postgres import PostgresStore  # noqa: E402


@pytest.fixture
def store(tmp_path: Path) -> Iterator[PostgresStore]:
    with POSTGRES(tmp_path) as store:
        assert isinstance(store, PostgresStore)
        yield store
        store.check_consistency()


def _other_connection(store: PostgresStore) -> psycopg.Connection[Any]:
    connection = psycopg.connect(store.dsn, options=f"-csearch_path={store.schema}")
    connection.execute("SET lock_timeout = '30s'")
    return connection


def _insert_while_other_commits(
    store: PostgresStore, other: psycopg.Connection[Any], record: dict[str, Any], in_block: bool
) -> BaseException | None:
    """Run ``store.insert(record)`` in a thread (inside a transaction block that goes on
    and commits, if ``in_block``) while ``other`` holds an uncommitted conflicting row;
    commit ``other`` once the insert waits for it; return what the insert raised."""
    outcome: list[BaseException | None] = []

    def insert() -> None:
        try:
            with store.transaction() if in_block else nullcontext():
                try:
                    store.insert(record)
                    outcome.append(None)
                except DuplicateKeyError as error:
                    outcome.append(error)
        except BaseException as error:
            outcome.append(error)

    inserter = threading.Thread(target=insert)
    inserter.start()
    with psycopg.connect(store.dsn, autocommit=True) as watcher:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not outcome:
            row = watcher.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                "AND query LIKE 'WITH prefix AS%%'"
            ).fetchone()
            if row is not None and row[0]:
                break
            time.sleep(0.01)
    other.commit()
    inserter.join(30)
    assert outcome, "the insert did not finish"
    return outcome[0]


@pytest.mark.parametrize("in_block", [False, True], ids=["alone", "in a block"])
def test_an_id_another_writer_inserts_meanwhile_is_refused_and_its_prefix_given_up(
    store: PostgresStore, in_block: bool
) -> None:
    with _other_connection(store) as other:
        other.execute(
            "INSERT INTO customers (id, created, body) VALUES ('cus_race', 5, %s)",
            ('{"id":"cus_race","created":5,"invoice_prefix":null,"metadata":{}}',),
        )
        error = _insert_while_other_commits(
            store, other, make_record("cus_race", 10, invoice_prefix="RACE"), in_block
        )
    assert isinstance(error, DuplicateKeyError) and error.key == "id", error
    assert "RACE" not in store.snapshot()["invoice_prefixes"]
    store.insert(make_record("cus_next", 20, invoice_prefix="RACE"))
    assert store.snapshot()["invoice_prefixes"]["RACE"] == "cus_next"
    # The stand-in row had no postings: drop it so the consistency check holds.
    with _other_connection(store) as other:
        other.execute("DELETE FROM customers WHERE id = 'cus_race'")
        other.commit()


@pytest.mark.parametrize("in_block", [False, True], ids=["alone", "in a block"])
def test_a_prefix_another_writer_reserves_meanwhile_is_refused_and_nothing_is_inserted(
    store: PostgresStore, in_block: bool
) -> None:
    with _other_connection(store) as other:
        other.execute("INSERT INTO invoice_prefixes (prefix, customer_id) VALUES ('RACE', 'cus_x')")
        error = _insert_while_other_commits(
            store,
            other,
            make_record("cus_new", 10, invoice_prefix="RACE", email="n@example.com"),
            in_block,
        )
    assert isinstance(error, DuplicateKeyError) and error.key == "invoice_prefix", error
    assert store.get("cus_new") is None
    assert store.scan(email="n@example.com") == []
    assert store.metadata_keys("n", "w", KeyRange(), limit=5) == []
    store.insert(make_record("cus_new", 10, invoice_prefix="OTHER"))
    with _other_connection(store) as other:
        other.execute("DELETE FROM invoice_prefixes WHERE prefix = 'RACE'")
        other.commit()


def test_a_block_that_sends_nothing_and_one_that_only_reads(store: PostgresStore) -> None:
    with store.transaction():
        pass
    store.insert(make_record("cus_a", 10, invoice_prefix="A"))
    with store.transaction():
        assert store.get("cus_a") is not None  # the first statement: BEGIN goes before it
    with store.transaction():
        with pytest.raises(DuplicateKeyError):
            store.insert(make_record("cus_a", 11))  # the first statement, pipelined
        store.insert(make_record("cus_b", 12, invoice_prefix="B"))
    assert [record["id"] for record in store.scan()] == ["cus_b", "cus_a"]


def test_an_idempotent_create_inside_the_service_block_replays(tmp_path: Path) -> None:
    # idempotency_get is the block's first statement: lock and read go with BEGIN.
    with POSTGRES(tmp_path) as store:
        service = CustomerService(store)
        first = service.create(idempotency_key="key-1", email="a@example.com")
        again = service.create(idempotency_key="key-1", email="a@example.com")
        assert again.id == first.id
        assert [customer.id for customer in service.list().data] == [first.id]
