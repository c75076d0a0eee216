"""Customer tax IDs through the service, on every store: tax_id_data on create, the tax ID
operations, expand, errors, deletion with the customer."""

from __future__ import annotations

from pathlib import Path
from typing import get_args

import pytest
from stripe.params._customer_tax_id_create_params import CustomerTaxIdCreateParams

from customer_core import CustomerService, IdempotencyError, SQLiteStore
from customer_core.errors import InvalidRequestError
from customer_core.tax_id_types import TAX_ID_TYPES, country_of, value_fits
from customer_core.testing import FakeClock

from .conftest import NOW
from .test_create import error_of


def expected_tax_id(
    tax_id: str, customer_id: str, tax_id_type: str, value: str, country: str, status: str
) -> dict[str, object]:
    return {
        "id": tax_id,
        "object": "tax_id",
        "country": country,
        "created": NOW,
        "customer": customer_id,
        "customer_account": None,
        "livemode": False,
        "owner": {"customer": customer_id, "customer_account": None, "type": "customer"},
        "type": tax_id_type,
        "value": value,
        "verification": {"status": status, "verified_address": None, "verified_name": None},
    }


# --- tax_id_data on customer create ----------------------------------------------------------


def test_tax_id_data_makes_tax_ids_listed_by_expand(service: CustomerService) -> None:
    customer = service.create(
        name="Jenny Rosen",
        tax_id_data=[
            {"type": "eu_vat", "value": "DE123456789"},
            {"type": "us_ein", "value": "12-3456789"},
        ],
        expand=["tax_ids"],
    )
    body = customer.to_dict()
    assert list(body["tax_ids"]) == ["object", "data", "has_more", "url"]
    assert body["tax_ids"]["url"] == f"/v1/customers/{customer.id}/tax_ids"
    assert body["tax_ids"]["has_more"] is False
    vat, ein = sorted(body["tax_ids"]["data"], key=lambda item: item["id"])
    assert vat["id"].startswith("txi_") and vat["id"] < ein["id"]
    assert vat == expected_tax_id(vat["id"], customer.id, "eu_vat", "DE123456789", "DE", "pending")
    assert ein == expected_tax_id(
        ein["id"], customer.id, "us_ein", "12-3456789", "US", "unavailable"
    )
    assert list(vat) == list(expected_tax_id("", "", "", "", "", ""))
    # Newest first (same second: the later id first), on the customer and on the list.
    assert [item["id"] for item in body["tax_ids"]["data"]] == [ein["id"], vat["id"]]
    assert [item.id for item in service.tax_ids.list(customer.id).data] == [ein["id"], vat["id"]]
    # Without expand, the customer body has no tax_ids.
    assert "tax_ids" not in service.retrieve(customer.id).to_dict()
    assert service.retrieve(customer.id, expand=["tax_ids"]).to_dict()["tax_ids"] == body["tax_ids"]


def test_a_bad_tax_id_value_on_create_creates_nothing(service: CustomerService) -> None:
    before = service.store.snapshot()
    error = error_of(
        service.create,
        email="jenny@example.com",
        tax_id_data=[
            {"type": "eu_vat", "value": "DE123456789"},
            {"type": "gb_vat", "value": "DE123456789"},
        ],
    )
    assert (error.code, error.param, error.message, error.http_status) == (
        "tax_id_invalid",
        "tax_id_data[1][value]",
        "Invalid value for gb_vat.",
        400,
    )
    assert service.store.snapshot() == before
    assert service.list().data == []


def test_a_failing_tax_id_insert_rolls_the_customer_back(
    service: CustomerService, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = service.store
    calls = []

    def failing(record: dict[str, object]) -> None:
        calls.append(record["id"])
        if len(calls) == 2:
            raise RuntimeError("disk full")
        original(record)

    original = store.insert_tax_id
    monkeypatch.setattr(store, "insert_tax_id", failing)
    before = store.snapshot()
    with pytest.raises(RuntimeError):
        service.create(
            email="a@example.com",
            tax_id_data=[
                {"type": "eu_vat", "value": "DE123456789"},
                {"type": "us_ein", "value": "123456789"},
            ],
        )
    monkeypatch.undo()
    assert len(calls) == 2
    assert store.snapshot() == before


def test_tax_id_data_type_errors(service: CustomerService) -> None:
    error = error_of(service.create, tax_id_data=[{"type": "xx_vat", "value": "1"}])
    assert error.param == "tax_id_data[0][type]"
    assert error.code is None
    assert error.message.startswith("Invalid tax_id_data[0][type]: must be one of ad_nrt, ae_trn, ")
    assert error.message.endswith(", zm_tin, or zw_tin")
    error = error_of(service.create, tax_id_data=[{"type": "eu_vat"}])
    assert (error.code, error.message) == (
        "parameter_missing",
        "Missing required param: tax_id_data[0][value].",
    )


def test_deleting_a_customer_deletes_its_tax_ids(service: CustomerService) -> None:
    kept = service.create(tax_id_data=[{"type": "us_ein", "value": "12-3456789"}])
    gone = service.create(tax_id_data=[{"type": "eu_vat", "value": "FR12345678901"}])
    gone_tax_id = service.tax_ids.list(gone.id).data[0].id
    service.delete(gone.id)
    assert service.store.get_tax_id(gone_tax_id) is None
    assert [record["customer"] for record in service.store.snapshot()["tax_ids"]] == [kept.id]
    error = error_of(service.tax_ids.list, gone.id)
    assert (error.http_status, error.code, error.param, error.message) == (
        404,
        "resource_missing",
        "customer",
        f"No such customer: '{gone.id}'",
    )
    error = error_of(service.tax_ids.retrieve, gone.id, gone_tax_id)
    assert error.message == f"No such customer: '{gone.id}'"


# --- svc.tax_ids ------------------------------------------------------------------------------


def test_create_retrieve_and_delete(service: CustomerService) -> None:
    customer = service.create()
    created = service.tax_ids.create(customer.id, type="au_abn", value="12345678912")
    assert created.to_dict() == expected_tax_id(
        created.id, customer.id, "au_abn", "12345678912", "AU", "pending"
    )
    assert service.tax_ids.retrieve(customer.id, created.id) == created
    deleted = service.tax_ids.delete(customer.id, created.id)
    assert deleted.to_dict() == {"id": created.id, "object": "tax_id", "deleted": True}
    error = error_of(service.tax_ids.retrieve, customer.id, created.id)
    assert (error.http_status, error.code, error.param, error.message) == (
        404,
        "resource_missing",
        "id",
        f"No such tax id: '{created.id}'",
    )
    assert error_of(service.tax_ids.delete, customer.id, created.id).http_status == 404
    assert service.retrieve(customer.id, expand=["tax_ids"]).to_dict()["tax_ids"]["data"] == []


@pytest.mark.parametrize(
    ("tax_id_type", "value", "country", "status"),
    [
        ("eu_vat", "EL123456789", "GR", "pending"),
        ("eu_vat", "XI123456789", "GB", "pending"),
        ("eu_vat", "ATU12345678", "AT", "pending"),
        ("gb_vat", "GB123456789", "GB", "pending"),
        ("ca_bn", "123456789", "CA", "unavailable"),
        ("ch_vat", "CHE-123.456.789 MWST", "CH", "unavailable"),
        ("eu_oss_vat", "EU123456789", None, "unavailable"),
        ("ic_nif", "Y12345678", "ES", "unavailable"),
        ("br_cnpj", "01.234.456/5432-10", "BR", "unavailable"),
        ("pt_nif", "123456789", "PT", "unavailable"),
    ],
)
def test_country_and_verification_status_by_type(
    service: CustomerService, tax_id_type: str, value: str, country: str | None, status: str
) -> None:
    customer = service.create()
    created = service.tax_ids.create(customer.id, type=tax_id_type, value=value)
    assert (created.country, created.verification.status, created.value) == (country, status, value)


def test_create_errors(service: CustomerService) -> None:
    customer = service.create()
    error = error_of(service.tax_ids.create, customer.id, type="xx_vat", value="1")
    assert (error.param, error.code) == ("type", None)
    assert error.message.startswith("Invalid type: must be one of ad_nrt, ae_trn, al_tin, ")
    assert error_of(service.tax_ids.create, customer.id, value="1").message == (
        "Missing required param: type."
    )
    assert error_of(service.tax_ids.create, customer.id, type="eu_vat").message == (
        "Missing required param: value."
    )
    assert error_of(service.tax_ids.create, customer.id, type="eu_vat", value="").code == (
        "parameter_invalid_empty"
    )
    error = error_of(service.tax_ids.create, customer.id, type="us_ein", value="12-345")
    assert (error.code, error.param, error.message) == (
        "tax_id_invalid",
        "value",
        "Invalid value for us_ein.",
    )
    assert error.doc_url == "https://stripe.com/docs/error-codes/tax-id-invalid"
    error = error_of(service.tax_ids.create, customer.id, type="eu_vat", value="x", bogus=1)
    assert error.message == "Received unknown parameter: bogus"
    error = error_of(service.tax_ids.create, "cus_missing", type="eu_vat", value="DE123456789")
    assert (error.http_status, error.code, error.param, error.message) == (
        404,
        "resource_missing",
        "customer",
        "No such customer: 'cus_missing'",
    )
    assert service.store.snapshot()["tax_ids"] == []


def test_another_customers_tax_id_is_not_found(service: CustomerService) -> None:
    owner, other = service.create(), service.create()
    created = service.tax_ids.create(owner.id, type="eu_vat", value="DE123456789")
    for call in (service.tax_ids.retrieve, service.tax_ids.delete):
        error = error_of(call, other.id, created.id)
        assert (error.http_status, error.message) == (404, f"No such tax id: '{created.id}'")
    assert service.tax_ids.retrieve(owner.id, created.id).id == created.id


def test_list_pages_newest_first_with_cursors(service: CustomerService, clock: FakeClock) -> None:
    customer = service.create()
    made = []
    for n in range(5):
        clock.set(NOW + n)
        made.append(service.tax_ids.create(customer.id, type="us_ein", value=f"12-345678{n}").id)
    newest_first = made[::-1]
    page = service.tax_ids.list(customer.id, limit=2)
    assert [item.id for item in page.data] == newest_first[:2]
    assert page.has_more is True
    assert page.to_dict()["url"] == f"/v1/customers/{customer.id}/tax_ids"
    assert list(page.to_dict()) == ["object", "url", "has_more", "data"]
    page = service.tax_ids.list(customer.id, limit=2, starting_after=newest_first[1])
    assert [item.id for item in page.data] == newest_first[2:4]
    page = service.tax_ids.list(customer.id, limit="10", starting_after=newest_first[3])
    assert ([item.id for item in page.data], page.has_more) == (newest_first[4:], False)
    page = service.tax_ids.list(customer.id, limit=2, ending_before=newest_first[4])
    assert ([item.id for item in page.data], page.has_more) == (newest_first[2:4], True)
    assert len(service.tax_ids.list(customer.id)) == 5


def test_list_errors(service: CustomerService) -> None:
    customer, other = service.create(), service.create()
    theirs = service.tax_ids.create(other.id, type="us_ein", value="123456789")
    mine = service.tax_ids.create(customer.id, type="us_ein", value="123456789")
    error = error_of(service.tax_ids.list, customer.id, starting_after=theirs.id)
    assert (error.http_status, error.code, error.param, error.message) == (
        400,
        "resource_missing",
        "starting_after",
        f"No such tax id: '{theirs.id}'",
    )
    error = error_of(
        service.tax_ids.list, customer.id, starting_after=mine.id, ending_before=mine.id
    )
    assert error.message == (
        "Received both starting_after and ending_before parameters. Please pass in only one."
    )
    error = error_of(service.tax_ids.list, customer.id, limit=101)
    assert (error.param, error.message) == (
        "limit",
        "This value must be less than or equal to 100.",
    )
    assert error_of(service.tax_ids.list, customer.id, email="x").code == "parameter_unknown"
    assert error_of(service.tax_ids.list, "cus_missing").http_status == 404


# --- expand --------------------------------------------------------------------------------------


def test_expand_customer_on_tax_id_endpoints(service: CustomerService) -> None:
    customer = service.create(email="jenny@example.com")
    created = service.tax_ids.create(
        customer.id, type="eu_vat", value="DE123456789", expand=["customer"]
    )
    customer_body = service.retrieve(customer.id).to_dict()
    assert created.to_dict()["customer"] == customer_body
    assert created.to_dict()["owner"]["customer"] == customer.id
    retrieved = service.tax_ids.retrieve(customer.id, created.id, expand=["owner.customer"])
    assert retrieved.to_dict()["owner"]["customer"] == customer_body
    assert retrieved.to_dict()["customer"] == customer.id
    listed = service.tax_ids.list(customer.id, expand=["data.customer"]).to_dict()
    assert listed["data"][0]["customer"] == customer_body
    assert service.tax_ids.list(customer.id).to_dict()["data"][0]["customer"] == customer.id


@pytest.mark.parametrize(
    ("call", "path", "shown"),
    [
        ("retrieve", "bogus", "bogus"),
        ("retrieve", "owner.bogus", "owner.bogus"),
        ("retrieve", "customer.tax_ids", "customer"),
        ("list", "customer", "customer"),
        ("list", "data.owner", "data.owner"),
    ],
)
def test_bad_expand_paths_on_tax_id_endpoints(
    service: CustomerService, call: str, path: str, shown: str
) -> None:
    customer = service.create()
    created = service.tax_ids.create(customer.id, type="eu_vat", value="DE123456789")
    arguments = (customer.id, created.id) if call == "retrieve" else (customer.id,)
    error = error_of(getattr(service.tax_ids, call), *arguments, expand=[path])
    assert (error.param, error.message) == (
        "expand",
        f"This property cannot be expanded ({shown}).",
    )


def test_expand_tax_ids_data_customer_on_the_customer(service: CustomerService) -> None:
    customer = service.create(name="Ada", tax_id_data=[{"type": "eu_vat", "value": "DE123456789"}])
    body = service.retrieve(customer.id, expand=["tax_ids.data.customer"]).to_dict()
    plain = service.retrieve(customer.id).to_dict()
    assert body["tax_ids"]["data"][0]["customer"] == plain
    assert body["tax_ids"]["data"][0]["owner"]["customer"] == customer.id
    listed = service.list(expand=["data.tax_ids.data.customer"]).to_dict()["data"][0]
    assert listed["tax_ids"]["data"][0]["customer"] == plain
    found = service.search(query='name:"Ada"', expand=["data.tax_ids"]).to_dict()["data"][0]
    assert found["tax_ids"]["data"][0]["customer"] == customer.id
    error = error_of(service.retrieve, customer.id, expand=["tax_ids.data.bogus"])
    assert error.message == "This property cannot be expanded (tax_ids.data.bogus)."
    # The error names the segment that is not expandable, not the expandable path before it.
    error = error_of(service.retrieve, customer.id, expand=["tax_ids.data.customer.bogus"])
    assert error.message == "This property cannot be expanded (tax_ids.data.customer.bogus)."


def test_the_customers_tax_ids_list_shows_ten(service: CustomerService) -> None:
    customer = service.create()
    made = [
        service.tax_ids.create(customer.id, type="us_ein", value="123456789").id for _ in range(11)
    ]
    embedded = service.retrieve(customer.id, expand=["tax_ids"]).to_dict()["tax_ids"]
    assert [item["id"] for item in embedded["data"]] == made[::-1][:10]
    assert embedded["has_more"] is True


# --- idempotency, durability, formats ------------------------------------------------------------


def test_tax_id_create_honours_idempotency_keys(service: CustomerService) -> None:
    customer = service.create()
    first = service.tax_ids.create(
        customer.id, idempotency_key="k1", type="eu_vat", value="DE123456789"
    )
    again = service.tax_ids.create(
        customer.id, idempotency_key="k1", type="eu_vat", value="DE123456789"
    )
    assert again == first
    assert len(service.tax_ids.list(customer.id)) == 1
    outcome = service.tax_ids.perform(
        "create",
        {"type": "eu_vat", "value": "DE123456789"},
        customer=customer.id,
        idempotency_key="k1",
    )
    assert outcome.replayed is True and outcome.result == first
    with pytest.raises(IdempotencyError):
        service.tax_ids.create(
            customer.id, idempotency_key="k1", type="eu_vat", value="DE999999999"
        )
    with pytest.raises(IdempotencyError, match="same endpoint"):
        service.create(idempotency_key="k1")


def test_tax_ids_survive_reopening_the_file(tmp_path: Path) -> None:
    path = tmp_path / "customers.db"
    with SQLiteStore(path) as store:
        service = CustomerService(store)
        customer = service.create(tax_id_data=[{"type": "gb_vat", "value": "GB123456789"}])
        tax_id = service.tax_ids.list(customer.id).data[0]
    with SQLiteStore(path) as store:
        assert CustomerService(store).tax_ids.retrieve(customer.id, tax_id.id) == tax_id


VALID = {
    "eu_vat": [
        "DE123456789",
        "ATU12345678",
        "BE0123456789",
        "ESA1234567Z",
        "FRAB123456789",
        "NL123456789B12",
        "IE1234567AB",
        "de 123 456 789",
    ],
    "gb_vat": ["GB123456789", "GB123456789012"],
    "us_ein": ["12-3456789", "123456789"],
    "au_abn": ["12345678912", "12 345 678 912"],
    "au_arn": ["123456789123"],
    "ca_bn": ["123456789"],
    "ca_gst_hst": ["123456789RT0002"],
    "ca_qst": ["1234567890TQ1234"],
    "ca_pst_bc": ["PST-1234-5678"],
    "ca_pst_mb": ["123456-7"],
    "ca_pst_sk": ["1234567"],
    "ch_vat": ["CHE-123.456.789 MWST"],
    "no_vat": ["123456789MVA"],
    "nz_gst": ["123456789"],
    "br_cnpj": ["01.234.456/5432-10"],
    "br_cpf": ["123.456.789-87"],
    "za_vat": ["4123456789"],
    "in_gst": ["12ABCDE3456FGZH"],
    "es_cif": ["A12345678"],
}
INVALID = {
    "eu_vat": ["DE12345678", "GB123456789", "US123456789", "ATU1234567", "D"],
    "gb_vat": ["123456789", "GB12345"],
    "us_ein": ["12-345678", "AB-3456789"],
    "au_abn": ["1234567891"],
    "ca_bn": ["12345678"],
    "ca_gst_hst": ["123456789XX0002"],
    "ch_vat": ["CHE-123.456.789"],
    "no_vat": ["123456789"],
    "br_cnpj": ["01.234.456/5432-1"],
    "za_vat": ["5123456789"],
}


@pytest.mark.parametrize(
    ("tax_id_type", "value"), [(t, v) for t, values in VALID.items() for v in values]
)
def test_documented_formats_are_accepted(tax_id_type: str, value: str) -> None:
    assert value_fits(tax_id_type, value)


@pytest.mark.parametrize(
    ("tax_id_type", "value"), [(t, v) for t, values in INVALID.items() for v in values]
)
def test_malformed_values_are_refused(tax_id_type: str, value: str) -> None:
    assert not value_fits(tax_id_type, value)


@pytest.mark.parametrize(
    "value", ["12-3456789\n", "12-3456789\t", "12\x003456789", "12-3456789\x85"]
)
@pytest.mark.parametrize("tax_id_type", ["us_ein", "ru_inn"])
def test_values_with_control_characters_are_refused(
    service: CustomerService, tax_id_type: str, value: str
) -> None:
    customer = service.create(email="c@example.com")
    with pytest.raises(InvalidRequestError) as caught:
        service.tax_ids.create(customer.id, type=tax_id_type, value=value)
    assert (caught.value.code, caught.value.param) == ("tax_id_invalid", "value")
    assert caught.value.message == f"Invalid value for {tax_id_type}."
    assert service.tax_ids.list(customer.id).data == []


def test_the_type_enum_is_the_sdks_and_countries_are_iso_codes() -> None:
    literal = get_args(CustomerTaxIdCreateParams.__annotations__["type"])[0]
    assert TAX_ID_TYPES == get_args(literal)
    assert len(TAX_ID_TYPES) == 135
    for tax_id_type in TAX_ID_TYPES:
        country = country_of(tax_id_type, "DE123456789")
        assert country is None or (len(country) == 2 and country.isupper()), tax_id_type
    assert value_fits("ru_inn", "anything at all")  # types without a known format: as given


def test_a_service_snapshot_restores_tax_ids(service: CustomerService) -> None:
    customer = service.create(tax_id_data=[{"type": "eu_vat", "value": "DE123456789"}])
    saved = service.snapshot()
    tax_id = service.tax_ids.list(customer.id).data[0]
    service.delete(customer.id)
    service.restore(saved)
    assert service.tax_ids.retrieve(customer.id, tax_id.id) == tax_id
    # The id generator was restored too: the next tax ID is new, after the restored one.
    added = service.tax_ids.create(customer.id, type="us_ein", value="123456789")
    assert added.id > tax_id.id


def test_an_idempotent_create_with_tax_id_data_replays_its_tax_ids(
    service: CustomerService,
) -> None:
    params = {"tax_id_data": [{"type": "gb_vat", "value": "GB123456789"}], "expand": ["tax_ids"]}
    first = service.create(idempotency_key="with-tax-ids", **params)
    again = service.create(idempotency_key="with-tax-ids", **params)
    assert again == first
    assert first.tax_ids is not None and len(first.tax_ids["data"]) == 1
    assert len(service.store.snapshot()["tax_ids"]) == 1


def test_ids_that_are_not_strings_are_refused(service: CustomerService) -> None:
    error = error_of(service.tax_ids.list, None)
    assert (error.param, error.message) == (
        "customer",
        "Invalid customer: None (expected an id such as 'cus_...')",
    )
    error = error_of(service.tax_ids.retrieve, "cus_1", 5)
    assert (error.param, error.message) == (
        "id",
        "Invalid id: 5 (expected an id such as 'txi_...')",
    )
