"""``previous_attributes`` keys follow the customer object's field order (issue 13 trial
finding): a field that appears in the update (``individual_name``, omitted while unset)
takes its place, not the last one."""

from __future__ import annotations

from typing import Any

import pytest

from customer_core import CustomerService
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
