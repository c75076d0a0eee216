"""``previous_attributes`` keys follow the customer object's field order (issue 13 trial
finding): a field that appears in the update (``individual_name``, omitted while unset)
takes its place, not the last one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from customer_core import CustomerService, SQLiteStore
from customer_core import service as service_module
from customer_core.models import Customer


def last_previous_attributes(service: CustomerService) -> dict[str, Any]:
    [event] = service.events.list(limit=1, type="customer.updated").data
    previous = event.data.previous_attributes
    assert previous is not None
    return previous


def field_order(keys: list[str]) -> list[str]:
    return sorted(keys, key=list(Customer.model_fields).index)


@pytest.mark.parametrize(
    "update",
    [
        {"name": "Jenny", "individual_name": "Jenny Rosen"},
        {"individual_name": "Jenny Rosen", "name": "Jenny"},
        {"phone": "+1", "individual_name": "J", "description": "d", "metadata": {"a": "1"}},
        {"business_name": "Rocket Rides", "email": "b@example.com", "name": "N"},
    ],
)
def test_keys_follow_the_customers_field_order(
    service: CustomerService, update: dict[str, Any]
) -> None:
    customer = service.create(email="a@example.com")
    service.update(customer.id, **update)
    previous = last_previous_attributes(service)
    assert sorted(previous) == sorted(update)
    assert list(previous) == field_order(list(update))
    assert list(previous) == [
        key for key in service.retrieve(customer.id).to_dict() if key in update
    ]


def test_a_field_cleared_and_one_set_keep_the_order(service: CustomerService) -> None:
    customer = service.create(email="a@example.com", business_name="Rocket Rides", name="N")
    service.update(customer.id, business_name="", individual_name="Jenny Rosen", name="M")
    previous = last_previous_attributes(service)
    assert previous == {"business_name": "Rocket Rides", "individual_name": None, "name": "N"}
    assert list(previous) == ["business_name", "individual_name", "name"]


def test_the_same_params_again_diff_the_same_fields(tmp_path: Path) -> None:
    # The second update finds the sorted fields of its params in service._DIFFED_KEYS
    # (a store that takes the diff made at once, as SQLite).
    service = CustomerService(SQLiteStore(tmp_path / "a.db"))
    customer = service.create(email="a@example.com", name="A", metadata={"k": "1"})
    service.update(customer.id, name="B", metadata={"k": "2"}, expand=[])
    assert frozenset({"name", "metadata", "expand"}) in service_module._DIFFED_KEYS
    first = last_previous_attributes(service)
    service.update(customer.id, metadata={"k": "3"}, name="C", expand=[])
    second = last_previous_attributes(service)
    assert first == {"metadata": {"k": "1"}, "name": "A"}
    assert second == {"metadata": {"k": "2"}, "name": "B"}
    assert list(second) == ["metadata", "name"]


def test_the_sorted_fields_kept_are_bounded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = CustomerService(SQLiteStore(tmp_path / "a.db"))
    monkeypatch.setattr(service_module, "_DIFFED_KEYS", {})
    monkeypatch.setattr(service_module, "_DIFFED_KEYS_MAX", 1)
    customer = service.create(email="a@example.com")
    service.update(customer.id, name="B")
    service.update(customer.id, phone="+1", description="d")
    assert list(service_module._DIFFED_KEYS) == [frozenset({"name"})]
    assert last_previous_attributes(service) == {"description": None, "phone": None}
