"""Create: parameters stored, defaults, wire coercion and Stripe's validation errors."""

from __future__ import annotations

from typing import Any

import pytest

from customer_core import CustomerService, InvalidRequestError

from .test_customer_object import FULL

EMPTY_MESSAGE = (
    "You passed an empty string for '{0}'. We assume empty values are an attempt to unset a "
    "parameter; however '{0}' cannot be unset. You should remove '{0}' from your request or "
    "supply a non-empty value."
)


def error_of(call: Any, *args: Any, **params: Any) -> InvalidRequestError:
    with pytest.raises(InvalidRequestError) as caught:
        call(*args, **params)
    return caught.value


def test_create_stores_every_param(service: CustomerService) -> None:
    body = service.create(**FULL).to_dict()
    assert body["address"] == FULL["address"]
    assert body["balance"] == -500
    assert body["description"] == "VIP"
    assert body["email"] == "jenny@example.com"
    assert body["invoice_prefix"] == "JENNY1"
    assert body["invoice_settings"] == {
        "custom_fields": [{"name": "PO", "value": "42"}],
        "default_payment_method": None,
        "footer": "Thanks",
        "rendering_options": {"amount_tax_display": "exclude_tax", "template": "inrtem_1"},
    }
    assert body["metadata"] == {"order_id": "6735"}
    assert body["name"] == "Jenny R."
    assert body["next_invoice_sequence"] == 7
    assert body["phone"] == "+15555550123"
    assert body["preferred_locales"] == ["fr", "en"]
    assert body["shipping"] == {
        "address": {
            "city": "Berlin",
            "country": None,
            "line1": None,
            "line2": None,
            "postal_code": None,
            "state": None,
        },
        "carrier": None,
        "name": "Jenny",
        "phone": "+1555",
        "tracking_number": None,
    }
    assert body["tax_exempt"] == "reverse"
    assert service.retrieve(body["id"]).to_dict() == body


def test_name_defaults_to_business_name_then_individual_name(service: CustomerService) -> None:
    assert service.create(business_name="ACME", individual_name="Jo").name == "ACME"
    assert service.create(individual_name="Jo").name == "Jo"
    assert service.create(business_name="ACME", name="Named").name == "Named"


def test_wire_values_are_coerced_as_stripe_coerces_them(service: CustomerService) -> None:
    customer = service.create(
        name=12345, balance="-42", next_invoice_sequence="3", metadata={"n": 5, "flag": True}
    )
    assert customer.name == "12345"
    assert customer.balance == -42
    assert customer.next_invoice_sequence == 3
    assert customer.metadata == {"n": "5", "flag": "true"}


def test_accepted_but_ignored_params_are_validated(service: CustomerService) -> None:
    customer = service.create(
        tax={"ip_address": "127.0.0.1", "validate_location": "deferred"},
        cash_balance={"settings": {"reconciliation_mode": "manual"}},
    )
    assert "tax" not in customer.to_dict()
    error = error_of(service.create, tax={"validate_location": "auto"})
    assert error.param == "tax[validate_location]"
    assert error.message == "Invalid tax[validate_location]: must be one of deferred or immediately"
    error = error_of(service.create, cash_balance={"settings": {"reconciliation_mode": "x"}})
    assert error.message == (
        "Invalid cash_balance[settings][reconciliation_mode]: must be one of automatic, manual, or merchant_default"
    )


@pytest.mark.parametrize(
    ("param", "value", "message"),
    [
        ("payment_method", "pm_123", "No such PaymentMethod: 'pm_123'"),
        ("source", "tok_visa", "No such token: 'tok_visa'"),
        ("test_clock", "clock_1", "No such test clock: 'clock_1'"),
    ],
)
def test_references_to_objects_this_library_does_not_keep_are_not_found(
    service: CustomerService, param: str, value: str, message: str
) -> None:
    error = error_of(service.create, **{param: value})
    assert (error.code, error.param, error.message, error.http_status) == (
        "resource_missing",
        param,
        message,
        400,
    )
    error = error_of(service.create, invoice_settings={"default_payment_method": "pm_1"})
    assert error.param == "invoice_settings[default_payment_method]"


@pytest.mark.parametrize(
    ("params", "param", "message", "code"),
    [
        ({"foo": 1}, "foo", "Received unknown parameter: foo", "parameter_unknown"),
        ({"coupon": "X"}, "coupon", "Received unknown parameter: coupon", "parameter_unknown"),
        (
            {"address": {"foo": "x"}},
            "address[foo]",
            "Received unknown parameter: address[foo]",
            "parameter_unknown",
        ),
        (
            {"invoice_settings": {"nope": 1}},
            "invoice_settings[nope]",
            "Received unknown parameter: invoice_settings[nope]",
            "parameter_unknown",
        ),
        (
            {"name": "x" * 257},
            "name",
            "Invalid string: xxxxxxxxxx...xxxxxxxxxx; must be at most 256 characters",
            None,
        ),
        (
            {"phone": "1" * 21},
            "phone",
            "Invalid string: 111111111111111111111; must be at most 20 characters",
            None,
        ),
        (
            {"business_name": "b" * 151},
            "business_name",
            "Invalid string: bbbbbbbbbb...bbbbbbbbbb; must be at most 150 characters",
            None,
        ),
        (
            {"individual_name": "i" * 151},
            "individual_name",
            "Invalid string: iiiiiiiiii...iiiiiiiiii; must be at most 150 characters",
            None,
        ),
        (
            {"description": "d" * 5001},
            "description",
            "Invalid string: dddddddddd...dddddddddd; must be at most 5000 characters",
            None,
        ),
        (
            {"email": "a" * 507 + "@x.com"},
            "email",
            "Invalid string: aaaaaaaaaa...aaaa@x.com; must be at most 512 characters",
            None,
        ),
        (
            {"email": "not-an-email"},
            "email",
            "Invalid email address: not-an-email",
            "email_invalid",
        ),
        (
            {"email": "a b@example.com"},
            "email",
            "Invalid email address: a b@example.com",
            "email_invalid",
        ),
        (
            {"tax_exempt": "all"},
            "tax_exempt",
            "Invalid tax_exempt: must be one of none, reverse, or exempt",
            None,
        ),
        ({"balance": "abc"}, "balance", "Invalid integer: abc", "parameter_invalid_integer"),
        ({"balance": "1.5"}, "balance", "Invalid integer: 1.5", "parameter_invalid_integer"),
        ({"balance": 1.0}, "balance", "Invalid integer: 1.0", "parameter_invalid_integer"),
        ({"balance": True}, "balance", "Invalid integer: True", "parameter_invalid_integer"),
        ({"balance": ["1"]}, "balance", 'Invalid integer: ["1"]', "parameter_invalid_integer"),
        (
            {"balance": {"a": "1"}},
            "balance",
            'Invalid integer: {"a": "1"}',
            "parameter_invalid_integer",
        ),
        ({"balance": 2**63}, "balance", f"Invalid integer: {2**63}", "parameter_invalid_integer"),
        (
            {"balance": str(-(2**63) - 1)},
            "balance",
            f"Invalid integer: {-(2**63) - 1}",
            "parameter_invalid_integer",
        ),
        (
            {"next_invoice_sequence": 0},
            "next_invoice_sequence",
            "This value must be greater than or equal to 1.",
            "parameter_invalid_integer",
        ),
        (
            {"shipping": {"name": "J"}},
            "shipping[address]",
            "Missing required param: shipping[address].",
            "parameter_missing",
        ),
        (
            {"shipping": {"address": {}}},
            "shipping[name]",
            "Missing required param: shipping[name].",
            "parameter_missing",
        ),
        (
            {"invoice_settings": {"custom_fields": [{"name": "PO"}]}},
            "invoice_settings[custom_fields][0][value]",
            "Missing required param: invoice_settings[custom_fields][0][value].",
            "parameter_missing",
        ),
        (
            {"invoice_settings": {"custom_fields": [{"name": "n" * 41, "value": "v"}]}},
            "invoice_settings[custom_fields][0][name]",
            "Invalid string: nnnnnnnnnn...nnnnnnnnnn; must be at most 40 characters",
            None,
        ),
        (
            {"invoice_settings": {"custom_fields": [{"name": "n", "value": "v" * 141}]}},
            "invoice_settings[custom_fields][0][value]",
            "Invalid string: vvvvvvvvvv...vvvvvvvvvv; must be at most 140 characters",
            None,
        ),
        (
            {"invoice_settings": {"rendering_options": {"amount_tax_display": "all"}}},
            "invoice_settings[rendering_options][amount_tax_display]",
            "Invalid invoice_settings[rendering_options][amount_tax_display]: must be one of exclude_tax or include_inclusive_tax",
            None,
        ),
        ({"address": "Paris"}, "address", "Invalid object for address", None),
        (
            {"preferred_locales": "en"},
            "preferred_locales",
            "Invalid array for preferred_locales",
            None,
        ),
        ({"name": {"first": "J"}}, "name", 'Invalid string: {"first": "J"}', None),
        (
            {"invoice_prefix": "abc"},
            "invoice_prefix",
            "Invalid invoice_prefix: must be 1 to 12 uppercase letters or numbers",
            None,
        ),
        (
            {"invoice_prefix": "ABCDEFGHIJKLM"},
            "invoice_prefix",
            "Invalid invoice_prefix: must be 1 to 12 uppercase letters or numbers",
            None,
        ),
        ({"expand": ["bogus"]}, "expand", "This property cannot be expanded (bogus).", None),
        (
            {"expand": ["invoice_settings.bogus.x"]},
            "expand",
            "This property cannot be expanded (invoice_settings.bogus).",
            None,
        ),
        (
            {"expand": ["tax.location"]},
            "expand",
            "This property cannot be expanded (tax.location).",
            None,
        ),
    ],
)
def test_invalid_params_get_stripes_error(
    service: CustomerService, params: dict[str, Any], param: str, message: str, code: str | None
) -> None:
    error = error_of(service.create, **params)
    assert (error.param, error.message, error.code, error.http_status) == (
        param,
        message,
        code,
        400,
    )
    assert error.type == "invalid_request_error"


def test_several_unknown_params_are_named_together(service: CustomerService) -> None:
    error = error_of(service.create, alpha=1, beta=2)
    assert error.message == "Received unknown parameters: alpha, beta"


def test_unknown_params_are_reported_before_other_problems(service: CustomerService) -> None:
    error = error_of(service.create, name="x" * 300, zzz=1)
    assert error.message == "Received unknown parameter: zzz"


@pytest.mark.parametrize(
    "param",
    [
        "balance",
        "next_invoice_sequence",
        "preferred_locales",
        "tax_id_data",
        "expand",
        "cash_balance",
        "source",
        "payment_method",
        "test_clock",
        "invoice_prefix",
        "invoice_settings",
        "tax",
    ],
)
def test_empty_string_is_refused_where_a_param_cannot_be_unset(
    service: CustomerService, param: str
) -> None:
    error = error_of(service.create, **{param: ""})
    assert (error.code, error.param, error.message) == (
        "parameter_invalid_empty",
        param,
        EMPTY_MESSAGE.format(param),
    )
    # In-process None is the same marker, and the message says what was passed (trial 7).
    error = error_of(service.create, **{param: None})
    assert (error.code, error.param, error.message) == (
        "parameter_invalid_empty",
        param,
        EMPTY_MESSAGE.format(param).replace("an empty string", "None"),
    )


def test_empty_string_clears_where_the_spec_allows_it(service: CustomerService) -> None:
    customer = service.create(
        address="",
        shipping="",
        metadata="",
        business_name="",
        individual_name="",
        description="",
        email="",
        name="",
        phone="",
        tax_exempt="",
        invoice_settings={"custom_fields": "", "rendering_options": "", "footer": ""},
    )
    body = customer.to_dict()
    assert body["address"] is None and body["shipping"] is None and body["metadata"] == {}
    assert "business_name" not in body and "individual_name" not in body
    assert body["description"] is None and body["email"] is None and body["name"] is None
    assert body["tax_exempt"] == "none"
    assert body["invoice_settings"] == {
        "custom_fields": None,
        "default_payment_method": None,
        "footer": None,
        "rendering_options": None,
    }
    rendering = service.create(invoice_settings={"rendering_options": {"amount_tax_display": ""}})
    assert rendering.invoice_settings.rendering_options.amount_tax_display is None  # type: ignore[union-attr]


def test_expand_includes_requested_fields(service: CustomerService) -> None:
    customer = service.create(
        expand=[
            "tax",
            "tax_ids",
            "invoice_credit_balance",
            "default_source",
            "invoice_settings.default_payment_method",
        ]
    )
    body = customer.to_dict()
    assert body["tax"] == {
        "automatic_tax": "unrecognized_location",
        "ip_address": None,
        "location": None,
        "provider": "stripe",
    }
    assert body["tax_ids"] == {
        "object": "list",
        "data": [],
        "has_more": False,
        "url": f"/v1/customers/{customer.id}/tax_ids",
    }
    assert body["invoice_credit_balance"] == {}
    assert body["default_source"] is None
    assert "sources" not in body
    keys = list(body)
    assert keys == ["id", "object", *sorted(keys[2:])]
    assert "tax" not in service.retrieve(customer.id).to_dict()
    assert (
        service.retrieve(customer.id, expand=["sources"]).to_dict()["sources"]["url"]
        == f"/v1/customers/{customer.id}/sources"
    )


def test_expand_deeper_than_four_levels_is_refused(service: CustomerService) -> None:
    error = error_of(service.create, expand=["default_source.a.b.c.d"])
    assert error.message.startswith("You cannot expand more than 4 levels of a property.")


def test_metadata_limits(service: CustomerService) -> None:
    assert len(service.create(metadata={f"k{n}": "v" for n in range(50)}).metadata) == 50
    error = error_of(service.create, metadata={f"k{n}": "v" for n in range(51)})
    assert (error.param, error.message) == (
        "metadata",
        "Metadata can have up to 50 keys, but you've set 51. "
        "Email us at support+metadata@stripe.com for more information.",
    )
    error = error_of(service.create, metadata={"k" * 41: "v"})
    assert error.message == f"Invalid key: {'k' * 41} must be a string under 40 characters"
    error = error_of(service.create, metadata={"k": "v" * 501})
    assert error.message == f"Invalid val: {'v' * 501} must be a string under 500 characters"
    error = error_of(service.create, metadata={"a[b]": "v"})
    assert (error.param, error.message) == (
        "metadata",
        "Invalid key: a[b] must not contain square brackets",
    )
    error = error_of(service.create, metadata={"k": {"nested": 1}})
    assert error.message == 'Invalid value type: {"nested": 1} must be a string'
    error = error_of(service.create, metadata={"k": ["a", "b"]})
    assert error.message == 'Invalid value type: ["a", "b"] must be a string'
    error = error_of(service.create, metadata={"": "v"})
    assert (error.param, error.message) == (
        "metadata",
        'Invalid key: "" must be a non-empty string',
    )
    error = error_of(service.create, metadata="x")
    assert error.message == "Invalid object for metadata"
    assert service.create(metadata={"k" * 40: "v" * 500}).metadata == {"k" * 40: "v" * 500}


def test_error_body_is_stripes(service: CustomerService) -> None:
    error = error_of(service.create, foo=1)
    assert error.to_dict() == {
        "error": {
            "code": "parameter_unknown",
            "doc_url": "https://stripe.com/docs/error-codes/parameter-unknown",
            "message": "Received unknown parameter: foo",
            "param": "foo",
            "type": "invalid_request_error",
        }
    }
    no_code = error_of(service.create, tax_exempt="x").to_dict()["error"]
    assert "code" not in no_code and "doc_url" not in no_code
