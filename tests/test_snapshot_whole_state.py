"""``svc.snapshot()`` / ``svc.restore()`` bring back the whole state a test can observe:
customers, tombstones, tax IDs, events, idempotency keys and webhook endpoints, and the
generators of every id and seeded secret, on every store."""

from __future__ import annotations

from typing import Any

from customer_core import CustomerService
from customer_core.testing import FakeClock


def observed(service: CustomerService, customer_id: str) -> dict[str, Any]:
    """Everything the service's API shows."""
    return {
        "store": service.store.snapshot(),
        "customers": [c.to_dict() for c in service.list(limit=100).data],
        "tax_ids": [t.to_dict() for t in service.tax_ids.list(customer_id).data],
        "events": [e.to_dict() for e in service.events.list(limit=100).data],
        "endpoints": [e.to_dict() for e in service.webhook_endpoints.list().data],
    }


def test_restore_brings_back_every_part_and_the_ids_after_it(
    service: CustomerService, clock: FakeClock
) -> None:
    jenny = service.create(email="jenny@example.com", idempotency_key="k1")
    service.tax_ids.create(jenny.id, type="eu_vat", value="DE123456789")
    service.webhook_endpoints.create(url="https://one.example/hook", enabled_events=["*"])
    snapshot = service.snapshot()
    before = observed(service, jenny.id)
    assert len(before["endpoints"]) == 1 and before["store"]["webhook_endpoints"]

    def later() -> list[Any]:
        """What a test does after the snapshot; run twice, it must make the same ids."""
        clock.advance(5)
        made = [
            service.webhook_endpoints.create(url="https://two.example/hook", enabled_events=["*"]),
            service.tax_ids.create(jenny.id, type="us_ein", value="12-3456789"),
            service.create(email="later@example.com"),
            service.create(email="jenny@example.com", idempotency_key="k2"),
        ]
        service.update(jenny.id, name="Jenny")
        return [item.to_dict() for item in made]

    first_run = later()
    first = service.webhook_endpoints.list().data[0]
    service.webhook_endpoints.delete(first.id)
    assert observed(service, jenny.id) != before

    clock.set(1_700_000_000)
    service.restore(snapshot)
    assert observed(service, jenny.id) == before
    # The same calls after a restore make the same ids, and the same seeded secret.
    assert later() == first_run
    assert first_run[0]["secret"].startswith("whsec_")
