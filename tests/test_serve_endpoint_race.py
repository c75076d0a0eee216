"""Servers that start together on one store register one ``--webhook`` endpoint, not one
each with a secret of its own (trial 4, 3: two ``serve --webhook URL`` on one SQLite file
made two endpoints in about half the tries, and every event went out twice)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from customer_core import CustomerService, SQLiteStore, Store
from customer_core.events.webhooks import serve_endpoint

from .conftest import IN_CI, POSTGRES, POSTGRES_MISSING

URL = "http://127.0.0.1:9/race"
SERVERS = 4
TRIES = 5


def _race(open_store: Callable[[], Store]) -> list[tuple[str, str]]:
    """``serve_endpoint`` from SERVERS threads at once, each with a store of its own."""
    stores = [open_store() for _ in range(SERVERS)]
    start = threading.Barrier(SERVERS)
    got: list[tuple[str, str]] = []

    def serve(store: Store) -> None:
        service = CustomerService(store)
        start.wait()
        got.append(serve_endpoint(service, URL))

    threads = [threading.Thread(target=serve, args=(store,)) for store in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    for store in stores:
        store.close()
    return got


def _assert_one_endpoint(got: list[tuple[str, str]], store: Store) -> None:
    assert len(got) == SERVERS
    assert len(set(got)) == 1  # one id, one secret, for every server
    assert [record["id"] for record in store.webhook_endpoint_scan()] == [got[0][0]]


def test_sqlite_servers_starting_together_share_one_endpoint(tmp_path: Path) -> None:
    for attempt in range(TRIES):
        path = tmp_path / f"race{attempt}.db"
        SQLiteStore(path).close()
        got = _race(lambda: SQLiteStore(path))  # noqa: B023 (called before the next try)
        with SQLiteStore(path) as store:
            _assert_one_endpoint(got, store)


if POSTGRES_MISSING is None or IN_CI:  # in CI a missing server fails, never skips

    def test_postgres_servers_starting_together_share_one_endpoint(tmp_path: Path) -> None:
        from customer_core.store.postgres import PostgresStore

        for _ in range(TRIES):
            with POSTGRES(tmp_path) as first:
                assert isinstance(first, PostgresStore)
                got = _race(
                    lambda: PostgresStore(first.dsn, schema=first.schema, max_size=2)  # noqa: B023
                )
                _assert_one_endpoint(got, first)
