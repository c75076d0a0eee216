"""Child processes for the PostgreSQL many-writer test: ``python -m tests.postgres_worker``.

``writer DSN SCHEMA NAME COUNT TARGETS...``: COUNT creates and COUNT metadata updates
spread over the target customers, with a store (and pool) of its own; prints ``ok``.
"""

from __future__ import annotations

import sys

from customer_core import CustomerService
from customer_core.store.postgres import PostgresStore


def writer(dsn: str, schema: str, name: str, count: int, targets: list[str]) -> None:
    with PostgresStore(dsn, schema=schema, max_size=4) as store:
        service = CustomerService(store)
        for n in range(count):
            service.create(email=f"{name}-{n}@example.com")
            service.update(targets[n % len(targets)], metadata={f"{name}_{n}": "1"})
    print("ok", flush=True)


if __name__ == "__main__":
    dsn, schema, name, count, *targets = sys.argv[1:]
    writer(dsn, schema, name, int(count), targets)
