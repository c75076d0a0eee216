"""``--customer-core-store=sqlite``: each test's ``customer_service`` starts as a copy of
one empty store file made per run, and stays its own (an empty store, its own file)."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

TESTS = """
import os
import sqlite3

from customer_core import SQLiteStore
from customer_core.store.sqlite import SCHEMA_VERSION

PATHS = []


def fill(customer_service):
    customer_service.create(email="jenny@example.com", metadata={"plan": "gold"})
    customer_service.create(email="bob@example.com")
    assert customer_service.store.count() == 3


def check_fresh(customer_service, tmp_path):
    store = customer_service.store
    assert type(store) is SQLiteStore and store.synchronous == "NORMAL"
    assert store.path == str(tmp_path / "customers.db")
    assert store.count() == 0 and customer_service.list().data == []
    assert customer_service.search(query="email:'jenny@example.com'").data == []
    assert [event.id for event in customer_service.events.list().data] == []
    # the same first id every test: nothing of an earlier test's ids is in the file
    made = customer_service.create(email="first@example.com")
    PATHS.append((store.path, made.id))


def test_one(customer_service, tmp_path):
    check_fresh(customer_service, tmp_path)
    fill(customer_service)


def test_two(customer_service, tmp_path):
    check_fresh(customer_service, tmp_path)
    fill(customer_service)


def test_the_template_is_untouched(_sqlite_template):
    (first_path, first_id), (second_path, second_id) = PATHS
    assert first_path != second_path and first_id == second_id
    connection = sqlite3.connect(_sqlite_template)
    try:
        assert connection.execute("SELECT COUNT(*) FROM customers").fetchone() == (0,)
        version = connection.execute("SELECT MAX(version) FROM schema_version").fetchone()
        assert version == (SCHEMA_VERSION,)
        assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    finally:
        connection.close()
    assert not os.path.exists(f"{_sqlite_template}-wal")
"""


def test_each_sqlite_test_gets_its_own_empty_store_from_one_template(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(test_template=TESTS)
    result = pytester.runpytest("--customer-core-store=sqlite")
    result.assert_outcomes(passed=3)
