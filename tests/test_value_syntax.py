"""Values checked against a syntax are checked whole: no trailing newline, no control characters."""

from __future__ import annotations

import pytest

from customer_core import CustomerService
from customer_core.errors import InvalidRequestError


@pytest.mark.parametrize(
    "email",
    [
        "jenny@example.com\n",
        "jenny@example.com\r\n",
        "jen\x00ny@example.com",
        "jenny@exam\x01ple.com",
        "jenny@example.c\x7fom",
    ],
)
def test_an_email_with_a_newline_or_control_character_is_invalid(
    service: CustomerService, email: str
) -> None:
    with pytest.raises(InvalidRequestError) as raised:
        service.create(email=email)
    error = raised.value
    assert (error.code, error.param, error.message) == (
        "email_invalid",
        "email",
        f"Invalid email address: {email}",
    )
    customer = service.create(email="jenny@example.com")
    with pytest.raises(InvalidRequestError):
        service.update(customer.id, email=email)
    assert service.retrieve(customer.id).email == "jenny@example.com"
    assert len(service.list(limit=100).data) == 1


@pytest.mark.parametrize("prefix", ["ABC\n", "ABC\x00", "AB C"])
def test_an_invoice_prefix_with_a_newline_or_control_character_is_invalid(
    service: CustomerService, prefix: str
) -> None:
    with pytest.raises(InvalidRequestError) as raised:
        service.create(invoice_prefix=prefix)
    assert (raised.value.param, raised.value.message) == (
        "invoice_prefix",
        "Invalid invoice_prefix: must be 1 to 12 uppercase letters or numbers",
    )
    assert service.list(limit=100).data == []


def test_plain_addresses_and_prefixes_still_pass(service: CustomerService) -> None:
    customer = service.create(email="jenny.rosen+tag@mail.example.co.uk", invoice_prefix="ABC123")
    assert (customer.email, customer.invoice_prefix) == (
        "jenny.rosen+tag@mail.example.co.uk",
        "ABC123",
    )
