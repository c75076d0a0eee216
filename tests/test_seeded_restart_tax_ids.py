"""A restarted seeded service whose first id is a tax ID's does not make the last run's
again: the peek of ``ids.go_on_after`` looks for the next id as a customer's and as a tax
ID's, which come from the same sequence (docs/decisions.md, "Ids and prefixes")."""

from __future__ import annotations

from pathlib import Path

from customer_core import CustomerService, MemoryStore, SQLiteStore

NOW = 1_700_000_000


def _tax_id_run(data: Path, customer_id: str, value: str) -> str:
    """A seeded, frozen-clock run on ``data`` whose first call creates a tax ID."""
    with SQLiteStore(data) as store:
        service = CustomerService(store, clock=lambda: NOW, seed=1)
        return service.tax_ids.create(customer_id, type="eu_vat", value=value).id


def test_each_restart_whose_first_id_is_a_tax_id_makes_a_new_one(tmp_path: Path) -> None:
    data = tmp_path / "customers.db"
    with SQLiteStore(data) as store:
        customer = CustomerService(store, clock=lambda: NOW, seed=1).create(email="a@example.com")
    made = [_tax_id_run(data, customer.id, f"DE12345678{n}") for n in range(3)]
    assert len(set(made)) == 3  # the second restart made the first's id again: a 500
    with SQLiteStore(data) as store:
        service = CustomerService(store, clock=lambda: NOW)
        kept = service.tax_ids.list(customer.id).data
        assert sorted(tax_id.id for tax_id in kept) == sorted(made)
        assert {tax_id.value for tax_id in kept} == {"DE123456780", "DE123456781", "DE123456782"}
        assert len(service.events.list(limit=10).data) == 4  # created, and 3 tax IDs


def test_a_free_next_id_still_gives_the_same_ids() -> None:
    # Nothing taken where the ids go on: the restart's ids are what they were.
    runs = []
    for _ in range(2):
        store = MemoryStore()
        first = CustomerService(store, clock=lambda: NOW, seed=1)
        customer = first.create(email="a@example.com")
        again = CustomerService(store, clock=lambda: NOW, seed=1)
        tax_id = again.tax_ids.create(customer.id, type="eu_vat", value="DE123456789")
        runs.append((customer.id, tax_id.id, again.create().id))
    assert runs[0] == runs[1]
