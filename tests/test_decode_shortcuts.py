"""The form decoder and the params' shortcuts give what the general paths give: names that
go into the same hash one after another or interleaved, arrays given as hashes of indexes."""

from __future__ import annotations

from typing import Any

import pytest

from customer_core import CustomerService, MemoryStore
from customer_core.errors import InvalidRequestError
from customer_core.http.forms import decode


def test_interleaved_hashes_are_each_filled() -> None:
    body = (
        "address[city]=Paris&metadata[a]=1&address[line1]=Rivoli&metadata[b]=2"
        "&shipping[address][city]=Lyon&shipping[name]=J&shipping[address][line1]=x"
        "&expand[]=tax&address[country]=FR&expand[]=tax_ids"
    )
    assert decode(body) == {
        "address": {"city": "Paris", "line1": "Rivoli", "country": "FR"},
        "metadata": {"a": "1", "b": "2"},
        "shipping": {"address": {"city": "Lyon", "line1": "x"}, "name": "J"},
        "expand": ["tax", "tax_ids"],
    }


@pytest.mark.parametrize(
    "body",
    ["address[city]=Paris&address=x", "address[city]=Paris&address[city][x]=1", "a[]=1&a[k]=2"],
)
def test_conflicts_after_a_shared_hash_are_still_refused(body: str) -> None:
    with pytest.raises(InvalidRequestError):
        decode(body)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ({"0": "fr", "1": "en"}, ["fr", "en"]),
        ({"1": "en", "0": "fr"}, ["fr", "en"]),
        ({"0": "fr", "2": "en"}, "Invalid array: indexes must run 0, 1, 2, ... without gaps"),
        ({"00": "fr"}, "Invalid array: indexes must run 0, 1, 2, ... without gaps"),
        ({}, "Invalid array for preferred_locales"),
        ({"a": "fr"}, "Invalid array for preferred_locales"),
    ],
)
def test_an_array_given_as_a_hash_of_indexes(given: dict[str, str], expected: Any) -> None:
    service = CustomerService(MemoryStore())
    if isinstance(expected, list):
        assert service.create(preferred_locales=given).preferred_locales == expected
        return
    with pytest.raises(InvalidRequestError) as raised:
        service.create(preferred_locales=given)
    assert raised.value.message.startswith(expected)
    assert raised.value.param == "preferred_locales"
