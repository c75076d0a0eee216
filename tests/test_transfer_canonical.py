"""The fast check of customer lines written as an export writes them
(customer_core.canonical_line): every line it accepts, the full check accepts with the
same stored record, key order included; what it refuses the full check decides."""

from __future__ import annotations

import io
from typing import Any

import pydantic_core
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from customer_core import CustomerService, MemoryStore
from customer_core import transfer as transfer_module
from customer_core.canonical_line import canonical_record
from customer_core.errors import InvalidRequestError
from customer_core.testing import FakeClock
from customer_core.transfer import TransferError, export_customers, import_customers

from .test_transfer import fill

NOW = 1_700_000_000


def full_check(line: bytes) -> dict[str, Any] | None:
    """The record the full check makes of a line, or None if it refuses the line."""
    try:
        values = transfer_module._CUSTOMER.validate_json(line)
        return CustomerService.stored_record(values)
    except (ValidationError, InvalidRequestError):
        return None


def agree(line: bytes) -> bool:
    """Whether the fast check took the line; if it did, the full check gives the same."""
    fast = canonical_record(line)
    if fast is None:
        return False
    full = full_check(line)
    assert full is not None, line
    assert pydantic_core.to_json(fast) == pydantic_core.to_json(full), line
    return True


def exported_customers() -> list[bytes]:
    clock = FakeClock(NOW)
    service = CustomerService(MemoryStore(), clock=clock, seed=3)
    fill(service, clock)
    service.create(
        email="a.b+c%d@x-y.example.co",
        name="x" * 256,
        phone="1" * 20,
        individual_name="y" * 150,
        metadata={f"k{n}": "v" * 500 for n in range(49)} | {"k" * 40: "w"},
        address={"city": "Paris", "line1": "1 rue de Rivoli"},
        shipping={"name": "S", "address": {"line1": "1 Road"}, "phone": "+1"},
        invoice_settings={"rendering_options": {"template": "t"}, "custom_fields": None},
        invoice_prefix="A" * 12,
        next_invoice_sequence=1_000_000_000,
        balance=-(2**63),
    )
    target = io.BytesIO()
    export_customers(service, target)
    lines = target.getvalue().splitlines()
    return [line for line in lines if line.startswith(b'{"id":"cus_') and b'"deleted"' not in line]


EXPORTED = exported_customers()


@pytest.mark.parametrize("line", EXPORTED, ids=range(len(EXPORTED)))
def test_every_exported_customer_takes_the_fast_check_with_the_full_checks_record(
    line: bytes,
) -> None:
    assert agree(line)


BASE = next(pydantic_core.from_json(line) for line in EXPORTED if b"AAAAAAAAAAAA" in line)


FIELD = {"name": "VAT", "value": "FR123"}


def variant(**changes: Any) -> bytes:
    return pydantic_core.to_json({**BASE, **changes})


# Values at and past each rule's limit, and values the full check converts: the fast
# check takes the first kind only where the full check gives the same record.
VARIANTS = [
    ({"name": "x" * 257}, False),
    ({"phone": "1" * 21}, False),
    ({"description": "d" * 5000}, True),
    ({"description": "d" * 5001}, False),
    ({"description": ""}, False),  # "" is unset: the full check stores null
    ({"email": "not-an-email"}, False),
    ({"email": "jenny@example.com\n"}, False),
    ({"email": "jénny@example.com"}, False),  # valid, but for the full check to decide
    ({"email": None}, True),
    ({"invoice_prefix": "lower"}, False),
    ({"invoice_prefix": "A" * 13}, False),
    ({"invoice_prefix": None}, False),  # made by the import
    ({"metadata": {f"k{n}": "v" for n in range(51)}}, False),
    ({"metadata": {"k" * 41: "v"}}, False),
    ({"metadata": {"k[1]": "v"}}, False),
    ({"metadata": {"k": "v" * 501}}, False),
    ({"metadata": {"k": ""}}, False),  # "" unsets: the full check drops the key
    ({"metadata": {"k": 3}}, False),  # numbers become strings in the full check
    ({"metadata": {}}, True),
    ({"balance": 2**63}, False),
    ({"balance": "12"}, False),
    ({"created": -1}, False),
    ({"next_invoice_sequence": 0}, False),
    ({"next_invoice_sequence": 1_000_000_001}, False),
    ({"tax_exempt": None}, False),
    ({"tax_exempt": "reverse"}, True),
    ({"preferred_locales": [""]}, False),
    ({"preferred_locales": None}, False),
    ({"address": {"city": "Paris"}}, False),  # the full check completes it
    ({"address": None}, True),
    ({"shipping": None}, True),
    ({"delinquent": None}, True),
    ({"livemode": "true"}, False),
    ({"business_name": None}, False),
    ({"id": "cus_"}, False),
    ({"id": "cus_" + "a" * 252}, False),
    ({"object": "invoice"}, False),
    ({"discount": {"id": "di_1", "object": "discount", "coupon": {"percent_off": 10}}}, False),
    ({"livemode": True}, False),  # refused by the full check
    ({"tax_ids": {"object": "list", "data": []}}, False),
    ({"name": "nul\x00"}, False),  # free text holds no NUL
    ({"currency": "e\x00r"}, False),  # a field only Stripe sets may: the full check decides
    ({"metadata": {"k\x00": "v"}}, False),
    ({"metadata": {"k": "v\x00"}}, False),
    ({"preferred_locales": ["en"] * 50}, True),
    ({"preferred_locales": ["en"] * 51}, False),
    ({"address": {**BASE["address"], "city": "Pa\x00ris"}}, False),
    ({"invoice_settings": {**BASE["invoice_settings"], "custom_fields": [FIELD] * 4}}, True),
    ({"invoice_settings": {**BASE["invoice_settings"], "custom_fields": [FIELD] * 5}}, False),
]


@pytest.mark.parametrize(("changes", "fast"), VARIANTS)
def test_limits_and_conversions_are_left_to_the_full_check(
    changes: dict[str, Any], fast: bool
) -> None:
    assert agree(variant(**changes)) is fast


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=6,
)
_NESTED = {
    "address": BASE["address"] or {},
    "invoice_settings": BASE["invoice_settings"],
    "shipping": BASE["shipping"] or {},
}


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(field=st.sampled_from(sorted(BASE)), value=_JSON, data=st.data())
def test_any_value_anywhere_is_taken_only_as_the_full_check_takes_it(
    field: str, value: Any, data: st.DataObject
) -> None:
    agree(variant(**{field: value}))
    nested = data.draw(st.sampled_from(sorted(_NESTED)))
    inner = _NESTED[nested]
    name = data.draw(st.sampled_from(sorted(inner) + [field]))
    agree(variant(**{nested: {**inner, name: value}}))


def test_a_line_the_fast_check_refuses_gets_the_full_checks_error() -> None:
    service = CustomerService(MemoryStore())
    data = b"\n".join([EXPORTED[0], variant(phone="1" * 21)])
    with pytest.raises(TransferError) as caught:
        import_customers(service, io.BytesIO(data))
    assert (caught.value.line, caught.value.param) == (2, "phone")
    assert "must be at most 20 characters" in caught.value.reason
    assert service.store.count() == 0
