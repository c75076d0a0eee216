"""Values that are str subclasses (a str enum, a web framework's safe string) are taken
as their plain text on every store, and params that are not a mapping are a Stripe-shaped
error, never a raw TypeError (chores4's fuzz, 2026-12-03)."""

from __future__ import annotations

import enum
import math

import pytest

from customer_core import CustomerService, InvalidRequestError


class Kind(str, enum.Enum):
    EU_VAT = "eu_vat"


class Safe(str):
    """A web framework's marked-safe string."""


def test_a_str_enum_and_a_str_subclass_are_stored_as_plain_text(
    service: CustomerService,
) -> None:
    jenny = service.create(
        email=Safe("jenny@example.com"),
        name=Safe("Jenny"),
        metadata={"plan": Safe("gold")},
        tax_id_data=[{"type": Kind.EU_VAT, "value": Safe("DE123456789")}],
    )
    again = service.retrieve(jenny.id, expand=["tax_ids"])
    assert (again.email, again.name, again.metadata) == (
        "jenny@example.com",
        "Jenny",
        {"plan": "gold"},
    )
    assert type(again.name) is str and type(again.metadata["plan"]) is str
    assert again.tax_ids is not None and again.tax_ids["data"][0]["type"] == "eu_vat"
    endpoint = service.webhook_endpoints.create(
        url=Safe("http://127.0.0.1:9/hook"), enabled_events=["*"], description=Safe("d")
    )
    updated = service.webhook_endpoints.update(endpoint.id, description=Safe("e"))
    assert service.webhook_endpoints.retrieve(endpoint.id).description == updated.description == "e"


@pytest.mark.parametrize(
    "params", [["email", "a@example.com"], [("email", "x")], 7, math.nan, True]
)
def test_params_that_are_not_a_mapping_are_refused(
    service: CustomerService, params: object
) -> None:
    with pytest.raises(InvalidRequestError) as raised:
        service.perform("create", params)  # type: ignore[arg-type]
    assert raised.value.message.startswith(
        "Invalid params: expected a mapping of parameter names to values, not "
    )
    jenny = service.create(email="jenny@example.com")
    with pytest.raises(InvalidRequestError):
        service.tax_ids.perform("create", params, customer=jenny.id)  # type: ignore[arg-type]
    assert service.list().data == [jenny]  # nothing else was made
