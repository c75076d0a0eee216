"""Shared fixtures: every service test runs once per store implementation."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from customer_core.testing import CONTRACT_MODULES  # imports no contract module

pytest.register_assert_rewrite(*CONTRACT_MODULES)

from customer_core import CustomerService, MemoryStore, SQLiteStore, Store  # noqa: E402 (after the rewrite hook)
from customer_core.testing import FakeClock  # noqa: E402

STORE_FACTORIES: dict[str, Callable[[Path], Store]] = {
    "memory": lambda tmp_path: MemoryStore(),
    "sqlite": lambda tmp_path: SQLiteStore(tmp_path / "customers.db"),
}

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
