"""``outbox_purge`` finds the given-up deliveries through the partial index
``webhook_outbox_given_up`` (``status = 'failed'``, in the purge's order) on both SQL
stores, instead of scanning the outbox, whose pending deliveries it never takes; and a
data file of the schema before that index opens, is migrated, and keeps its deliveries."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest

from customer_core import SQLiteStore
from customer_core.store import postgres as postgres_module
from customer_core.store import sqlite as sqlite_module
from customer_core.store.base import Store
from customer_core.store.sql import POSTGRES_PURGES, SQLITE_PURGES
from customer_core.testing.contract_outbox import make_delivery

from .conftest import IN_CI, POSTGRES, POSTGRES_MISSING

INDEX = "webhook_outbox_given_up"


def _index_version(migrations: tuple[tuple[object, ...], ...]) -> int:
    """The schema version whose migration adds the index (not hard-coded: migrations
    landed by others may come before it)."""
    return next(
        number
        for number, steps in enumerate(migrations, start=1)
        if any(isinstance(step, str) and f"INDEX {INDEX} " in step for step in steps)
    )


SQLITE_VERSION = _index_version(sqlite_module.MIGRATIONS)
POSTGRES_VERSION = _index_version(postgres_module.MIGRATIONS)

# Deliveries of the old file: (event, endpoint, created, status).
DELIVERIES = [
    ("evt_a", "we_1", 100.0, "failed"),
    ("evt_b", "we_1", 150.0, "failed"),
    ("evt_b", "we_2", 150.0, "pending"),
    ("evt_c", "we_1", 250.0, "failed"),
    ("evt_d", "we_1", 50.0, "pending"),
]
EVENT_IDS = ["evt_a", "evt_b", "evt_c", "evt_d"]


def outbox_rows() -> list[tuple[str, str, float, float, int, str]]:
    """DELIVERIES as rows of webhook_outbox: each due a second after it was created; the
    given-up ones after three attempts."""
    return [
        (event, endpoint, created, created + 1.0, 3 if status == "failed" else 0, status)
        for event, endpoint, created, status in DELIVERIES
    ]


def _check_migrated_deliveries(store: Store) -> None:
    """The old file's deliveries are all there; a purge at 200 takes exactly the two
    given-up ones created before it (the pending ones stay, however old)."""
    assert store.outbox_pending(EVENT_IDS) == {"evt_a": 1, "evt_b": 2, "evt_c": 1, "evt_d": 1}
    assert store.outbox_event_ids() == {"evt_a", "evt_b", "evt_c", "evt_d"}
    assert store.outbox_next_due() == 51.0
    assert store.outbox_purge(before=200.0) == 2
    assert store.outbox_pending(EVENT_IDS) == {"evt_b": 1, "evt_c": 1, "evt_d": 1}
    claimed = store.outbox_claim(now=1000.0, lease_until=2000.0, limit=10)
    assert sorted((d["event"], d["endpoint"], d["status"]) for d in claimed) == [
        ("evt_b", "we_2", "pending"),
        ("evt_d", "we_1", "pending"),
    ]


# SQLite


def test_the_sqlite_purge_reads_the_given_up_index_and_scans_nothing(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "c.db")
    with store:
        connection = store._connection
        assert connection is not None
        statement = SQLITE_PURGES.outbox[0].replace("%s", "?")
        plan = [row[3] for row in connection.execute(f"EXPLAIN QUERY PLAN {statement}", (1, 5))]
    assert f"SEARCH webhook_outbox USING INDEX {INDEX} (created<?)" in plan
    assert not any(step.startswith("SCAN") for step in plan), plan
    assert not any("TEMP B-TREE" in step for step in plan), plan  # the index's order


def test_a_sqlite_file_of_the_schema_before_the_index_keeps_its_deliveries(
    tmp_path: Path,
) -> None:
    old = SQLITE_VERSION - 1
    assert old >= 16  # the index came after schema 16, the last one before this session
    path = tmp_path / "old.db"
    connection = sqlite3.connect(path, isolation_level=None)
    for migration in sqlite_module.MIGRATIONS[:old]:
        sqlite_module._run(migration, connection)
    connection.execute("UPDATE schema_version SET version = ?", (old,))
    connection.executemany(
        "INSERT INTO webhook_outbox (event_id, endpoint_id, created, next_attempt, attempts, "
        "status) VALUES (?, ?, ?, ?, ?, ?)",
        outbox_rows(),
    )
    indexes = "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'webhook_outbox'"
    assert INDEX not in {row[0] for row in connection.execute(indexes)}
    connection.close()
    store = SQLiteStore(path)
    with store:
        opened = store._connection
        assert opened is not None
        version = opened.execute("SELECT version FROM schema_version").fetchone()[0]
        assert version == sqlite_module.SCHEMA_VERSION
        assert INDEX in {row[0] for row in opened.execute(indexes)}
        given_up = f"SELECT event_id FROM webhook_outbox INDEXED BY {INDEX} WHERE status = 'failed'"
        assert sorted(row[0] for row in opened.execute(given_up)) == ["evt_a", "evt_b", "evt_c"]
        _check_migrated_deliveries(store)
        store.check_consistency()


# PostgreSQL

postgres = pytest.mark.skipif(
    POSTGRES_MISSING is not None and not IN_CI, reason=str(POSTGRES_MISSING)
)


@postgres
def test_the_postgres_purge_reads_the_given_up_index(tmp_path: Path) -> None:
    import psycopg

    with POSTGRES(tmp_path) as store:
        assert isinstance(store, postgres_module.PostgresStore)
        store.outbox_add(
            [make_delivery(f"evt_{n:04}", "we_1", 1000.0 + n) for n in range(200)]
            + [make_delivery("evt_x", "we_1", 10.0, status="failed")]
        )
        assert POSTGRES.server is not None
        with psycopg.connect(POSTGRES.server.dsn("postgres"), autocommit=True) as connection:
            connection.execute(f'SET search_path TO "{store.schema}"')
            connection.execute("ANALYZE webhook_outbox")
            connection.execute("SET enable_seqscan = off")
            statement = POSTGRES_PURGES.outbox[0]
            rows = connection.execute(f"EXPLAIN {statement}", (300.0, 5)).fetchall()
        plan = "\n".join(row[0] for row in rows)
        assert f"Scan using {INDEX} on webhook_outbox" in plan, plan  # index (only) scan
        assert "Seq Scan" not in plan, plan
        assert store.outbox_purge(before=300.0, limit=5) == 1
        assert store.outbox_pending(["evt_x", "evt_0000"]) == {"evt_0000": 1}


@postgres
def test_a_postgres_schema_before_the_index_keeps_its_deliveries(tmp_path: Path) -> None:
    import psycopg

    with POSTGRES(tmp_path):  # starts the cluster
        pass
    assert POSTGRES.server is not None
    dsn = POSTGRES.server.dsn("postgres")
    schema = f"given_up_{time.monotonic_ns()}"
    old = POSTGRES_VERSION - 1
    assert old >= 4  # the index came after schema 4, the last one before this session
    with psycopg.connect(dsn, autocommit=True) as connection:
        connection.execute(f'CREATE SCHEMA "{schema}"')
        connection.execute(f'SET search_path TO "{schema}"')
        connection.execute("CREATE TABLE schema_version (version integer NOT NULL)")
        connection.execute("INSERT INTO schema_version VALUES (%s)", (old,))
        for migration in postgres_module.MIGRATIONS[:old]:
            for step in migration:
                connection.execute(step)
        with connection.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO webhook_outbox (event_id, endpoint_id, created, next_attempt, "
                "attempts, status) VALUES (%s, %s, %s, %s, %s, %s)",
                outbox_rows(),
            )
    try:
        with postgres_module.PostgresStore(dsn, schema=schema) as store:
            _check_migrated_deliveries(store)
            store.check_consistency()
        with psycopg.connect(dsn, autocommit=True) as connection:
            version = connection.execute(f'SELECT version FROM "{schema}".schema_version')
            assert version.fetchall() == [(postgres_module.SCHEMA_VERSION,)]
            indexes = connection.execute(
                "SELECT indexname FROM pg_indexes WHERE schemaname = %s AND tablename = %s",
                (schema, "webhook_outbox"),
            ).fetchall()
            assert INDEX in {row[0] for row in indexes}
    finally:
        with psycopg.connect(dsn, autocommit=True) as connection:
            connection.execute(f'DROP SCHEMA "{schema}" CASCADE')
