"""``Customer.to_json`` (encoded from plain dicts) gives pydantic's own encoding of the
model, byte for byte, for every nested shape and however the Customer was built."""

from __future__ import annotations

import json

import pytest

from customer_core import Customer, CustomerService

FULL = {
    "email": "jenny@example.com",
    "name": "Jenny Rosen",
    "address": {"city": "Paris", "country": "FR"},
    "shipping": {"name": "Jenny", "address": {"line1": "1 rue"}, "phone": "+33"},
    "invoice_settings": {
        "custom_fields": [{"name": "PO", "value": "7"}, {"name": "Ref", "value": "x"}],
        "footer": "Thanks",
        "rendering_options": {"template": "tmpl_1"},
    },
    "metadata": {"plan": "gold"},
    "preferred_locales": ["fr", "en"],
    "business_name": "Rosen GmbH",
}


def pydantic_json(customer: Customer, indent: int | None) -> bytes:
    serializer = customer.__pydantic_serializer__
    return serializer.to_json(customer, indent=indent, exclude=customer._left_out(None))


def built_every_way(service: CustomerService) -> list[Customer]:
    full = service.create(**FULL)
    service.tax_ids.create(full.id, type="eu_vat", value="DE123456789")
    bare = service.create()
    expanded = service.retrieve(full.id, expand=["tax_ids", "tax"])
    assert isinstance(expanded, Customer)
    return [
        full,
        bare,
        expanded,
        Customer.model_validate(full.to_dict()),
        Customer.model_validate_json(full.to_json()),
        Customer(id="cus_1", created=1),
        service.update(full.id, individual_name="Jenny", shipping=""),
    ]


@pytest.mark.parametrize("indent", [None, 2])
def test_to_json_is_pydantics_encoding(service: CustomerService, indent: int | None) -> None:
    for customer in built_every_way(service):
        assert customer.to_json(indent=indent) == pydantic_json(customer, indent)
        assert json.loads(customer.to_json(indent=indent)) == customer.to_dict()


def test_to_json_leaves_the_customer_as_it_was(service: CustomerService) -> None:
    customer = service.create(**FULL)
    before = customer.to_dict()
    customer.to_json()
    assert customer.to_dict() == before
    assert customer.invoice_settings.custom_fields is not None
    assert customer.invoice_settings.custom_fields[0].name == "PO"
    assert customer.shipping is not None and customer.shipping.address.line1 == "1 rue"
