"""An id that is not a string, given to a retrieve, update or delete in Python, is one
400 naming the param on every object (customer, event, webhook endpoint, tax ID), never a
404 about a Python repr or a TypeError; a non-callable subscriber is refused at once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from customer_core import CustomerService, InvalidRequestError


def _calls(service: CustomerService) -> list[tuple[Callable[[], Any], str, str]]:
    customer = service.create(email="amy@example.com")
    return [
        (
            lambda: service.retrieve(None),
            "id",
            "Invalid id: None (expected an id such as 'cus_...')",
        ),
        (
            lambda: service.update(5, name="x"),
            "id",
            "Invalid id: 5 (expected an id such as 'cus_...')",
        ),
        (
            lambda: service.delete(b"cus_1"),
            "id",
            "Invalid id: b'cus_1' (expected an id such as 'cus_...')",
        ),
        (
            lambda: service.events.retrieve(None),
            "id",
            "Invalid id: None (expected an id such as 'evt_...')",
        ),
        (
            lambda: service.webhook_endpoints.retrieve(5),
            "id",
            "Invalid id: 5 (expected an id such as 'we_...')",
        ),
        (
            lambda: service.webhook_endpoints.update(["we_1"], description="x"),
            "id",
            "Invalid id: ['we_1'] (expected an id such as 'we_...')",
        ),
        (
            lambda: service.webhook_endpoints.delete(None),
            "id",
            "Invalid id: None (expected an id such as 'we_...')",
        ),
        (
            lambda: service.tax_ids.retrieve(customer.id, 7),
            "id",
            "Invalid id: 7 (expected an id such as 'txi_...')",
        ),
    ]


def test_a_non_string_id_is_a_400_naming_the_param(service: CustomerService) -> None:
    for call, param, message in _calls(service):
        before = (service.list().to_dict(), service.events.list().to_dict())
        with pytest.raises(InvalidRequestError) as caught:
            call()
        assert (caught.value.param, caught.value.message, caught.value.http_status) == (
            param,
            message,
            400,
        )
        assert caught.value.code is None
        assert (service.list().to_dict(), service.events.list().to_dict()) == before


def test_an_unknown_string_id_is_still_a_404(service: CustomerService) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        service.events.retrieve("evt_nope")
    assert (caught.value.code, caught.value.http_status) == ("resource_missing", 404)
    assert caught.value.message == "No such event: 'evt_nope'"
    with pytest.raises(InvalidRequestError) as caught:
        service.webhook_endpoints.delete("we_nope")
    assert (caught.value.code, caught.value.http_status) == ("resource_missing", 404)


def test_a_subscriber_that_cannot_be_called_is_refused(service: CustomerService) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        service.subscribe("notcallable")  # type: ignore[arg-type]
    assert caught.value.param == "callback"
    assert caught.value.message == (
        "Invalid callback: 'notcallable' is not callable; pass a function taking an Event."
    )
    seen: list[str] = []
    service.subscribe(lambda event: seen.append(event.type))
    service.create(name="Jenny")
    assert seen == ["customer.created"]


@pytest.mark.parametrize(
    ("value", "shown"),
    [(["x"], '["x"]'), ({"first": "J"}, '{"first": "J"}'), ([{"a": ["b"]}], '[{"a": ["b"]}]')],
)
def test_a_list_or_hash_for_a_string_is_shown_as_json(
    service: CustomerService, value: object, shown: str
) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        service.create(name=value)
    assert (caught.value.param, caught.value.message) == ("name", f"Invalid string: {shown}")
