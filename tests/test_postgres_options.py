"""PostgresStore refuses options PostgreSQL would misread, before it connects: a schema
name longer than 63 bytes (PostgreSQL cuts it short, so two names shared one schema) and
timeouts that are not numbers of seconds (``statement_timeout="2"`` became "2222...")."""

from __future__ import annotations

from typing import Any

import pytest

from customer_core import StoreError
from customer_core.store.postgres import PostgresStore

NOWHERE = "postgresql://postgres@127.0.0.1:1/postgres"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            {"schema": "x" * 64},
            f"Invalid schema: '{'x' * 64}' is 64 bytes long; PostgreSQL keeps at most 63 and "
            "would cut it short.",
        ),
        (
            {"schema": "é" * 32},
            f"Invalid schema: '{'é' * 32}' is 64 bytes long; PostgreSQL keeps at most 63 and "
            "would cut it short.",
        ),
        ({"schema": ""}, "Invalid schema: ''; expected a non-empty name."),
        (
            {"statement_timeout": "2"},
            "Invalid statement_timeout: '2'; expected a positive number of seconds.",
        ),
        (
            {"statement_timeout": 0},
            "Invalid statement_timeout: 0; expected a positive number of seconds.",
        ),
        (
            {"pool_timeout": None},
            "Invalid pool_timeout: None; expected a positive number of seconds.",
        ),
    ],
)
def test_options_postgres_would_misread_are_refused(options: dict[str, Any], message: str) -> None:
    with pytest.raises(StoreError) as caught:
        PostgresStore(NOWHERE, **options)
    assert caught.value.message == message
