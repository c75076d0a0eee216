"""The customer object: Stripe's defaults, key set and types (OpenAPI 2026-09-30)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from customer_core import Customer, CustomerService, DeletedCustomer, MemoryStore
from customer_core.models import CUSTOMER_FIELDS

from .conftest import NOW

SPEC = json.loads((Path(__file__).parent / "data" / "stripe-openapi-customers.json").read_text())
SCHEMAS = SPEC["components"]["schemas"]


def resolve(schema: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in schema:
        return SCHEMAS[schema["$ref"].rsplit("/", 1)[1]]
    return schema


def conforms(value: Any, schema: dict[str, Any]) -> bool:
    """A small JSON-schema check: types, nullability, enums, nested objects."""
    schema = resolve(schema)
    if value is None:
        return bool(schema.get("nullable"))
    if "anyOf" in schema:
        return any(conforms(value, option) for option in schema["anyOf"])
    kind = schema.get("type")
    if "enum" in schema and value not in schema["enum"]:
        return False
    if kind == "string":
        return isinstance(value, str) and len(value) <= schema.get("maxLength", 10**9)
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "array":
        return isinstance(value, list) and all(conforms(v, schema["items"]) for v in value)
    if kind == "object":
        if not isinstance(value, dict):
            return False
        properties = schema.get("properties", {})
        if properties and not set(schema.get("required", [])) <= set(value):
            return False
        for key, item in value.items():
            sub = properties.get(key, schema.get("additionalProperties"))
            if sub is None or (sub is not True and not conforms(item, sub)):
                return False
        return True
    return True


EXPECTED_DEFAULT = {
    "id": "cus_01HF7YAT000SKHS01HFYHV2YCX",
    "object": "customer",
    "address": None,
    "balance": 0,
    "created": NOW,
    "currency": None,
    "customer_account": None,
    "default_source": None,
    "delinquent": False,
    "description": None,
    "discount": None,
    "email": None,
    "invoice_prefix": "BDD640FB",
    "invoice_settings": {
        "custom_fields": None,
        "default_payment_method": None,
        "footer": None,
        "rendering_options": None,
    },
    "livemode": False,
    "metadata": {},
    "name": None,
    "next_invoice_sequence": 1,
    "phone": None,
    "preferred_locales": [],
    "shipping": None,
    "tax_exempt": "none",
    "test_clock": None,
}


def test_a_customer_created_without_params_has_stripes_defaults(service: CustomerService) -> None:
    customer = service.create()
    body = customer.to_dict()
    assert body == {
        **EXPECTED_DEFAULT,
        "id": customer.id,
        "invoice_prefix": customer.invoice_prefix,
    }
    assert list(body) == list(EXPECTED_DEFAULT)
    assert customer.model_dump(mode="json") == body


def test_same_clock_and_seed_give_identical_customers(clock: Any) -> None:
    first = CustomerService(MemoryStore(), clock=clock, seed=42).create(name="A")
    second = CustomerService(MemoryStore(), clock=clock, seed=42).create(name="A")
    assert first.to_dict() == second.to_dict()
    assert first.to_dict() == {**EXPECTED_DEFAULT, "name": "A"}


def test_default_body_keys_are_those_of_the_docs_example(service: CustomerService) -> None:
    docs_example = (
        "id object address balance created currency default_source delinquent description "
        "discount email invoice_prefix invoice_settings livemode metadata name "
        "next_invoice_sequence phone preferred_locales shipping tax_exempt test_clock"
    ).split()
    assert len(docs_example) == 22
    assert list(service.create().to_dict()) == list(CUSTOMER_FIELDS)
    assert set(CUSTOMER_FIELDS) == {*docs_example, "customer_account"}


FULL = {
    "address": {
        "city": "Paris",
        "country": "FR",
        "line1": "1 Rue",
        "line2": "B",
        "postal_code": "75001",
        "state": "IDF",
    },
    "balance": -500,
    "business_name": "Rosen GmbH",
    "description": "VIP",
    "email": "jenny@example.com",
    "individual_name": "Jenny Rosen",
    "invoice_prefix": "JENNY1",
    "invoice_settings": {
        "custom_fields": [{"name": "PO", "value": "42"}],
        "footer": "Thanks",
        "rendering_options": {"amount_tax_display": "exclude_tax", "template": "inrtem_1"},
    },
    "metadata": {"order_id": "6735"},
    "name": "Jenny R.",
    "next_invoice_sequence": 7,
    "phone": "+15555550123",
    "preferred_locales": ["fr", "en"],
    "shipping": {"name": "Jenny", "phone": "+1555", "address": {"city": "Berlin"}},
    "tax_exempt": "reverse",
}


def test_every_dumped_field_conforms_to_the_openapi_customer_schema(
    service: CustomerService,
) -> None:
    properties = SCHEMAS["customer"]["properties"]
    for customer in (service.create(), service.create(**FULL)):
        body = customer.to_dict()
        assert set(SCHEMAS["customer"]["required"]) <= set(body)
        assert set(body) <= set(properties)
        for key, value in body.items():
            assert conforms(value, properties[key]), (key, value)


def test_business_and_individual_names_are_present_only_when_set(service: CustomerService) -> None:
    body = service.create(**FULL).to_dict()
    assert body["business_name"] == "Rosen GmbH"
    assert body["individual_name"] == "Jenny Rosen"
    keys = list(body)
    assert keys == ["id", "object", *sorted(keys[2:])]
    assert "business_name" not in service.create().to_dict()


def test_deleted_stub_is_exactly_three_keys() -> None:
    stub = DeletedCustomer(id="cus_1")
    assert stub.to_dict() == {"id": "cus_1", "object": "customer", "deleted": True}
    assert SCHEMAS["deleted_customer"]["required"] == ["deleted", "id", "object"]
    assert conforms(stub.to_dict(), SCHEMAS["deleted_customer"])


def test_list_page_is_stripes_list_envelope(service: CustomerService) -> None:
    created = service.create(email="a@example.com")
    page = service.list()
    assert page.to_dict() == {
        "object": "list",
        "url": "/v1/customers",
        "has_more": False,
        "data": [created.to_dict()],
    }
    assert page.data == [created]
    assert page.model_dump(mode="json") == page.to_dict()


def test_trusted_construction_equals_validation(service: CustomerService) -> None:
    for params in ({}, FULL, {"business_name": "B", "expand": ["tax"]}):
        customer = service.create(**params)
        body = customer.to_dict()
        validated = Customer.model_validate(body)
        assert validated == customer
        assert validated.to_dict() == body
        assert list(validated.to_dict()) == list(body)


def test_models_are_immutable(service: CustomerService) -> None:
    customer = service.create()
    with pytest.raises(Exception, match="frozen"):
        customer.email = "x@example.com"  # type: ignore[misc]
