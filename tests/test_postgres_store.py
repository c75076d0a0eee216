"""PostgresStore beyond the contract suite: opening, migrations, failures, the CLI."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from customer_core import CustomerService, Store, StoreError
from customer_core.cli import main
from customer_core.testing.postgres_server import FAST, PASSWORD, PostgresServer

from .conftest import IN_CI, POSTGRES, POSTGRES_MISSING, STORE_FACTORIES


def test_postgres_server_is_available() -> None:
    """Locally without PostgreSQL this skips with the install command; CI must have it."""
    if POSTGRES_MISSING is not None:
        if IN_CI:
            pytest.fail(f"CI must run the PostgreSQL tests: {POSTGRES_MISSING}")
        pytest.skip(POSTGRES_MISSING)
    assert "postgres" in STORE_FACTORIES


if POSTGRES_MISSING is not None and not IN_CI:
    pytest.skip(POSTGRES_MISSING, allow_module_level=True)

from customer_core.store.postgres import SCHEMA_VERSION, PostgresStore  # noqa: E402


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with STORE_FACTORIES["postgres"](tmp_path) as store:
        yield store
        store.check_consistency()


def make(tmp_path: Path, **options: Any) -> PostgresStore:
    store = POSTGRES(tmp_path, **options)
    assert isinstance(store, PostgresStore)
    return store


def dsn(dbname: str = "postgres", **overrides: Any) -> str:
    assert POSTGRES.server is not None
    return POSTGRES.server.dsn(dbname, **overrides)


def test_a_wrong_password_says_so_without_printing_it(store: Store) -> None:
    wrong = "not-the-password-1234"
    with pytest.raises(StoreError) as caught:
        PostgresStore(dsn(password=wrong))
    message = caught.value.message
    assert "password authentication failed" in message
    assert "the database server refused the login; check the user and password" in message
    assert "cannot be reached" not in message
    assert "user=postgres" in message and "dbname=postgres" in message
    assert wrong not in message and PASSWORD not in message


def test_a_wrong_host_port_or_dsn_says_what_is_wrong(store: Store) -> None:
    assert POSTGRES.server is not None
    port = POSTGRES.server.port
    with pytest.raises(StoreError, match="Connection refused|connection refused|failed") as down:
        PostgresStore(f"postgresql://postgres:{PASSWORD}@127.0.0.1:1/postgres", connect_timeout=2)
    assert down.value.http_status == 503  # it may come back: a retry can succeed
    assert "cannot be reached" in down.value.message
    with pytest.raises(StoreError, match='database "nowhere" does not exist') as wrong:
        PostgresStore(dsn("nowhere"))
    assert wrong.value.http_status == 500
    with pytest.raises(StoreError, match="not a valid PostgreSQL connection string") as caught:
        PostgresStore(f"host=127.0.0.1 port={port} password='{PASSWORD}")
    assert PASSWORD not in caught.value.message


def test_a_newer_schema_version_is_refused(tmp_path: Path) -> None:
    store = make(tmp_path)
    store.close()
    import psycopg

    with psycopg.connect(dsn(), autocommit=True) as connection:
        connection.execute(f'UPDATE "{store.schema}".schema_version SET version = 99')
    try:
        with pytest.raises(StoreError, match="schema version 99, newer than"):
            PostgresStore(dsn(), schema=store.schema)
    finally:
        with psycopg.connect(dsn(), autocommit=True) as connection:
            connection.execute(
                f'UPDATE "{store.schema}".schema_version SET version = {SCHEMA_VERSION}'
            )


def test_processes_opening_a_new_schema_at_once_migrate_it_once() -> None:
    schema = f"migrate_{time.monotonic_ns()}"
    opened: list[PostgresStore] = []
    failures: list[BaseException] = []

    def open_store() -> None:
        try:
            opened.append(PostgresStore(dsn(), schema=schema))
        except BaseException as error:  # pragma: no cover - reported below
            failures.append(error)

    threads = [threading.Thread(target=open_store) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert failures == [] and len(opened) == 4
    CustomerService(opened[0]).create(email="one@example.com")
    assert opened[3].count() == 1
    import psycopg

    with psycopg.connect(dsn(), autocommit=True) as connection:
        rows = connection.execute(f'SELECT version FROM "{schema}".schema_version').fetchall()
        assert rows == [(SCHEMA_VERSION,)]
        for store in opened:
            store.close()
        connection.execute(f'DROP SCHEMA "{schema}" CASCADE')


def test_a_statement_timeout_is_a_clear_error_and_changes_nothing(tmp_path: Path) -> None:
    import psycopg

    with make(tmp_path, statement_timeout=0.2) as store:
        service = CustomerService(store)
        kept = service.create(email="kept@example.com")
        with psycopg.connect(dsn()) as blocker:
            blocker.execute(f'LOCK TABLE "{store.schema}".customers IN ACCESS EXCLUSIVE MODE')
            with pytest.raises(StoreError, match="statement timeout") as caught:
                service.create(email="late@example.com")
            assert caught.value.http_status == 500
        assert [customer.id for customer in service.list().data] == [kept.id]
        store.check_consistency()


def test_an_exhausted_pool_is_a_clear_error(tmp_path: Path) -> None:
    with make(tmp_path, max_size=1, pool_timeout=0.3) as store:
        service = CustomerService(store)
        customer = service.create(email="a@example.com")
        holding, release = threading.Event(), threading.Event()

        def hold() -> None:
            with store.transaction():
                store.get(customer.id)
                holding.set()
                release.wait(10)

        holder = threading.Thread(target=hold)
        holder.start()
        try:
            assert holding.wait(10)
            with pytest.raises(StoreError, match=r"no pooled connection was free within 0.3 s"):
                service.retrieve(customer.id)
        finally:
            release.set()
            holder.join(10)
        assert service.retrieve(customer.id).id == customer.id


def test_the_cli_takes_a_postgresql_dsn(
    store: Store, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    import json

    target = make(tmp_path)
    target.close()
    url = dsn() + f"?options=-csearch_path%3D{target.schema}"
    assert main(["create", "--db", url, "-d", "email=jenny@example.com"]) == 0
    created = json.loads(capsys.readouterr().out)
    assert main(["retrieve", created["id"], "--db", url]) == 0
    assert json.loads(capsys.readouterr().out)["email"] == "jenny@example.com"
    assert main(["list", "--db", dsn(password="wrong-secret"), "-d", "limit=1"]) == 1
    error = capsys.readouterr().err
    assert "password authentication failed" in error and "wrong-secret" not in error


ROOT = Path(__file__).resolve().parent.parent


def test_four_processes_writing_at_once_lose_nothing_and_duplicate_nothing(
    tmp_path: Path,
) -> None:
    """4 processes, a pool each: 1,000 creates and 1,000 metadata updates on 25 shared
    customers. No key lost, no id or prefix twice, no error (deadlocks included) reaches a
    caller."""
    with make(tmp_path) as store:
        service = CustomerService(store)
        targets = [service.create(name=f"shared {n}").id for n in range(25)]
        workers = [
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "tests.postgres_worker",
                    dsn(),
                    store.schema,
                    f"w{w}",
                    "250",
                    *targets,
                ],
                cwd=ROOT,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for w in range(4)
        ]
        for worker in workers:
            out, err = worker.communicate(timeout=300)
            assert (worker.returncode, out.strip()) == (0, "ok"), err[-2000:]
        snapshot = store.snapshot()
        customers = snapshot["customers"]
        assert len(customers) == 25 + 1000
        assert len({customer["id"] for customer in customers}) == 1025
        prefixes = [customer["invoice_prefix"] for customer in customers]
        assert len(set(prefixes)) == 1025
        for index, target in enumerate(targets):
            expected = {f"w{w}_{n}": "1" for w in range(4) for n in range(250) if n % 25 == index}
            assert service.retrieve(target).metadata == expected
        created = {customer["email"] for customer in customers if customer["email"]}
        assert created == {f"w{w}-{n}@example.com" for w in range(4) for n in range(250)}
        store.check_consistency()


@pytest.fixture(scope="module")
def own_server() -> Iterator[PostgresServer]:
    """A cluster this module may stop and start (the session's is shared)."""
    with PostgresServer(FAST, max_connections=50) as server:
        yield server


def test_a_server_stopping_mid_writes_gives_store_errors_then_recovers(
    own_server: PostgresServer,
) -> None:
    with PostgresStore(own_server.dsn(), max_size=4, pool_timeout=2) as store:
        service = CustomerService(store)
        acknowledged: list[str] = []
        errors: list[BaseException] = []
        stop = threading.Event()

        def write() -> None:
            n = 0
            while not stop.is_set():
                n += 1
                try:
                    acknowledged.append(
                        service.create(email=f"c{n}@example.com", metadata={"n": str(n)}).id
                    )
                except BaseException as error:
                    errors.append(error)
                    time.sleep(0.01)

        writers = [threading.Thread(target=write) for _ in range(2)]
        for writer in writers:
            writer.start()
        while len(acknowledged) < 20:
            time.sleep(0.01)
        own_server.stop("fast")
        # Keep the server down until a write has failed: a fixed pause let the pool's
        # reconnect wait (pool_timeout) outlast the outage on a loaded machine.
        deadline = time.monotonic() + 30
        while not errors and time.monotonic() < deadline:
            time.sleep(0.05)
        own_server.start()
        stop.set()
        for writer in writers:
            writer.join(30)
        assert errors, "the writes during the outage should have failed"
        assert all(isinstance(error, StoreError) for error in errors), errors[:3]
        assert any(
            "cannot be reached or closed the connection" in error.message for error in errors
        )  # type: ignore[attr-defined]
        # The same store works again, with every acknowledged write and nothing half-written.
        after = service.create(email="after@example.com")
        assert service.retrieve(after.id).email == "after@example.com"
        stored = {record["id"] for record in store.snapshot()["customers"]}
        assert set(acknowledged) <= stored
        store.check_consistency()


def test_a_server_that_is_down_fails_a_call_at_once_not_after_the_pool_timeout(
    own_server: PostgresServer,
) -> None:
    # A pool_timeout far above the bound below: the call must not wait it out.
    with PostgresStore(
        own_server.dsn(), schema="down_at_once", max_size=2, pool_timeout=60
    ) as store:
        service = CustomerService(store)
        kept = service.create(email="kept@example.com").id
        own_server.stop("fast")
        try:
            for _ in range(3):  # the pooled connection breaks, then the pool has none
                started = time.monotonic()
                with pytest.raises(StoreError) as down:
                    service.create(email="lost@example.com")
                assert time.monotonic() - started < 20
                assert down.value.http_status == 503
                assert "cannot be reached or closed the connection" in down.value.message
                assert PASSWORD not in down.value.message
        finally:
            own_server.start()
        assert service.retrieve(kept).email == "kept@example.com"
        assert [record["email"] for record in store.snapshot()["customers"]] == ["kept@example.com"]
