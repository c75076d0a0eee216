"""Imports of what applications save: a JSON array of customers written compactly on one
line (``json.dumps(list)``) as well as pretty-printed, and a customer whose expanded
``tax_ids`` list is cut short (``has_more: true``), which is refused rather than
imported with tax IDs silently missing."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest

from customer_core import CustomerService, MemoryStore
from customer_core.transfer import TransferError, import_customers

from .test_transfer import STRIPE_CUSTOMER, exported

SECOND = {**STRIPE_CUSTOMER, "id": "cus_Second12345678", "invoice_prefix": "AB12"}


@pytest.mark.parametrize("indent", [None, 2])
def test_a_json_array_of_customers_imports_on_one_line_or_pretty_printed(
    service: CustomerService, indent: int | None
) -> None:
    data = json.dumps([STRIPE_CUSTOMER, SECOND], indent=indent).encode()
    result = import_customers(service, io.BytesIO(data + b"\n"))
    assert (result.created, result.replaced, result.skipped) == (2, 0, 0)
    assert [customer.id for customer in service.list().data] == [
        "cus_Second12345678",
        "cus_NffrFeUfNV2Hib",
    ]
    other = CustomerService(MemoryStore())
    import_customers(
        other, io.BytesIO(b"\n".join(json.dumps(c).encode() for c in (STRIPE_CUSTOMER, SECOND)))
    )
    assert exported(other) == exported(service)


def test_an_array_followed_by_more_lines_is_refused_whole(service: CustomerService) -> None:
    data = json.dumps([STRIPE_CUSTOMER]).encode() + b"\n" + json.dumps(SECOND).encode() + b"\n"
    with pytest.raises(TransferError) as caught:
        import_customers(service, io.BytesIO(data))
    assert caught.value.message == "line 2: not valid JSON (trailing characters at column 1)"
    assert service.list().data == []


def tax_id(n: int) -> dict[str, Any]:
    return {
        "id": f"txi_{n:014d}",
        "object": "tax_id",
        "country": "US",
        "created": 1680893993 + n,
        "customer": STRIPE_CUSTOMER["id"],
        "livemode": False,
        "owner": {"customer": STRIPE_CUSTOMER["id"], "type": "customer"},
        "type": "us_ein",
        "value": f"12-345678{n}",
        "verification": {"status": "unavailable", "verified_address": None, "verified_name": None},
    }


def with_tax_ids(has_more: bool) -> bytes:
    listed = {"object": "list", "data": [tax_id(n) for n in range(2)], "has_more": has_more}
    listed["url"] = f"/v1/customers/{STRIPE_CUSTOMER['id']}/tax_ids"
    return json.dumps({**STRIPE_CUSTOMER, "tax_ids": listed}).encode() + b"\n"


def test_a_tax_ids_list_cut_short_is_refused_and_nothing_is_imported(
    service: CustomerService,
) -> None:
    with pytest.raises(TransferError) as caught:
        import_customers(service, io.BytesIO(with_tax_ids(has_more=True)))
    assert caught.value.param == "tax_ids.has_more"
    assert caught.value.message == (
        "line 1: tax_ids.has_more: the customer's tax_ids list holds only the first 2 of its "
        "tax IDs (has_more: true): give them all as tax ID lines of their own, or set "
        "has_more to false to import only these"
    )
    assert service.list().data == []


def test_a_whole_tax_ids_list_imports_its_tax_ids(service: CustomerService) -> None:
    result = import_customers(service, io.BytesIO(with_tax_ids(has_more=False)))
    assert (result.created, result.tax_ids) == (1, 2)
    listed = service.tax_ids.list(STRIPE_CUSTOMER["id"])
    assert [t.value for t in listed.data] == ["12-3456781", "12-3456780"]


@pytest.mark.parametrize(
    ("cut", "reason"),
    [
        (
            b'[{"id":"cus_A"},',
            "line 1: not valid JSON (EOF while parsing a value at column 16): the line ends before its JSON does (cut short?)",
        ),
        (
            b'[{"id":"cus_A","name":"Jen',
            "line 1: not valid JSON (EOF while parsing a string at column 26): the line ends before its JSON does (cut short?)",
        ),
    ],
)
def test_a_one_line_array_cut_short_names_its_own_line(
    service: CustomerService, cut: bytes, reason: str
) -> None:
    with pytest.raises(TransferError) as caught:
        import_customers(service, io.BytesIO(cut + b"\n"))
    assert caught.value.message == reason


@pytest.mark.parametrize(
    ("indent", "where"),
    [(None, "line 1, [1]"), (2, "[1]")],  # a pretty-printed array spans lines: its index alone
)
def test_a_bad_customer_in_an_array_names_its_line_and_index(
    service: CustomerService, indent: int | None, where: str
) -> None:
    data = json.dumps([STRIPE_CUSTOMER, {**SECOND, "email": "bad"}], indent=indent).encode()
    with pytest.raises(TransferError) as caught:
        import_customers(service, io.BytesIO(data + b"\n"))
    assert caught.value.message == f"{where}: email: Invalid email address: bad"
    assert (caught.value.line, caught.value.param) == (1 if indent is None else None, "email")
    assert service.list().data == []
