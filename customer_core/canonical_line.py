"""The fast check of an imported customer line written as an export writes it.

An export writes each customer as its stored record: every field present, in Stripe's
key order, nested objects complete, metadata values non-empty strings. Such a line needs
none of the conversions the full check of ``customer_core.transfer`` makes (``""`` as
unset, numbers as strings, missing fields as defaults), so its rules can all be pydantic
constraints checked in Rust, straight from the bytes: about a third of the full check's
time. ``CANONICAL_CUSTOMER.validate_json(line)`` returns the stored record itself (keys
in schema order, which is Stripe's). Each constraint is at least as strict as the
service's rule for that field (params.py, metadata.py, ids.py), so a line it accepts
the full check accepts too, giving the same record (tested); a line it refuses goes to
the full check, which words the error or accepts what needs converting.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, StringConstraints, TypeAdapter, ValidationError
from typing_extensions import NotRequired, TypedDict

from .integers import INT64_MAX, INT64_MIN
from .metadata import MAX_KEY_LENGTH, MAX_KEYS, MAX_VALUE_LENGTH
from .params import (
    DEFAULT_MAX_LENGTH,
    MAX_CUSTOM_FIELDS,
    MAX_INVOICE_SEQUENCE,
    MAX_PREFERRED_LOCALES,
)

__all__ = ["CANONICAL_CUSTOMER", "canonical_record"]

_NUL_ESCAPE = b"\\u0000"
"""How a NUL is written in a JSON line (JSON allows it no other way). Free text must not
hold one (params.text); a line holding this escape anywhere takes the full check, which
knows which fields may."""


def _text(max_length: int = DEFAULT_MAX_LENGTH, pattern: str | None = None) -> Any:
    """A non-empty string of at most ``max_length`` characters (params.text's limits;
    ``""``, which a param reads as unset, is left to the full check)."""
    return Annotated[str, StringConstraints(min_length=1, max_length=max_length, pattern=pattern)]


_Text = _text()
_OptionalText = _text() | None
# Anchored: pydantic searches a pattern. The email pattern is a strict ASCII subset of
# params.EMAIL_PATTERN; other addresses take the full check.
_EMAIL = r"^[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(\.[A-Za-z0-9\-]+)+$"
_CONFIG = ConfigDict(extra="forbid", strict=True, cache_strings="keys")


class _Address(TypedDict):
    __pydantic_config__ = _CONFIG  # type: ignore[misc]

    city: _OptionalText  # type: ignore[valid-type]
    country: _OptionalText  # type: ignore[valid-type]
    line1: _OptionalText  # type: ignore[valid-type]
    line2: _OptionalText  # type: ignore[valid-type]
    postal_code: _OptionalText  # type: ignore[valid-type]
    state: _OptionalText  # type: ignore[valid-type]


class _Shipping(TypedDict):
    __pydantic_config__ = _CONFIG  # type: ignore[misc]

    address: _Address
    carrier: _OptionalText  # type: ignore[valid-type]
    name: _Text  # type: ignore[valid-type]
    phone: _OptionalText  # type: ignore[valid-type]
    tracking_number: _OptionalText  # type: ignore[valid-type]


class _CustomField(TypedDict):
    __pydantic_config__ = _CONFIG  # type: ignore[misc]

    name: _text(40)  # type: ignore[valid-type]
    value: _text(140)  # type: ignore[valid-type]


class _RenderingOptions(TypedDict):
    __pydantic_config__ = _CONFIG  # type: ignore[misc]

    amount_tax_display: Literal["exclude_tax", "include_inclusive_tax"] | None
    template: _OptionalText  # type: ignore[valid-type]


class _InvoiceSettings(TypedDict):
    __pydantic_config__ = _CONFIG  # type: ignore[misc]

    custom_fields: Annotated[list[_CustomField], Field(max_length=MAX_CUSTOM_FIELDS)] | None
    default_payment_method: _OptionalText  # type: ignore[valid-type]
    footer: _OptionalText  # type: ignore[valid-type]
    rendering_options: _RenderingOptions | None


class _Customer(TypedDict):
    """A stored record; fields only Stripe sets keep the Customer model's types, except
    ``discount`` and ``livemode``, which the full check decides."""

    __pydantic_config__ = _CONFIG  # type: ignore[misc]

    id: _text(255, r"^cus_[0-9A-Za-z]{1,251}$")  # type: ignore[valid-type]
    object: Literal["customer"]
    address: _Address | None
    balance: Annotated[int, Field(ge=INT64_MIN, le=INT64_MAX)]
    business_name: NotRequired[_text(150)]  # type: ignore[valid-type]
    created: Annotated[int, Field(ge=0, le=INT64_MAX)]
    currency: str | None
    customer_account: str | None
    default_source: str | None
    delinquent: bool | None
    description: _OptionalText  # type: ignore[valid-type]
    discount: None  # a discount's shape is checked by the full check
    email: _text(512, _EMAIL) | None  # type: ignore[valid-type]
    individual_name: NotRequired[_text(150)]  # type: ignore[valid-type]
    invoice_prefix: _text(12, r"^[A-Z0-9]{1,12}$")  # type: ignore[valid-type]
    invoice_settings: _InvoiceSettings
    livemode: Literal[False]  # the full check refuses live-mode objects
    metadata: Annotated[
        dict[_text(MAX_KEY_LENGTH, r"^[^\[\]]+$"), _text(MAX_VALUE_LENGTH)],  # type: ignore[valid-type]
        Field(max_length=MAX_KEYS),
    ]
    name: _text(256) | None  # type: ignore[valid-type]
    next_invoice_sequence: Annotated[int, Field(ge=1, le=MAX_INVOICE_SEQUENCE)]
    phone: _text(20) | None  # type: ignore[valid-type]
    preferred_locales: Annotated[list[_Text], Field(max_length=MAX_PREFERRED_LOCALES)]  # type: ignore[valid-type]
    shipping: _Shipping | None
    tax_exempt: Literal["exempt", "none", "reverse"]
    test_clock: str | None


CANONICAL_CUSTOMER: TypeAdapter[dict[str, Any]] = TypeAdapter(_Customer)  # type: ignore[arg-type]
"""Validates a customer line holding exactly a stored record and no NUL (see
``canonical_record``); returns that record."""
_validate_json = CANONICAL_CUSTOMER.validator.validate_json
"""The core validator's own method: ``TypeAdapter.validate_json`` adds a Python call that
costs half a microsecond a line."""


def canonical_record(line: bytes) -> dict[str, Any] | None:
    """The stored record of a customer line written as an export writes it, or None when
    the line needs the full check (to convert it, or to word its error)."""
    # A backslash first: one memchr, where the escape's search reads the line slower.
    if b"\\" in line and _NUL_ESCAPE in line:
        return None
    try:
        record: dict[str, Any] = _validate_json(line)
        return record
    except ValidationError:
        return None
