"""The Stripe API version an export's header names (issue 15's leftover): customers of our
version or an earlier one import (earlier versions' field names are read under their
current ones), a later or unknown version is refused before any customer is read."""

from __future__ import annotations

import io
import json

import pytest

from customer_core import CustomerService, MemoryStore
from customer_core.transfer import API_VERSION, TransferError, import_customers

from .test_transfer import STRIPE_CUSTOMER

END = (
    '{"object":"customer_core.end","customers":1,"tax_ids":0,"deleted_customers":0,'
    '"invoice_prefixes":0}'
)


def export_of(api_version: str, customer: dict[str, object] = STRIPE_CUSTOMER) -> bytes:
    header = {"format": "customer_core.customers", "version": 1, "api_version": api_version}
    return f"{json.dumps(header)}\n{json.dumps(customer)}\n{END}\n".encode()


@pytest.mark.parametrize("api_version", [API_VERSION, "2019-10-17", "2025-03-31.basil"])
def test_our_api_version_or_an_earlier_one_imports(api_version: str) -> None:
    service = CustomerService(MemoryStore())
    assert import_customers(service, io.BytesIO(export_of(api_version))).created == 1
    assert service.store.count() == 1


def test_an_earlier_versions_field_names_are_read_under_their_current_ones() -> None:
    older = {**STRIPE_CUSTOMER, "account_balance": 250}
    del older["balance"]
    service = CustomerService(MemoryStore())
    import_customers(service, io.BytesIO(export_of("2019-10-16", older)))
    assert service.retrieve(STRIPE_CUSTOMER["id"]).balance == 250  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("api_version", "reason"),
    [
        (
            "2027-01-01",
            "the customers are of Stripe API version 2027-01-01, newer than this "
            "customer_core's 2026-09-30: upgrade customer_core to import them",
        ),
        (
            "2026-10-01.clover",
            "the customers are of Stripe API version 2026-10-01.clover, newer than this "
            "customer_core's 2026-09-30: upgrade customer_core to import them",
        ),
        (
            "latest",
            'not a Stripe API version: "latest"; expected a date such as 2026-09-30 '
            "(the version of the customer objects in the file)",
        ),
        (
            "2026-9-30",
            'not a Stripe API version: "2026-9-30"; expected a date such as 2026-09-30 '
            "(the version of the customer objects in the file)",
        ),
    ],
)
def test_a_later_or_unknown_api_version_is_refused_before_any_customer(
    api_version: str, reason: str
) -> None:
    service = CustomerService(MemoryStore())
    with pytest.raises(TransferError) as caught:
        import_customers(service, io.BytesIO(export_of(api_version)))
    assert caught.value.message == f"line 1: api_version: {reason}"
    assert (caught.value.line, caught.value.param) == (1, "api_version")
    assert service.store.count() == 0
