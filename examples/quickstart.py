"""A tour of customer_core on the embedded in-memory store: run ``python examples/quickstart.py``."""

from __future__ import annotations

import json

from customer_core import CustomerService, InvalidRequestError, MemoryStore


def main() -> None:
    svc = CustomerService(MemoryStore())

    jenny = svc.create(
        name="Jenny Rosen",
        email="jenny.rosen@example.com",
        metadata={"order_id": "6735"},
        preferred_locales=["fr", "en"],
    )
    print("created:", json.dumps(jenny.to_dict(), indent=2))

    updated = svc.update(jenny.id, metadata={"order_id": "", "plan": "gold"})
    print("metadata after merge/unset:", updated.metadata)

    for n in range(3):
        svc.create(email=f"customer{n}@example.com")
    page = svc.list(limit=2)
    print("first page:", [c.email for c in page.data], "has_more:", page.has_more)
    older = svc.list(limit=2, starting_after=page.data[-1].id)
    print("next page:", [c.email for c in older.data], "has_more:", older.has_more)

    try:
        svc.create(email="not-an-email")
    except InvalidRequestError as error:
        print("error body:", json.dumps(error.to_dict()))

    print("deleted:", svc.delete(jenny.id).to_dict())
    print("retrieve after delete:", svc.retrieve(jenny.id).to_dict())


if __name__ == "__main__":
    main()
