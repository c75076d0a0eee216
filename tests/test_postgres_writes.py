"""PostgresStore's one-statement insert against writers of other connections: an id or an
invoice prefix another transaction takes while the insert runs is refused like one taken
before, and leaves nothing behind (with or without the customer's event in the same
statement, ``insert_with_event``); the event's stored text; blocks that send nothing, and
pipelined first statements."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import pydantic_core
import pytest

from customer_core import CustomerService
from customer_core.errors import DuplicateKeyError
from customer_core.store.base import KeyRange, Store, event_of
from customer_core.testing.contract_events import make_event
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


_EVENT = "evt_01KBGACVQKV3RS3DTR98H6BCFN"


def _write(store: PostgresStore, record: dict[str, Any], with_event: bool) -> None:
    """``store.insert(record)``, or ``insert_with_event`` with a ``customer.created`` event."""
    if with_event:
        store.insert_with_event(
            record, _EVENT, record["created"], "customer.created", None, None, 0
        )
    else:
        store.insert(record)


def _insert_while_other_commits(
    store: PostgresStore,
    other: psycopg.Connection[Any],
    record: dict[str, Any],
    in_block: bool,
    with_event: bool = False,
) -> BaseException | None:
    """Run ``store.insert(record)`` (``insert_with_event``, if ``with_event``) in a thread
    (inside a transaction block that goes on and commits, if ``in_block``) while ``other``
    holds an uncommitted conflicting row; commit ``other`` once the insert waits for it;
    return what the insert raised."""
    outcome: list[BaseException | None] = []

    def insert() -> None:
        try:
            with store.transaction() if in_block else nullcontext():
                try:
                    _write(store, record, with_event)
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


_WRITES = pytest.mark.parametrize("with_event", [False, True], ids=["insert", "with its event"])


@_WRITES
@pytest.mark.parametrize("in_block", [False, True], ids=["alone", "in a block"])
def test_an_id_another_writer_inserts_meanwhile_is_refused_and_its_prefix_given_up(
    store: PostgresStore, in_block: bool, with_event: bool
) -> None:
    with _other_connection(store) as other:
        other.execute(
            "INSERT INTO customers (id, created, body) VALUES ('cus_race', 5, %s)",
            ('{"id":"cus_race","created":5,"invoice_prefix":null,"metadata":{}}',),
        )
        error = _insert_while_other_commits(
            store, other, make_record("cus_race", 10, invoice_prefix="RACE"), in_block, with_event
        )
    assert isinstance(error, DuplicateKeyError) and error.key == "id", error
    assert "RACE" not in store.snapshot()["invoice_prefixes"]
    assert store.event_scan() == []
    store.insert(make_record("cus_next", 20, invoice_prefix="RACE"))
    assert store.snapshot()["invoice_prefixes"]["RACE"] == "cus_next"
    # The stand-in row had no postings: drop it so the consistency check holds.
    with _other_connection(store) as other:
        other.execute("DELETE FROM customers WHERE id = 'cus_race'")
        other.commit()


@_WRITES
@pytest.mark.parametrize("in_block", [False, True], ids=["alone", "in a block"])
def test_a_prefix_another_writer_reserves_meanwhile_is_refused_and_nothing_is_inserted(
    store: PostgresStore, in_block: bool, with_event: bool
) -> None:
    with _other_connection(store) as other:
        other.execute("INSERT INTO invoice_prefixes (prefix, customer_id) VALUES ('RACE', 'cus_x')")
        error = _insert_while_other_commits(
            store,
            other,
            make_record("cus_new", 10, invoice_prefix="RACE", email="n@example.com"),
            in_block,
            with_event,
        )
    assert isinstance(error, DuplicateKeyError) and error.key == "invoice_prefix", error
    assert store.get("cus_new") is None
    assert store.event_scan() == []
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


def _event_text(store: PostgresStore, event_id: str) -> str:
    with _other_connection(store) as other:
        row = other.execute("SELECT body FROM events WHERE id = %s", (event_id,)).fetchone()
    assert row is not None
    return str(row[0])


@pytest.mark.parametrize(
    ("event_id", "type", "request_id", "key"),
    [
        (_EVENT, "customer.created", None, None),
        (_EVENT, "customer.created", 'req "q" \\ \u00e9 \u2028', "key \U0001f600"),
        ('evt_"quoted"\\', 'a.type "of" its own', "req_1", None),  # not ours: encoded whole
    ],
)
def test_the_event_written_with_the_customer_is_the_text_event_add_writes(
    store: PostgresStore, event_id: str, type: str, request_id: str | None, key: str | None
) -> None:
    record = make_record("cus_1", 10, name='Jenny "J" \u00e9', invoice_prefix="ABCD")
    parts = (event_id, 11, type, request_id, key, 3)
    saved = store.checkpoint()
    Store.insert_with_event(store, record, *parts)  # the port's default: insert, event_add
    default = _event_text(store, event_id)
    store.restore(saved)
    store.insert_with_event(record, *parts)
    assert _event_text(store, event_id) == default
    assert (
        default == pydantic_core.to_json(event_of(event_id, 11, type, record, *parts[3:])).decode()
    )


def test_a_refused_event_inside_a_block_fails_the_block_even_if_the_caller_goes_on(
    store: PostgresStore,
) -> None:
    store.event_insert(make_event(_EVENT, 5))
    with pytest.raises(DuplicateKeyError) as raised, store.transaction():
        store.insert(make_record("cus_1", 9))
        with pytest.raises(DuplicateKeyError):
            _write(store, make_record("cus_2", 10), with_event=True)
        # Going on past it: the transaction is aborted, and COMMIT would roll it back
        # without a word; the block's end raises the refusal instead.
    assert raised.value.key == "id" and _EVENT in str(raised.value)
    assert store.get("cus_1") is None
    assert store.get("cus_2") is None
    with store.transaction():  # the next block works on
        _write(store, make_record("cus_3", 11), with_event=False)
    assert [record["id"] for record in store.scan()] == ["cus_3"]


def test_a_refused_event_leaves_no_transaction_open_on_the_pooled_connection(
    store: PostgresStore, caplog: pytest.LogCaptureFixture
) -> None:
    store.event_insert(make_event(_EVENT, 5))
    for in_block in (False, True):
        with pytest.raises(DuplicateKeyError), store.transaction() if in_block else nullcontext():
            _write(store, make_record("cus_1", 10, invoice_prefix="P"), with_event=True)
    # The pool would roll back a connection given back inside a transaction, with a warning.
    assert [r.getMessage() for r in caplog.records if r.name.startswith("psycopg")] == []
    store.insert(make_record("cus_1", 10, invoice_prefix="P"))
    assert store.get("cus_1") is not None


def test_a_subclass_that_overrides_insert_gets_the_default_built_on_it(tmp_path: Path) -> None:
    calls: list[str] = []

    class Counting(PostgresStore):
        def insert(self, record: dict[str, Any]) -> None:
            calls.append(record["id"])
            super().insert(record)

    with POSTGRES(tmp_path) as store:
        assert isinstance(store, PostgresStore)
        counting = Counting(store.dsn, schema=store.schema)
        try:
            _write(counting, make_record("cus_1", 10), with_event=True)
            assert calls == ["cus_1"]
            assert [event["id"] for event in counting.event_scan()] == [_EVENT]
        finally:
            counting.close()
