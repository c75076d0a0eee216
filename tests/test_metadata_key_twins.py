"""In-process metadata keys that are not strings become their wire text (``1`` -> ``"1"``);
two keys of one mapping with the same text (``1`` and ``"1"``) are refused, since one of
their values would be lost, on create and on update, on every store, changing nothing."""

from __future__ import annotations

import pytest

from customer_core import CustomerService, InvalidRequestError
from customer_core.models import Customer

TWINS = [
    ({1: "a", "1": "b"}, 'Invalid key: 1 and "1" are both the key "1"'),
    ({"1": "a", 1: "b"}, 'Invalid key: "1" and 1 are both the key "1"'),
    ({True: "a", "true": "b"}, 'Invalid key: true and "true" are both the key "true"'),
    ({1.5: "a", "1.5": ""}, 'Invalid key: 1.5 and "1.5" are both the key "1.5"'),
    ({"plan": "x", 7: "", "7": "y"}, 'Invalid key: 7 and "7" are both the key "7"'),
]
SUFFIX = " (metadata keys are strings): send it once"


def refused(call: object, message: str) -> None:
    assert callable(call)
    with pytest.raises(InvalidRequestError) as caught:
        call()
    error = caught.value
    assert (error.message, error.param, error.http_status) == (message + SUFFIX, "metadata", 400)
    assert error.to_dict() == {
        "error": {"message": message + SUFFIX, "param": "metadata", "type": "invalid_request_error"}
    }


@pytest.mark.parametrize(("metadata", "message"), TWINS)
def test_a_create_with_twin_keys_is_refused_and_stores_nothing(
    service: CustomerService, metadata: dict[object, str], message: str
) -> None:
    refused(lambda: service.create(email="twin@example.com", metadata=metadata), message)
    assert service.list().data == []
    assert service.events.list().data == []


@pytest.mark.parametrize(("metadata", "message"), TWINS)
def test_an_update_with_twin_keys_is_refused_and_changes_nothing(
    service: CustomerService, metadata: dict[object, str], message: str
) -> None:
    made = service.create(email="twin@example.com", metadata={"1": "kept", "true": "kept"})
    refused(lambda: service.update(made.id, metadata=metadata), message)
    after: Customer = service.retrieve(made.id)  # type: ignore[assignment]
    assert after == made
    assert [event.type for event in service.events.list().data] == ["customer.created"]


def test_keys_that_are_not_strings_still_become_their_wire_text(service: CustomerService) -> None:
    made = service.create(metadata={1: "one", False: "no", 2.5: 3, "plan": "gold"})
    assert made.metadata == {"1": "one", "false": "no", "2.5": "3", "plan": "gold"}
    updated = service.update(made.id, metadata={1: "", 2.5: "half", 8: 8})
    assert updated.metadata == {"false": "no", "2.5": "half", "plan": "gold", "8": "8"}
