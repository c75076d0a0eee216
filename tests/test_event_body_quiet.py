"""``sql.event_body``: the body of an event with no request id or key and no
pending webhooks, made from a fixed tail per type, is byte for byte the JSON of
``event_of`` (as the general path and the other stores write it)."""

from __future__ import annotations

import pydantic_core
import pytest

from customer_core.store.base import event_of
from customer_core.store.sql import event_body

TYPES = [
    "customer.created",
    "customer.updated",
    "customer.deleted",
    "customer.tax_id.created",
    "customer.tax_id.updated",
    "customer.tax_id.deleted",
]
EVENT_ID = "evt_01KBGACVQKV3RS3DTR98H6BCFN"
CUSTOMER = {"id": "cus_1", "object": "customer", "name": 'Zoë "Z" O\'Neil', "metadata": {}}
PREVIOUS = {"name": "Jenny Rosen", "metadata": {"plan": "gold", "seats": None}}


def _json(value: object) -> str:
    return pydantic_core.to_json(value).decode()


@pytest.mark.parametrize("type", TYPES)
@pytest.mark.parametrize("previous", [None, PREVIOUS])
@pytest.mark.parametrize(
    ("request_id", "idempotency_key", "pending"),
    [
        (None, None, 0),  # the fixed tail
        (None, None, 2),
        ("req_abc", None, 0),
        (None, "key-1", 0),
        ("req_abc", 'a "quoted" key', 1),
    ],
)
def test_the_body_is_the_json_of_event_of(
    type: str,
    previous: dict[str, object] | None,
    request_id: str | None,
    idempotency_key: str | None,
    pending: int,
) -> None:
    body = event_body(
        EVENT_ID,
        1_764_705_595,
        type,
        _json(CUSTOMER),
        request_id,
        idempotency_key,
        pending,
        None if previous is None else _json(previous),
    )
    expected = event_of(
        EVENT_ID, 1_764_705_595, type, CUSTOMER, request_id, idempotency_key, pending, previous
    )
    assert body == _json(expected)


def test_the_tail_is_not_used_for_a_type_of_another_library() -> None:
    """A type this library does not record is not written as it is, tail or not."""
    assert event_body(EVENT_ID, 1, "invoice.paid", "{}", None, None, 0, None) is None
    assert event_body(EVENT_ID, 1, 'customer.updated"', "{}", None, None, 0, None) is None


def test_an_id_that_is_not_ours_gets_no_body_on_either_path() -> None:
    for pending in (0, 1):
        assert event_body("evt_a-b", 1, "customer.created", "{}", None, None, pending, None) is None
        assert event_body("xyz_abc", 1, "customer.created", "{}", None, None, pending, None) is None
