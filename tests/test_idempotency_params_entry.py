"""An idempotency entry keeps the params of a wire-shaped request (strings in plain dicts
and lists) instead of their fingerprint, which is then taken only if the key comes again;
other params keep the fingerprint. Either way a retry replays or is refused as before, on
every store (the SQL stores keep entries as JSON)."""

from __future__ import annotations

from typing import Any

import pytest

from customer_core import CustomerService, IdempotencyError, InvalidRequestError, idempotency

WIRE = {
    "email": "a@example.com",
    "metadata": {"plan": "gold", "seats": "3"},
    "preferred_locales": {"0": "fr", "1": "en"},
    "expand": ["tax"],
}
MISMATCH = "Keys for idempotent requests can only be used with the same parameters"


def test_a_wire_request_keeps_its_params(service: CustomerService) -> None:
    first = service.perform("create", WIRE, idempotency_key="k")
    entry = service.store.idempotency_get("k")
    assert entry is not None and "fingerprint" not in entry
    assert entry["params"] == WIRE
    assert idempotency.saved_fingerprint(entry) == idempotency.fingerprint(WIRE)
    reordered = {key: WIRE[key] for key in reversed(list(WIRE))}
    reordered["metadata"] = {"seats": "3", "plan": "gold"}
    again = service.perform("create", reordered, idempotency_key="k")
    assert again.replayed and again.to_json() == first.to_json()
    with pytest.raises(IdempotencyError) as raised:
        service.perform("create", {**WIRE, "email": "b@example.com"}, idempotency_key="k")
    assert raised.value.message.startswith(MISMATCH)
    assert len(service.list().data) == 1


@pytest.mark.parametrize(
    "params",
    [
        {"email": "a@example.com", "balance": 5},  # an int: not what the wire gives
        {"email": "a@example.com", "metadata": {1: "x"}},  # a key that is not a string
        {"email": "a@example.com", "preferred_locales": ("fr", None)},
    ],
)
def test_other_params_keep_their_fingerprint(service: CustomerService, params: Any) -> None:
    try:
        service.perform("create", params, idempotency_key="k")
    except InvalidRequestError:  # refused by validation: nothing saved
        assert service.store.idempotency_get("k") is None
        return
    entry = service.store.idempotency_get("k")
    assert entry is not None and "params" not in entry
    assert entry["fingerprint"] == idempotency.fingerprint(params)
    assert service.perform("create", params, idempotency_key="k").replayed


def test_a_tuple_and_a_list_are_the_same_params(service: CustomerService) -> None:
    service.perform("create", {"expand": ("tax",)}, idempotency_key="k")
    assert service.perform("create", {"expand": ["tax"]}, idempotency_key="k").replayed


def test_a_saved_error_replays_from_an_entry_with_params(service: CustomerService) -> None:
    params = {"payment_method": "pm_missing"}
    with pytest.raises(InvalidRequestError) as first:
        service.perform("create", params, idempotency_key="k")
    entry = service.store.idempotency_get("k")
    assert entry is not None and entry["params"] == params and entry["status"] == 400
    with pytest.raises(InvalidRequestError) as again:
        service.perform("create", dict(params), idempotency_key="k")
    assert again.value.to_dict() == first.value.to_dict() and again.value.replayed
