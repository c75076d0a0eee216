"""What an event records of its request (``request_id``, the idempotency key) is text or
None on every store. A request_id of another type (or a key on a delete, which no check
saw) used to be written into the event: every later read of the event failed with a raw
pydantic ValidationError, and a str subclass broke a MemoryStore's snapshot. Now such a
call is a 400 on ``request_id`` (or ``idempotency_key``) and writes nothing."""

from __future__ import annotations

from typing import Any

import pytest

from customer_core import Customer, CustomerService, InvalidRequestError


class Text(str):
    """A str subclass (as a str enum or a web framework's safe string is)."""


NOT_TEXT: list[tuple[object, str]] = [
    ([1], "[1]"),
    (123, "123"),
    (b"req", "b'req'"),
    (float("nan"), "nan"),
    (True, "True"),
    ("req\x00", "'req\\x00'"),
    ("req\udcff", "'req\\udcff'"),
]


def create(service: CustomerService, **options: Any) -> str:
    """A new customer's id, made through ``perform`` with ``options`` (request_id, ...)."""
    customer = service.perform("create", {"name": "Jenny"}, **options).result
    assert isinstance(customer, Customer)
    return customer.id


def names(service: CustomerService) -> list[str | None]:
    return [customer.name for customer in service.list().data]


def requests_recorded(service: CustomerService) -> list[tuple[str, Any, Any]]:
    return [
        (
            event.type,
            event.request and event.request.id,
            event.request and event.request.idempotency_key,
        )
        for event in reversed(service.events.list(limit=100).data)
    ]


@pytest.mark.parametrize(("request_id", "shown"), NOT_TEXT)
def test_a_request_id_that_is_not_text_is_refused_before_any_write(
    service: CustomerService, request_id: object, shown: str
) -> None:
    kept = create(service, request_id="req_1")
    with pytest.raises(InvalidRequestError) as caught:
        service.perform("create", {"name": "Jo"}, request_id=request_id)  # type: ignore[arg-type]
    assert caught.value.to_dict() == {
        "error": {
            "message": f"Invalid request_id: {shown}; it must be Unicode text without NUL "
            "characters (such as an HTTP Request-Id), or None.",
            "param": "request_id",
            "type": "invalid_request_error",
        }
    }
    assert caught.value.http_status == 400
    for operation, params in (("update", {"name": "Jo"}), ("delete", {})):
        with pytest.raises(InvalidRequestError):
            service.perform(operation, params, id=kept, request_id=request_id)  # type: ignore[arg-type]
    with pytest.raises(InvalidRequestError):
        service.tax_ids.perform(
            "create",
            {"type": "eu_vat", "value": "DE123456789"},
            customer=kept,
            request_id=request_id,  # type: ignore[arg-type]
        )
    assert names(service) == ["Jenny"]
    assert service.tax_ids.list(kept).data == []
    assert requests_recorded(service) == [("customer.created", "req_1", None)]


@pytest.mark.parametrize(("key", "shown"), [([1], "[1]"), (123, "123"), (b"k", "b'k'")])
def test_a_key_on_a_delete_that_is_not_a_string_is_refused(
    service: CustomerService, key: object, shown: str
) -> None:
    customer = create(service)
    with pytest.raises(InvalidRequestError) as caught:
        service.perform("delete", id=customer, idempotency_key=key)  # type: ignore[arg-type]
    assert caught.value.message == (
        f"Invalid idempotency key: {shown}; use a non-empty string such as a V4 UUID."
    )
    assert caught.value.param == "idempotency_key"
    assert names(service) == ["Jenny"]
    assert requests_recorded(service) == [("customer.created", None, None)]


def test_a_key_on_a_delete_with_a_nul_is_refused_as_on_a_create(
    service: CustomerService,
) -> None:
    customer = create(service)
    with pytest.raises(InvalidRequestError) as caught:
        service.perform("delete", id=customer, idempotency_key="k\x00")
    assert caught.value.message == (
        "Invalid idempotency key: 'k\\x00'; it must be Unicode text without NUL characters, "
        "such as a V4 UUID."
    )
    assert names(service) == ["Jenny"]


def test_a_long_key_on_a_delete_is_still_recorded_as_stripe_ignores_it(
    service: CustomerService,
) -> None:
    customer = create(service)
    service.perform("delete", id=customer, idempotency_key="k" * 300)
    assert requests_recorded(service)[-1] == ("customer.deleted", None, "k" * 300)


def test_text_of_a_str_subclass_is_recorded_as_plain_text(service: CustomerService) -> None:
    customer = create(service, request_id=Text("req_1"), idempotency_key=Text("key-é"))
    service.tax_ids.perform(
        "create",
        {"type": "eu_vat", "value": "DE123456789"},
        customer=customer,
        request_id=Text("req_2"),
    )
    service.perform("delete", id=customer, request_id="req_3", idempotency_key=Text("k3"))
    assert requests_recorded(service) == [
        ("customer.created", "req_1", "key-é"),
        ("customer.tax_id.created", "req_2", None),
        ("customer.tax_id.deleted", "req_3", "k3"),
        ("customer.deleted", "req_3", "k3"),
    ]
    for event in service.events.list().data:
        assert event.request is not None
        assert {type(event.request.id), type(event.request.idempotency_key)} <= {str, type(None)}
    service.snapshot()  # a MemoryStore refused to checkpoint an event holding a str subclass
