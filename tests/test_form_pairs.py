"""The decoder's split into pairs gives what ``urllib.parse.parse_qsl`` gives, on the
SDKs' bodies and on bodies made to break its shortcuts (escaped separators, ``+``, raw
non-ASCII text, escapes of multi-byte and of invalid UTF-8)."""

from __future__ import annotations

import random
from urllib.parse import parse_qsl

import pytest

from customer_core.errors import InvalidRequestError
from customer_core.http.forms import _fields, decode

SDK_BODY = (
    "name=Kaka+Kakaka&email=customer0%40example.com&description=A+test+customer"
    "&phone=%2B15555550123&address[city]=Paris&address[line1]=1+rue+de+Rivoli"
    "&metadata[order_id]=0&preferred_locales[0]=fr&expand[]=tax"
)
BODIES = [
    SDK_BODY,
    "",
    "&&",
    "a",
    "a=",
    "=b",
    "a=b=c",
    "metadata[k%3Dv]=1&x=y",
    "metadata[a%26b]=1%26two&c=3",
    "q=a%3db&r=%3D",
    "name=%C3%A9t%C3%A9+%E2%82%AC&city=S%C3%A3o+Paulo",
    "name=été&email=a%40b.co",
    "name=%E2%82&x=1",
    "name=%FF",
    "a=%2B%2b+%20&b=c+d",
    "percent=100%25&plus=%2B",
]


def reference(body: str) -> list[tuple[str, str]] | type[UnicodeDecodeError]:
    try:
        return parse_qsl(body, keep_blank_values=True, errors="strict")
    except UnicodeDecodeError:
        return UnicodeDecodeError


def ours(body: str) -> list[tuple[str, str]] | type[UnicodeDecodeError]:
    try:
        return [(name, value) for name, _, value in _fields(body)]
    except UnicodeDecodeError:
        return UnicodeDecodeError


@pytest.mark.parametrize("body", BODIES)
def test_pairs_are_parse_qsl_pairs(body: str) -> None:
    assert ours(body) == reference(body)


def test_pairs_of_random_bodies_are_parse_qsl_pairs() -> None:
    pieces = ["a", "b", "[", "]", "=", "&", "+", "%", "%26", "%3D", "%3d", "%40", "%2B", "%20"]
    pieces += ["%C3", "%A9", "%E2%82%AC", "%FF", "é", "€", "0", "F", "1"]
    rng = random.Random(14)
    for _ in range(3000):
        body = "".join(rng.choice(pieces) for _ in range(rng.randrange(1, 14)))
        assert ours(body) == reference(body), body


def test_sdk_body_decodes_to_nested_params() -> None:
    assert decode(SDK_BODY.encode()) == {
        "name": "Kaka Kakaka",
        "email": "customer0@example.com",
        "description": "A test customer",
        "phone": "+15555550123",
        "address": {"city": "Paris", "line1": "1 rue de Rivoli"},
        "metadata": {"order_id": "0"},
        "preferred_locales": {"0": "fr"},
        "expand": ["tax"],
    }


def test_escaped_separators_stay_inside_their_value() -> None:
    assert decode(b"metadata[a%26b]=x%3Dy%26z&email=a%40b.co") == {
        "metadata": {"a&b": "x=y&z"},
        "email": "a@b.co",
    }


def test_invalid_utf8_in_an_escape_is_refused_on_either_path() -> None:
    for body in (b"name=%E2%82&email=a%40b.co", b"name=%E2%82&x=%26"):
        with pytest.raises(InvalidRequestError) as raised:
            decode(body)
        assert raised.value.message.startswith("Invalid request: the form encoding is not valid")
