"""CustomerService refuses a misconfiguration when it is built, with a message naming the
argument, instead of accepting it and failing later with a raw TypeError (a purge that
compares a string ttl) or silently purging every event (a negative retention)."""

from __future__ import annotations

import math
from typing import Any

import pytest

from customer_core import CustomerService, MemoryStore


@pytest.mark.parametrize(
    ("arguments", "error", "message"),
    [
        (
            {"store": "customers.db"},
            TypeError,
            "CustomerService needs a store such as MemoryStore(), SQLiteStore(path) or "
            "PostgresStore(dsn), not 'customers.db'.",
        ),
        (
            {"idempotency_ttl": "x"},
            TypeError,
            "idempotency_ttl must be a number of seconds, not 'x'.",
        ),
        (
            {"idempotency_ttl": True},
            TypeError,
            "idempotency_ttl must be a number of seconds, not True.",
        ),
        (
            {"idempotency_ttl": 0},
            ValueError,
            "idempotency_ttl must be a positive, finite number of seconds, not 0.",
        ),
        (
            {"event_retention": -1},
            ValueError,
            "event_retention must be a positive, finite number of seconds, not -1.",
        ),
        (
            {"event_retention": math.nan},
            ValueError,
            "event_retention must be a positive, finite number of seconds, not nan.",
        ),
        (
            {"event_retention": math.inf},
            ValueError,
            "event_retention must be a positive, finite number of seconds, not inf.",
        ),
        ({"events": "no"}, TypeError, "events must be True or False, not 'no'."),
        ({"seed": 1.5}, TypeError, "seed must be an int, a str or None, not 1.5."),
        (
            {"clock": 1_700_000_000},
            TypeError,
            "clock must be a callable returning the time in seconds, not 1700000000.",
        ),
    ],
)
def test_a_misconfigured_service_is_refused_when_built(
    arguments: dict[str, Any], error: type[Exception], message: str
) -> None:
    store = arguments.pop("store", None) or MemoryStore()
    with pytest.raises(error) as caught:
        CustomerService(store, **arguments)
    assert str(caught.value) == message


def test_sensible_settings_are_kept() -> None:
    service = CustomerService(
        MemoryStore(),
        clock=lambda: 1_700_000_000,
        seed=7,
        idempotency_ttl=60,
        events=False,
        event_retention=3600.5,
    )
    customer = service.create(name="Jenny", idempotency_key="k")
    assert service.create(name="Jenny", idempotency_key="k").id == customer.id
    assert customer.created == 1_700_000_000
    assert service.events.list().data == []
