"""Parameter rules last session's trial found missing: ``expand[]=total_count`` on a list,
``tax[ip_address]``, NUL characters in free text, and the item counts of
``invoice_settings[custom_fields]`` and ``preferred_locales``. Service tests run on every
store; wire tests go through the HTTP server and in process with the official SDK."""

from __future__ import annotations

from typing import Any

import pytest
import stripe

from customer_core import CustomerService, InvalidRequestError

from .test_create import error_of

# test_http's fixtures: one server per module, the SDK client over it and in process.
from .test_http import client, server_service  # noqa: F401

FORBIDDEN_TOTAL = (
    "The total_count property cannot be expanded on a list since API version "
    "2025-03-31.basil; page through the list with has_more instead."
)


def shape(error: InvalidRequestError) -> tuple[Any, ...]:
    return (error.type, error.http_status, error.code, error.param, error.message)


# --- 1. expand[]=total_count on a list -------------------------------------------------------


def test_lists_refuse_total_count_as_stripe_does(service: CustomerService) -> None:
    customer = service.create(email="a@example.com")
    expected = ("invalid_request_error", 400, "property_forbidden", "expand", FORBIDDEN_TOTAL)
    assert shape(error_of(service.list, expand=["total_count"])) == expected
    assert shape(error_of(service.list, expand=["data.tax", "total_count"])) == expected
    error = error_of(service.tax_ids.list, customer.id, expand=["total_count"])
    assert shape(error) == expected
    assert shape(error_of(service.events.list, expand=["total_count"])) == expected
    assert shape(error_of(service.webhook_endpoints.list, expand=["total_count"])) == expected
    # Search keeps it (Stripe's search pages carry total_count when asked for).
    page = service.search(query='email:"a@example.com"', expand=["total_count"])
    assert page.total_count == 1
    assert error_of(service.list, expand=["total_count.x"]).message == (
        "This property cannot be expanded (total_count)."
    )


def test_total_count_on_a_list_over_the_wire(client: stripe.StripeClient) -> None:  # noqa: F811
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.customers.list(params={"expand": ["total_count"]})
    assert caught.value.http_status == 400
    assert caught.value.code == "property_forbidden"
    assert caught.value.param == "expand"  # type: ignore[attr-defined]
    assert caught.value.user_message == FORBIDDEN_TOTAL
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.events.list(params={"expand": ["total_count"]})
    assert (caught.value.http_status, caught.value.code) == (400, "property_forbidden")


# --- 2. tax[ip_address] -------------------------------------------------------------------


@pytest.mark.parametrize("address", ["127.0.0.1", "203.0.113.7", "2001:db8::1", "::ffff:1.2.3.4"])
def test_ip_addresses_are_accepted(service: CustomerService, address: str) -> None:
    customer = service.create(tax={"ip_address": address})
    assert service.update(customer.id, tax={"ip_address": address}).id == customer.id


@pytest.mark.parametrize("address", ["not-an-ip", "256.1.1.1", "1.2.3", " 1.2.3.4", "1.2.3.4\n"])
def test_malformed_ip_addresses_are_refused(service: CustomerService, address: str) -> None:
    error = error_of(service.create, tax={"ip_address": address})
    assert shape(error) == (
        "invalid_request_error",
        400,
        None,
        "tax[ip_address]",
        f"Invalid IP address: {address}",
    )
    customer = service.create()
    assert error_of(service.update, customer.id, tax={"ip_address": address}).param == (
        "tax[ip_address]"
    )
    assert len(service.list().data) == 1


def test_an_empty_ip_address_clears_it(service: CustomerService) -> None:
    customer = service.create(tax={"ip_address": ""})
    assert service.update(customer.id, tax={"ip_address": ""}).id == customer.id


def test_a_malformed_ip_address_over_the_wire(client: stripe.StripeClient) -> None:  # noqa: F811
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.customers.create(params={"tax": {"ip_address": "999.0.0.1"}})
    assert caught.value.param == "tax[ip_address]"  # type: ignore[attr-defined]
    assert caught.value.user_message == "Invalid IP address: 999.0.0.1"


# --- 3. NUL characters ----------------------------------------------------------------------

NUL_MESSAGE = "Invalid string: Jen\\u0000ny; must not contain a NUL character (\\u0000)"


@pytest.mark.parametrize(
    ("params", "param"),
    [
        ({"name": "Jen\x00ny"}, "name"),
        ({"description": "Jen\x00ny"}, "description"),
        ({"phone": "Jen\x00ny"}, "phone"),
        ({"address": {"line1": "Jen\x00ny"}}, "address[line1]"),
        ({"shipping": {"name": "Jen\x00ny", "address": {}}}, "shipping[name]"),
        ({"invoice_settings": {"footer": "Jen\x00ny"}}, "invoice_settings[footer]"),
        (
            {"invoice_settings": {"custom_fields": [{"name": "Jen\x00ny", "value": "1"}]}},
            "invoice_settings[custom_fields][0][name]",
        ),
        ({"preferred_locales": ["Jen\x00ny"]}, "preferred_locales[0]"),
    ],
)
def test_a_nul_in_free_text_is_refused(
    service: CustomerService, params: dict[str, Any], param: str
) -> None:
    error = error_of(service.create, **params)
    assert shape(error) == ("invalid_request_error", 400, None, param, NUL_MESSAGE)
    customer = service.create(name="Jenny")
    assert shape(error_of(service.update, customer.id, **params))[3] == param
    assert service.retrieve(customer.id).name == "Jenny"
    assert len(service.list().data) == 1


def test_a_nul_in_metadata_is_refused(service: CustomerService) -> None:
    error = error_of(service.create, metadata={"plan": "go\x00ld"})
    assert (error.param, error.message) == (
        "metadata",
        "Invalid val: go\\u0000ld must not contain a NUL character (\\u0000)",
    )
    error = error_of(service.create, metadata={"pl\x00an": "gold"})
    assert error.message == "Invalid key: pl\\u0000an must not contain a NUL character (\\u0000)"
    assert service.list().data == []


def test_other_control_characters_are_kept(service: CustomerService) -> None:
    text = "line one\nline two\tand\r\x01\x1f\x7f\x85 more"
    customer = service.create(description=text, address={"line1": text})
    again = service.retrieve(customer.id)
    assert again.description == text
    assert again.address is not None and again.address.line1 == text


def test_a_nul_over_the_wire(client: stripe.StripeClient) -> None:  # noqa: F811
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.customers.create(params={"name": "Jen\x00ny"})
    assert caught.value.param == "name"  # type: ignore[attr-defined]
    assert caught.value.user_message == NUL_MESSAGE


# --- 5. item counts ---------------------------------------------------------------------------


def fields(count: int) -> list[dict[str, str]]:
    return [{"name": f"F{n}", "value": str(n)} for n in range(count)]


def test_custom_fields_hold_at_most_four(service: CustomerService) -> None:
    customer = service.create(invoice_settings={"custom_fields": fields(4)})
    assert customer.invoice_settings.custom_fields is not None
    assert len(customer.invoice_settings.custom_fields) == 4
    error = error_of(service.create, invoice_settings={"custom_fields": fields(5)})
    assert shape(error) == (
        "invalid_request_error",
        400,
        None,
        "invoice_settings[custom_fields]",
        "Invalid invoice_settings[custom_fields]: must have at most 4 items, but you passed 5",
    )
    error = error_of(service.update, customer.id, invoice_settings={"custom_fields": fields(6)})
    assert error.message.endswith("but you passed 6")
    assert len(service.retrieve(customer.id).invoice_settings.custom_fields or []) == 4


def test_preferred_locales_hold_at_most_fifty(service: CustomerService) -> None:
    locales = [f"l{n}" for n in range(50)]
    customer = service.create(preferred_locales=locales)
    assert customer.preferred_locales == locales
    error = error_of(service.update, customer.id, preferred_locales=[*locales, "en"])
    assert shape(error) == (
        "invalid_request_error",
        400,
        None,
        "preferred_locales",
        "Invalid preferred_locales: must have at most 50 items, but you passed 51",
    )
    assert service.retrieve(customer.id).preferred_locales == locales


def test_item_counts_over_the_wire(client: stripe.StripeClient) -> None:  # noqa: F811
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.customers.create(
            params={"invoice_settings": {"custom_fields": fields(5)}}  # type: ignore[typeddict-item]
        )
    assert caught.value.param == "invoice_settings[custom_fields]"  # type: ignore[attr-defined]
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.customers.create(params={"preferred_locales": ["en"] * 51})
    assert caught.value.param == "preferred_locales"  # type: ignore[attr-defined]
