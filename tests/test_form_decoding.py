"""The form decoder never lets one value silently replace another written as a hash or array."""

from __future__ import annotations

import pytest

from customer_core.errors import InvalidRequestError
from customer_core.http.forms import decode


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            "created[gt]=1&created=5",
            "Parameter 'created' conflicts with another value given for 'created'.",
        ),
        (
            "metadata[plan]=gold&metadata=",
            "Parameter 'metadata' conflicts with another value given for 'metadata'.",
        ),
        (
            "expand[]=tax&expand=tax",
            "Parameter 'expand' conflicts with another value given for 'expand'.",
        ),
        (
            "address[city]=Paris&address[city][x]=1",
            "Parameter 'address[city][x]' conflicts with another value given for 'address[city]'.",
        ),
        (
            "metadata[a]=1&metadata[a][b]=2",
            "Parameter 'metadata[a][b]' conflicts with another value given for 'metadata[a]'.",
        ),
        (
            "shipping[address][city]=Paris&shipping[address]=x",
            "Parameter 'shipping[address]' conflicts with another value given for 'shipping[address]'.",
        ),
    ],
)
def test_a_value_after_a_hash_or_array_of_the_same_name_is_refused(body: str, message: str) -> None:
    with pytest.raises(InvalidRequestError) as raised:
        decode(body)
    assert (raised.value.message, raised.value.param, raised.value.http_status) == (
        message,
        None,
        400,
    )


def test_a_repeated_plain_value_still_wins_last() -> None:
    assert decode("name=a&name=b&metadata[k]=1&metadata[k]=2") == {
        "name": "b",
        "metadata": {"k": "2"},
    }


def test_a_name_ending_in_a_newline_is_not_read_as_another_name() -> None:
    with pytest.raises(InvalidRequestError) as raised:
        decode("metadata[plan]%0A=gold")
    assert raised.value.message.startswith("Invalid parameter name: ")
