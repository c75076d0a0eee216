"""Shared fixtures: every service test runs once per store implementation."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from customer_core.testing import CONTRACT_MODULES  # imports no contract module

pytest.register_assert_rewrite(*CONTRACT_MODULES)

from customer_core import CustomerService, MemoryStore, SQLiteStore, Store  # noqa: E402 (after the rewrite hook)
from customer_core.testing import FakeClock  # noqa: E402
from customer_core.testing.postgres_server import (  # noqa: E402
    FAST,
    INSTALL_HINT,
    PostgresServer,
    PostgresStores,
    find_binaries,
)

STORE_FACTORIES: dict[str, Callable[[Path], Store]] = {
    "memory": lambda tmp_path: MemoryStore(),
    "sqlite": lambda tmp_path: SQLiteStore(tmp_path / "customers.db"),
}

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _postgres_missing() -> str | None:
    """Why the PostgreSQL tests cannot run here, or None when they can."""
    try:
        import psycopg  # noqa: F401
        import psycopg_pool  # noqa: F401
    except ImportError:
        return "psycopg is not installed: pip install -e '.[test]' (or '.[postgres]')"
    if find_binaries() is None:
        return f"PostgreSQL is not installed (no initdb/pg_ctl): {INSTALL_HINT}"
    return None


POSTGRES_MISSING = _postgres_missing()


class _Postgres:
    """One throwaway cluster for the whole test session, started by the first store asked
    for (some modules make stores at import time), stopped and removed at the end."""

    def __init__(self) -> None:
        self.server: PostgresServer | None = None
        self.stores: PostgresStores | None = None

    def __call__(self, tmp_path: Path, **options: Any) -> Store:
        if self.stores is None:
            self.server = PostgresServer(FAST).start()
            self.stores = PostgresStores(self.server)
        store: Store = self.stores(**options)
        return store

    def stop(self) -> None:
        if self.stores is not None:
            self.stores.close_all()
        if self.server is not None:
            self.server.remove()
        self.server = self.stores = None


POSTGRES = _Postgres()
# In CI a missing server is a failure, never a skip: the factory is there and fails.
if POSTGRES_MISSING is None or IN_CI:
    STORE_FACTORIES["postgres"] = POSTGRES


@pytest.fixture(scope="session", autouse=True)
def _postgres_cluster() -> Iterator[None]:
    yield
    POSTGRES.stop()


NOW = 1_700_000_000


@pytest.fixture(params=sorted(STORE_FACTORIES))
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    with STORE_FACTORIES[request.param](tmp_path) as store:
        yield store
        store.check_consistency()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW)


@pytest.fixture
def service(store: Store, clock: FakeClock) -> CustomerService:
    return CustomerService(store, clock=clock, seed=42)
