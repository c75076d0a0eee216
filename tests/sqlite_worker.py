"""Child processes for the SQLite crash and many-writer tests: ``python -m tests.sqlite_worker``.

``crash PATH``: create and update customers forever (each write with its event and the
event's delivery to a webhook endpoint, which no worker makes), printing each acknowledged
write.
``writer PATH NAME COUNT TARGETS...``: COUNT creates and COUNT metadata updates spread over
the target customers; prints ``ok`` at the end.
"""

from __future__ import annotations

import sys

from customer_core import CustomerService, SQLiteStore


def crash(path: str) -> None:
    service = CustomerService(SQLiteStore(path))
    if not service.webhook_endpoints.list().data:
        service.webhook_endpoints.create(url="http://127.0.0.1:9/never", enabled_events=["*"])
    made: list[str] = []
    n = 0
    while True:
        n += 1
        customer = service.create(email=f"c{n}@example.com", metadata={"n": str(n)})
        made.append(customer.id)
        print(f"C {customer.id} {n}", flush=True)
        target = made[n % len(made)]
        service.update(target, metadata={"n": str(n)}, description=f"update {n}")
        print(f"U {target} {n}", flush=True)


def writer(path: str, name: str, count: int, targets: list[str]) -> None:
    service = CustomerService(SQLiteStore(path))
    for n in range(count):
        service.create(email=f"{name}-{n}@example.com")
        service.update(targets[n % len(targets)], metadata={f"{name}_{n}": "1"})
    print("ok", flush=True)


if __name__ == "__main__":
    command, path, *rest = sys.argv[1:]
    if command == "crash":
        crash(path)
    else:
        writer(path, rest[0], int(rest[1]), rest[2:])
