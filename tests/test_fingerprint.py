"""Idempotency fingerprints: canonical JSON of the params as received. Params from the
wire (string keys only) take a shortcut; it must give what the general path gives."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

import pytest

from customer_core import idempotency
from customer_core.errors import InvalidRequestError
from customer_core.http.forms import decode

WIRE = decode(
    b"name=Jenny&metadata[b]=2&metadata[a]=1&preferred_locales[0]=fr&expand[]=tax"
    b"&invoice_settings[custom_fields][0][name]=PO&invoice_settings[custom_fields][0][value]=7"
)
CASES: list[Any] = [
    WIRE,
    {},
    {"email": None, "balance": 12, "tax_exempt": True},
    {"metadata": {1: "x", "b": "y"}},
    {"metadata": OrderedDict([(1, "x")])},
    {"invoice_settings": {"custom_fields": [{"name": "PO", 3: "x"}]}},
    {"preferred_locales": ("fr", ["en", {"k": (1, 2)}])},
    {"metadata": {(1, 2): "x"}},
    {"a": 1.5, "b": None, "c": True, "d": "é\u2028\x00", "e": [1, {"z": "y", "a": float("nan")}]},
    {"balance": -(2**70), "tax_exempt": b"bytes", "expand": ("tax", ["x"])},
]


@pytest.mark.parametrize("params", CASES)
def test_the_shortcut_gives_the_general_fingerprint(params: Any) -> None:
    general = idempotency._CANONICAL.encode(idempotency._string_keys(params))
    assert idempotency.fingerprint(params) == general


def test_equal_params_in_another_order_have_equal_fingerprints() -> None:
    reordered = {key: WIRE[key] for key in reversed(list(WIRE))}
    reordered["metadata"] = {"a": "1", "b": "2"}
    assert idempotency.fingerprint(reordered) == idempotency.fingerprint(WIRE)
    assert idempotency.fingerprint(WIRE) == (
        '{"expand":["tax"],"invoice_settings":{"custom_fields":{"0":{"name":"PO","value":"7"}}},'
        '"metadata":{"a":"1","b":"2"},"name":"Jenny","preferred_locales":{"0":"fr"}}'
    )


def test_a_key_that_is_not_a_string_is_not_its_text() -> None:
    assert idempotency.fingerprint({"metadata": {1: "x"}}) != idempotency.fingerprint(
        {"metadata": {"1": "x"}}
    )
    assert idempotency.fingerprint({"metadata": OrderedDict([(1, "x")])}) != (
        idempotency.fingerprint({"metadata": {"1": "x"}})
    )


def test_a_params_value_holding_itself_is_refused() -> None:
    circular: dict[str, Any] = {"a": []}
    circular["a"].append(circular)
    with pytest.raises(InvalidRequestError) as raised:
        idempotency.fingerprint(circular)
    assert (
        raised.value.message == "Invalid parameters: a value holds itself or is nested too deeply."
    )
