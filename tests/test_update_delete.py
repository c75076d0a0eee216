"""Update (merge and unset rules), retrieve, delete and tombstones."""

from __future__ import annotations

import pytest

from customer_core import CustomerService, DeletedCustomer, InvalidRequestError

from .test_create import error_of
from .test_customer_object import FULL


def test_update_changes_only_given_fields(service: CustomerService) -> None:
    customer = service.create(**FULL)
    updated = service.update(customer.id, description="Changed", balance="10")
    expected = {**customer.to_dict(), "description": "Changed", "balance": 10}
    assert updated.to_dict() == expected
    assert service.retrieve(customer.id).to_dict() == expected


def test_metadata_merges_and_empty_values_unset(service: CustomerService) -> None:
    customer = service.create(metadata={"a": "1", "b": "2"})
    assert service.update(customer.id, metadata={"b": "", "c": "3"}).metadata == {
        "a": "1",
        "c": "3",
    }
    assert service.update(customer.id, metadata={"a": None}).metadata == {"c": "3"}
    assert service.update(customer.id, metadata="").metadata == {}
    assert service.retrieve(customer.id).metadata == {}  # type: ignore[union-attr]


def test_metadata_key_limit_counts_keys_after_the_merge(service: CustomerService) -> None:
    customer = service.create(metadata={f"k{n}": "v" for n in range(49)})
    error = error_of(service.update, customer.id, metadata={"x": "1", "y": "2"})
    assert error.message == (
        "Metadata can have up to 50 keys, but you've set 51. "
        "Email us at support+metadata@stripe.com for more information."
    )
    assert len(service.update(customer.id, metadata={"k0": "", "x": "1", "y": "2"}).metadata) == 50


def test_address_and_shipping_are_replaced_whole_or_cleared(service: CustomerService) -> None:
    customer = service.create(**FULL)
    updated = service.update(customer.id, address={"line1": "New"})
    assert updated.to_dict()["address"] == {
        "city": None,
        "country": None,
        "line1": "New",
        "line2": None,
        "postal_code": None,
        "state": None,
    }
    assert service.update(customer.id, address="", shipping="").to_dict()["shipping"] is None
    assert service.retrieve(customer.id).address is None  # type: ignore[union-attr]


def test_invoice_settings_merge_by_sub_param(service: CustomerService) -> None:
    customer = service.create(**FULL)
    updated = service.update(customer.id, invoice_settings={"footer": "Bye"})
    assert updated.to_dict()["invoice_settings"] == {
        **customer.to_dict()["invoice_settings"],
        "footer": "Bye",
    }
    cleared = service.update(
        customer.id, invoice_settings={"custom_fields": "", "rendering_options": ""}
    )
    assert cleared.to_dict()["invoice_settings"] == {
        "custom_fields": None,
        "default_payment_method": None,
        "footer": "Bye",
        "rendering_options": None,
    }


def test_empty_string_on_a_nullable_string_sets_null(service: CustomerService) -> None:
    customer = service.create(**FULL)
    updated = service.update(
        customer.id, description="", email="", phone="", name="", business_name=""
    )
    body = updated.to_dict()
    assert (body["description"], body["email"], body["phone"], body["name"]) == (
        None,
        None,
        None,
        None,
    )
    assert "business_name" not in body and body["individual_name"] == "Jenny Rosen"
    assert service.update(customer.id, tax_exempt="").tax_exempt == "none"


def test_setting_business_name_on_update_keeps_stripes_key_order(service: CustomerService) -> None:
    customer = service.create()
    body = service.update(customer.id, business_name="ACME").to_dict()
    assert body["business_name"] == "ACME" and body["name"] is None
    assert list(body) == ["id", "object", *sorted(list(body)[2:])]
    assert service.list().to_dict()["data"][0] == body


@pytest.mark.parametrize(
    "param", ["default_source", "default_card", "default_bank_account", "default_alipay_account"]
)
def test_default_sources_are_never_linked(service: CustomerService, param: str) -> None:
    customer = service.create()
    error = error_of(service.update, customer.id, **{param: "card_1"})
    assert (error.code, error.param) == ("resource_missing", param)
    assert (
        error.message == f"The customer {customer.id} does not have a linked source with ID card_1."
    )
    assert service.update(customer.id, **{param: ""}).default_source is None


def test_payment_sources_cannot_be_attached(service: CustomerService) -> None:
    customer = service.create()
    assert (
        error_of(service.update, customer.id, card="tok_visa").message
        == "No such token: 'tok_visa'"
    )
    error = error_of(
        service.update, customer.id, card={"number": "4242", "exp_month": 1, "exp_year": 2030}
    )
    assert error.param == "card"
    error = error_of(
        service.update, customer.id, card={"number": "4242", "exp_month": "x", "exp_year": 2030}
    )
    assert (error.param, error.message) == ("card[exp_month]", "Invalid integer: x")
    error = error_of(service.update, customer.id, bank_account={"country": "US"})
    assert (error.param, error.code) == ("bank_account[account_number]", "parameter_missing")


def test_update_only_params_are_refused_on_create_and_create_only_on_update(
    service: CustomerService,
) -> None:
    assert (
        error_of(service.create, default_source="x").message
        == "Received unknown parameter: default_source"
    )
    customer = service.create()
    assert (
        error_of(service.update, customer.id, payment_method="pm_1").message
        == "Received unknown parameter: payment_method"
    )
    assert service.update(customer.id, tax={"validate_location": "auto"}).id == customer.id


def test_unknown_id_is_a_404_resource_missing(service: CustomerService) -> None:
    for call in (service.retrieve, service.update, service.delete):
        error = error_of(call, "cus_nope")
        assert (error.http_status, error.code, error.param, error.message) == (
            404,
            "resource_missing",
            "id",
            "No such customer: 'cus_nope'",
        )
    assert error_of(service.retrieve, "ch_123").message == "No such customer: 'ch_123'"


def test_deleted_customer_is_retrievable_as_a_stub(service: CustomerService) -> None:
    customer = service.create(email="gone@example.com")
    deleted = service.delete(customer.id)
    assert deleted.to_dict() == {"id": customer.id, "object": "customer", "deleted": True}
    retrieved = service.retrieve(customer.id)
    assert isinstance(retrieved, DeletedCustomer)
    assert retrieved.to_dict() == {"id": customer.id, "object": "customer", "deleted": True}


def test_deleted_customer_cannot_be_updated_or_deleted_again(service: CustomerService) -> None:
    customer = service.create()
    service.delete(customer.id)
    for call, params in ((service.update, {"name": "x"}), (service.delete, {})):
        error = error_of(call, customer.id, **params)
        assert (error.http_status, error.code, error.message) == (
            404,
            "resource_missing",
            f"No such customer: '{customer.id}'",
        )


def test_deleted_customers_leave_lists(service: CustomerService) -> None:
    kept, gone = service.create(email="same@example.com"), service.create(email="same@example.com")
    service.delete(gone.id)
    assert [c.id for c in service.list().data] == [kept.id]
    assert [c.id for c in service.list(email="same@example.com").data] == [kept.id]


@pytest.mark.parametrize("method", ["retrieve", "update", "delete"])
def test_unknown_keywords_are_invalid_request_errors(service: CustomerService, method: str) -> None:
    customer = service.create()
    error = error_of(getattr(service, method), customer.id, bogus=1)
    assert (error.param, error.message) == ("bogus", "Received unknown parameter: bogus")


def test_ids_that_are_not_strings_are_invalid_requests(service: CustomerService) -> None:
    for call in (service.retrieve, service.update, service.delete):
        with pytest.raises(InvalidRequestError) as caught:
            call(123)
        assert caught.value.param == "id"


def test_keywords_named_like_positional_arguments_are_unknown_params(
    service: CustomerService,
) -> None:
    customer = service.create()
    assert (
        error_of(service.update, customer.id, id="cus_other").message
        == "Received unknown parameter: id"
    )
    assert error_of(service.create, self=1).message == "Received unknown parameter: self"
    assert error_of(service.list, self=1).param == "self"
