"""Request parameters for create, update and list, with Stripe's limits, enums and errors.

Each operation has a pydantic model with ``extra="forbid"``. Scalars go through small
validators that read values the way Stripe reads wire values (``"12"`` is an integer,
``12`` is the string ``"12"``) and decide what ``""`` means: a clear (→ ``None``) where
the OpenAPI spec allows it, else ``parameter_invalid_empty``. ``parse`` turns the first
pydantic error into the InvalidRequestError Stripe would send. Python ``None`` is read as
``""``. Choices are written down in docs/decisions.md.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Annotated, Any, TypeGuard, TypeVar

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    PlainValidator,
    Tag,
    ValidationError,
)
from pydantic_core import PydanticCustomError
from typing_extensions import Required, TypedDict

from . import metadata as metadata_rules
from .errors import InvalidRequestError
from .integers import INT64_MAX, INT64_MIN, is_digits, parse_int64
from .tax_id_types import TAX_ID_TYPES

__all__ = [
    "CustomerCreateParams",
    "CustomerListParams",
    "CustomerRetrieveParams",
    "CustomerSearchParams",
    "CustomerUpdateParams",
    "TAX_ID_TYPES",
    "parse",
]

P = TypeVar("P", bound=BaseModel)

DEFAULT_MAX_LENGTH = 5000
# Matched whole (fullmatch: ``$`` would let a trailing newline through); no spaces or
# control characters anywhere in an address.
EMAIL_PATTERN = re.compile(r"[^@\s\x00-\x1f\x7f]+@[^@\s.\x00-\x1f\x7f]+(\.[^@\s.\x00-\x1f\x7f]+)+")
INVOICE_PREFIX_PATTERN = re.compile(r"[A-Z0-9]{1,12}")
MAX_INVOICE_SEQUENCE = 1_000_000_000
MAX_CUSTOM_FIELDS = 4
"""Stripe: "You can specify up to 4 custom fields" (docs; no maxItems in the OpenAPI)."""
MAX_PREFERRED_LOCALES = 50
"""Ours ([?] on Stripe, docs/decisions.md): more than the locales Stripe supports."""
NUL = metadata_rules.NUL
shown = metadata_rules.shown_value

# Union members get these tags so that error locations can drop them again.
_HASH_TAG = "<hash>"
_SCALAR_TAG = "<scalar>"


def _error(kind: str, **context: Any) -> PydanticCustomError:
    # pydantic-core renders the context as UTF-8: escape lone surrogates first.
    safe = {
        name: value.encode("utf-8", "backslashreplace").decode()
        if isinstance(value, str)
        else value
        for name, value in context.items()
    }
    return PydanticCustomError(kind, kind, safe)


def _is_empty(value: object) -> bool:
    return value is None or (isinstance(value, str) and value == "")


def _reject_empty(value: object) -> None:
    if _is_empty(value):
        raise _error("parameter_invalid_empty")


def _cleared(value: object, clearable: bool) -> bool:
    """Whether ``value`` is the unset marker (``""`` or None) where the spec allows one;
    the marker anywhere else is Stripe's ``parameter_invalid_empty``."""
    if not _is_empty(value):
        return False
    if clearable:
        return True
    raise _error("parameter_invalid_empty")


def path_id(value: object, param: str, example: str) -> str:
    """An object id given in a path (a customer, event, endpoint or tax ID): any string a
    URL can carry; anything else is a 400 naming the param, not a 404 or a TypeError."""
    # A str subclass (a str enum, a framework's safe string) is the plain text it holds.
    text = metadata_rules.wire_string(value) if isinstance(value, str) else None
    if text is None:
        msg = f"Invalid {param}: {value!r} (expected an id such as '{example}')"
        raise InvalidRequestError(msg, param=param)
    return text


def text(
    max_length: int = DEFAULT_MAX_LENGTH, *, clearable: bool = True, own_syntax: bool = False
) -> Callable[[object], str | None]:
    """Validate a string param; numbers and booleans become their wire text. A NUL is
    refused here unless the value has ``own_syntax`` (an email, an invoice prefix, an IP
    address, a tax ID), whose check refuses it, and every control character, itself."""

    def validate(value: object) -> str | None:
        if value.__class__ is not str or not value.isascii():
            if value is None:
                if clearable:
                    return None
                raise _error("parameter_invalid_empty")
            converted = metadata_rules.wire_string(value)
            if converted is None:
                raise _error("invalid_string", value=shown(value))
            value = converted
        if not value:
            if clearable:
                return None
            raise _error("parameter_invalid_empty")
        if len(value) > max_length:
            raise _error("string_too_long", value=value, max_length=max_length)
        if NUL in value and not own_syntax:
            raise _error("string_with_nul", value=value)
        return value

    return validate


def _integer(value: object) -> int:
    """A Stripe integer: an int or a string of digits, within 64 bits (Stripe's range)."""
    _reject_empty(value)
    result: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        # int(): an IntEnum or another int subclass is stored as the plain number it is.
        result = int(value) if INT64_MIN <= value <= INT64_MAX else None
    elif isinstance(value, str):
        result = parse_int64(value)
    if result is None:
        shown_integer = shown(value) if isinstance(value, (list, dict)) else str(value)
        raise _error("invalid_integer", value=shown_integer)
    return result


def integer_between(low: int, high: int) -> Callable[[object], int]:
    """Validate an integer param in ``[low, high]`` with Stripe's range messages."""

    def validate(value: object) -> int:
        result = _integer(value)
        if result < low:
            raise _error("integer_too_small", limit=low)
        if result > high:
            raise _error("integer_too_large", limit=high)
        return result

    return validate


def _one_of(choices: Sequence[str]) -> str:
    if len(choices) == 1:
        return choices[0]
    if len(choices) == 2:
        return f"{choices[0]} or {choices[1]}"
    return ", ".join(choices[:-1]) + f", or {choices[-1]}"


def enum(
    *choices: str, empty_means: str | None = None, clearable: bool = False
) -> Callable[[object], str | None]:
    """Validate an enum param; ``""`` is allowed only where the spec lists it."""
    listed = _one_of(choices)
    allowed = frozenset(choices)

    def validate(value: object) -> str | None:
        if _cleared(value, clearable):
            return empty_means
        if not isinstance(value, str) or value not in allowed:
            raise _error("invalid_enum", choices=listed)
        return str.__str__(value)  # a str enum's member is stored as its plain text

    return validate


_email_text = text(512, own_syntax=True)
_invoice_prefix_text = text(clearable=False, own_syntax=True)


def _email(value: object) -> str | None:
    result = _email_text(value)
    if result is not None and not EMAIL_PATTERN.fullmatch(result):
        raise _error("invalid_email", value=result)
    return result


def _invoice_prefix(value: object) -> str | None:
    result = _invoice_prefix_text(value)
    if result is not None and not INVOICE_PREFIX_PATTERN.fullmatch(result):
        raise _error("invalid_invoice_prefix")
    return result


_ip_address_text = text(own_syntax=True)


def _ip_address(value: object) -> str | None:
    """An IPv4 or IPv6 address (``""`` clears it), kept as written."""
    result = _ip_address_text(value)
    if result is not None:
        try:
            ipaddress.ip_address(result)
        except ValueError:
            raise _error("invalid_ip_address", value=result) from None
    return result


def _is_hash(value: object) -> TypeGuard[Mapping[Any, Any]]:
    """Whether ``value`` is a hash param: a mapping (a plain dict, from the wire, checked first)."""
    return value.__class__ is dict or isinstance(value, Mapping)


def _metadata(value: object) -> dict[str, str | None] | None:
    if _is_empty(value):
        return None
    if not _is_hash(value):
        raise _error("invalid_object")
    try:
        return metadata_rules.normalize(value)
    except InvalidRequestError as error:
        raise _error("stripe", message=error.message) from None


def _object(*, clearable: bool) -> Callable[[object], object]:
    def validate(value: object) -> object:
        if _cleared(value, clearable):
            return None
        if not _is_hash(value):
            raise _error("invalid_object")
        return value

    return validate


def _array(*, clearable: bool, max_items: int | None = None) -> Callable[[object], object]:
    def validate(value: object) -> object:
        if _cleared(value, clearable):
            return None
        items = _items(value)
        if max_items is not None and len(items) > max_items:
            raise _error("too_many_items", limit=max_items, count=len(items))
        return items

    return validate


def _items(value: object) -> list[Any] | tuple[Any, ...]:
    """An array param's items: a list or tuple as it is, form-encoded indexes in order."""
    if value.__class__ is list or value.__class__ is tuple:
        return value
    if value.__class__ is dict and value:
        # The wire's usual form: the indexes in order, or at least all of them.
        if list(value) == _index_list(len(value)):
            return list(value.values())
        if value.keys() == _indexes(len(value)):
            return [value[str(index)] for index in range(len(value))]
    if isinstance(value, Mapping) and value and all(map(_is_digits_key, value)):
        # Form encoding writes an array as a hash of indexes: ``expand[0]=a&expand[1]=b``.
        # They must be 0, 1, 2, ...: a gap (or ``01``) would silently renumber items.
        if not all(str(index) in value for index in range(len(value))):
            given = ", ".join(sorted(value, key=int))
            message = f"Invalid array: indexes must run 0, 1, 2, ... without gaps (given: {given})"
            raise _error("stripe", message=message)
        return [value[str(index)] for index in range(len(value))]
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Sequence):
        raise _error("invalid_array")
    return tuple(value)  # pydantic's (Rust) tuple validator takes lists and tuples


@functools.lru_cache(maxsize=64)
def _index_list(count: int) -> list[str]:
    """``"0"`` to ``str(count - 1)`` in order (never changed: only compared with)."""
    return list(map(str, range(count)))


@functools.lru_cache(maxsize=64)
def _indexes(count: int) -> frozenset[str]:
    """The keys of an array of ``count`` items given as a hash: ``"0"`` to ``str(count - 1)``."""
    return frozenset(map(str, range(count)))


def _is_digits_key(key: object) -> bool:
    return isinstance(key, str) and is_digits(key)


def _hash_or_token(value: object) -> str:
    return _HASH_TAG if isinstance(value, Mapping) else _SCALAR_TAG


Text = Annotated[str | None, PlainValidator(text())]
RequiredText = Annotated[str, PlainValidator(text(clearable=False))]
TaxIdValue = Annotated[str, PlainValidator(text(clearable=False, own_syntax=True))]
"""A tax ID's value: its type's rule refuses every control character (tax_id_invalid)."""
IpAddress = Annotated[str | None, PlainValidator(_ip_address)]
Integer = Annotated[int, PlainValidator(_integer)]
Metadata = Annotated[dict[str, str | None] | None, PlainValidator(_metadata)]
Expand = Annotated[
    tuple[Annotated[str, PlainValidator(text(clearable=False))], ...],
    BeforeValidator(_array(clearable=False)),
]


class _Params(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Shape(TypedDict, total=False):
    """A nested parameter hash: validated into a plain dict holding only the keys given."""

    __pydantic_config__ = ConfigDict(extra="forbid")  # type: ignore[misc]


class AddressParams(_Shape, total=False):
    city: Text
    country: Text
    line1: Text
    line2: Text
    postal_code: Text
    state: Text


class ShippingParams(_Shape, total=False):
    address: Required[Annotated[AddressParams, BeforeValidator(_object(clearable=False))]]
    name: Required[RequiredText]
    phone: Text


class CustomFieldParams(_Shape, total=False):
    name: Required[Annotated[str, PlainValidator(text(40, clearable=False))]]
    value: Required[Annotated[str, PlainValidator(text(140, clearable=False))]]


class RenderingOptionsParams(_Shape, total=False):
    amount_tax_display: Annotated[
        str | None,
        PlainValidator(enum("exclude_tax", "include_inclusive_tax", clearable=True)),
    ]
    template: Text


class InvoiceSettingsParams(_Shape, total=False):
    custom_fields: Annotated[
        list[CustomFieldParams] | None,
        BeforeValidator(_array(clearable=True, max_items=MAX_CUSTOM_FIELDS)),
    ]
    default_payment_method: Text
    footer: Text
    rendering_options: Annotated[
        RenderingOptionsParams | None, BeforeValidator(_object(clearable=True))
    ]


class CashBalanceSettingsParams(_Shape, total=False):
    reconciliation_mode: Annotated[
        str, PlainValidator(enum("automatic", "manual", "merchant_default"))
    ]


class CashBalanceParams(_Shape, total=False):
    settings: Annotated[CashBalanceSettingsParams, BeforeValidator(_object(clearable=False))]


class TaxCreateParams(_Shape, total=False):
    ip_address: IpAddress
    validate_location: Annotated[str, PlainValidator(enum("deferred", "immediately"))]


class TaxUpdateParams(_Shape, total=False):
    ip_address: IpAddress
    validate_location: Annotated[str, PlainValidator(enum("auto", "deferred", "immediately"))]


class TaxIdDataParams(_Shape, total=False):
    type: Required[Annotated[str, PlainValidator(enum(*TAX_ID_TYPES))]]
    value: Required[TaxIdValue]


class BankAccountParams(_Shape, total=False):
    account_holder_name: Text
    account_holder_type: Annotated[str | None, PlainValidator(enum("company", "individual"))]
    account_number: Required[RequiredText]
    country: Required[RequiredText]
    currency: Text
    object: Annotated[str | None, PlainValidator(enum("bank_account"))]
    routing_number: Text


class CardNetworkTokenParams(_Shape, total=False):
    number: Text


class CardParams(_Shape, total=False):
    address_city: Text
    address_country: Text
    address_line1: Text
    address_line2: Text
    address_state: Text
    address_zip: Text
    cvc: Text
    encrypted: Text
    exp_month: Required[Integer]
    exp_year: Required[Integer]
    metadata: Metadata
    name: Text
    network_token: Annotated[
        CardNetworkTokenParams | None, BeforeValidator(_object(clearable=False))
    ]
    number: Required[RequiredText]
    object: Annotated[str | None, PlainValidator(enum("card"))]
    swipe_data: Text


_Hash = TypeVar("_Hash")

HashOrToken = Annotated[
    Annotated[_Hash, Tag(_HASH_TAG)]
    | Annotated[str, PlainValidator(text(clearable=False)), Tag(_SCALAR_TAG)],
    Discriminator(_hash_or_token),
]
"""A legacy payment source: a hash of card or bank details, or a token string."""


class _CustomerWriteParams(_Params):
    """Parameters shared by create and update, in the spec's (alphabetical) order."""

    address: Annotated[AddressParams | None, BeforeValidator(_object(clearable=True))] = None
    balance: Integer = 0
    business_name: Annotated[str | None, PlainValidator(text(150))] = None
    cash_balance: Annotated[CashBalanceParams | None, BeforeValidator(_object(clearable=False))] = (
        None
    )
    description: Text = None
    email: Annotated[str | None, PlainValidator(_email)] = None
    expand: Expand = ()
    individual_name: Annotated[str | None, PlainValidator(text(150))] = None
    invoice_prefix: Annotated[str | None, PlainValidator(_invoice_prefix)] = None
    invoice_settings: Annotated[
        InvoiceSettingsParams | None, BeforeValidator(_object(clearable=False))
    ] = None
    metadata: Metadata = None
    name: Annotated[str | None, PlainValidator(text(256))] = None
    next_invoice_sequence: Annotated[
        int, PlainValidator(integer_between(1, MAX_INVOICE_SEQUENCE))
    ] = 1
    phone: Annotated[str | None, PlainValidator(text(20))] = None
    preferred_locales: Annotated[
        tuple[Annotated[str, PlainValidator(text(clearable=False))], ...],
        BeforeValidator(_array(clearable=False, max_items=MAX_PREFERRED_LOCALES)),
    ] = ()
    shipping: Annotated[ShippingParams | None, BeforeValidator(_object(clearable=True))] = None
    source: Annotated[str | None, PlainValidator(text(clearable=False))] = None
    tax_exempt: Annotated[
        str,
        PlainValidator(enum("none", "reverse", "exempt", empty_means="none", clearable=True)),
    ] = "none"


class CustomerCreateParams(_CustomerWriteParams):
    """Parameters of ``POST /v1/customers``."""

    payment_method: Annotated[str | None, PlainValidator(text(clearable=False))] = None
    tax: Annotated[TaxCreateParams | None, BeforeValidator(_object(clearable=False))] = None
    tax_id_data: Annotated[
        tuple[TaxIdDataParams, ...], BeforeValidator(_array(clearable=False))
    ] = ()
    test_clock: Annotated[str | None, PlainValidator(text(clearable=False))] = None


_DefaultSource = Annotated[str | None, PlainValidator(text(500))]


class CustomerUpdateParams(_CustomerWriteParams):
    """Parameters of ``POST /v1/customers/{customer}``."""

    bank_account: HashOrToken[BankAccountParams] | None = None
    card: HashOrToken[CardParams] | None = None
    default_alipay_account: _DefaultSource = None
    default_bank_account: _DefaultSource = None
    default_card: _DefaultSource = None
    default_source: _DefaultSource = None
    tax: Annotated[TaxUpdateParams | None, BeforeValidator(_object(clearable=False))] = None


class CreatedRange(_Shape, total=False):
    """A ``created`` filter: Unix seconds, each bound optional."""

    gt: Integer | None
    gte: Integer | None
    lt: Integer | None
    lte: Integer | None


Created = Annotated[
    Annotated[CreatedRange, Tag(_HASH_TAG)]
    | Annotated[int, PlainValidator(_integer), Tag(_SCALAR_TAG)],
    Discriminator(_hash_or_token),
]
"""A list's ``created`` filter: an exact time or a range (absent: no filter)."""
Cursor = Annotated[str | None, PlainValidator(text(clearable=False))]
"""A list's ``starting_after`` / ``ending_before``: an object id."""
Limit = Annotated[int, PlainValidator(integer_between(1, 100))]
"""A page size: 1 to 100."""


class CustomerListParams(_Params):
    """Parameters of ``GET /v1/customers``."""

    created: Created = None  # type: ignore[assignment]  # absent means no filter; an explicit None is refused
    email: Annotated[str | None, PlainValidator(text(512, clearable=False))] = None
    ending_before: Cursor = None
    expand: Expand = ()
    limit: Limit = 10
    starting_after: Cursor = None
    test_clock: Annotated[str | None, PlainValidator(text(clearable=False))] = None


class CustomerSearchParams(_Params):
    """Parameters of ``GET /v1/customers/search``."""

    expand: Expand = ()
    limit: Limit = 10
    page: Annotated[str | None, PlainValidator(text(clearable=False))] = None
    query: Annotated[str, PlainValidator(text(clearable=False))]


class CustomerRetrieveParams(_Params):
    """Parameters of ``GET /v1/customers/{customer}``."""

    expand: Expand = ()


class NoParams(_Params):
    """Parameters of ``DELETE /v1/customers/{customer}``: none."""


# --- error translation -------------------------------------------------------------

_EMPTY_MESSAGE = (
    "You passed {given} for '{param}'. We assume empty values are an attempt to "
    "unset a parameter; however '{param}' cannot be unset. You should remove '{param}' "
    "from your request or supply a non-empty value."
)


def _shorten(value: str) -> str:
    """Stripe abbreviates long values in messages to their first and last 10 characters."""
    return value if len(value) <= 23 else f"{value[:10]}...{value[-10:]}"


def param_name(location: Sequence[int | str]) -> str:
    """Render a pydantic error location as Stripe's bracketed param name.

    >>> param_name(("invoice_settings", "custom_fields", 0, "name"))
    'invoice_settings[custom_fields][0][name]'
    """
    parts = [str(part) for part in location if part not in (_HASH_TAG, _SCALAR_TAG)]
    if not parts:
        return ""
    return parts[0] + "".join(f"[{part}]" for part in parts[1:])


_PLAIN_MESSAGES = {
    "string_with_nul": "Invalid string: {value}; must not contain a NUL character (\\u0000)",
    "too_many_items": "Invalid {param}: must have at most {limit} items, but you passed {count}",
    "invalid_ip_address": "Invalid IP address: {value}",
}
"""Errors with no code whose message is a template of the param and the error's context."""


def _describe(error: Mapping[str, Any], param: str) -> InvalidRequestError:
    kind = error["type"]
    context = error.get("ctx") or {}
    if kind == "missing":
        return InvalidRequestError(
            f"Missing required param: {param}.", code="parameter_missing", param=param
        )
    if kind == "parameter_invalid_empty":
        return InvalidRequestError(
            # In-process None is the same marker; a message about an empty string
            # would puzzle the caller who passed None (trial 7).
            _EMPTY_MESSAGE.format(
                given="None" if error.get("input", "") is None else "an empty string", param=param
            ),
            code="parameter_invalid_empty",
            param=param,
        )
    if kind == "invalid_integer":
        return InvalidRequestError(
            f"Invalid integer: {context['value']}",
            code="parameter_invalid_integer",
            param=param,
        )
    if kind == "integer_too_small":
        return InvalidRequestError(
            f"This value must be greater than or equal to {context['limit']}.",
            code="parameter_invalid_integer",
            param=param,
        )
    if kind == "integer_too_large":
        return InvalidRequestError(
            f"This value must be less than or equal to {context['limit']}.",
            code="parameter_invalid_integer",
            param=param,
        )
    if kind == "string_too_long":
        return InvalidRequestError(
            f"Invalid string: {_shorten(context['value'])}; "
            f"must be at most {context['max_length']} characters",
            param=param,
        )
    if kind == "invalid_string":
        return InvalidRequestError(f"Invalid string: {context['value']}", param=param)
    if kind in _PLAIN_MESSAGES:
        if kind == "string_with_nul":
            context = {"value": metadata_rules.shown(_shorten(context["value"]))}
        return InvalidRequestError(
            _PLAIN_MESSAGES[kind].format(param=param, **context), param=param
        )
    if kind == "invalid_enum":
        return InvalidRequestError(
            f"Invalid {param}: must be one of {context['choices']}", param=param
        )
    if kind == "invalid_email":
        return InvalidRequestError(
            f"Invalid email address: {context['value']}", code="email_invalid", param=param
        )
    if kind == "invalid_invoice_prefix":
        return InvalidRequestError(
            "Invalid invoice_prefix: must be 1 to 12 uppercase letters or numbers",
            param=param,
        )
    if kind == "stripe":
        return InvalidRequestError(context["message"], param=param)
    if kind in ("invalid_array", "list_type", "tuple_type"):
        return InvalidRequestError(f"Invalid array for {param}", param=param)
    # model_type, dict_type, invalid_object and anything pydantic adds later.
    return InvalidRequestError(f"Invalid object for {param}", param=param)


def translate(error: ValidationError) -> InvalidRequestError:
    """Turn a pydantic ValidationError into the single error Stripe would report."""
    problems = error.errors(include_url=False)
    unknown = [param_name(p["loc"]) for p in problems if p["type"] == "extra_forbidden"]
    if len(unknown) == 1:
        return InvalidRequestError(
            f"Received unknown parameter: {unknown[0]}",
            code="parameter_unknown",
            param=unknown[0],
        )
    if unknown:
        return InvalidRequestError(
            f"Received unknown parameters: {', '.join(unknown)}",
            code="parameter_unknown",
            param=unknown[0],
        )
    first = problems[0]
    return _describe(first, param_name(first["loc"]))


def param_dict(params: object) -> dict[str, Any]:
    """A new dict of an operation's params (``perform``'s, ``execute``'s), which must be a
    mapping of names to values, or None for none: anything else is an InvalidRequestError,
    not the TypeError (or the silent pairs) that ``dict()`` would give."""
    if params is None:
        return {}
    if not isinstance(params, Mapping):
        msg = (
            "Invalid params: expected a mapping of parameter names to values, "
            f"not {type(params).__name__}."
        )
        raise InvalidRequestError(msg)
    return dict(params)


def parse(model: type[P], params: Mapping[str, Any]) -> P:
    """Validate ``params`` against ``model``; raise InvalidRequestError as Stripe would."""
    try:
        return model.model_validate(params)
    except ValidationError as error:
        raise translate(error) from None
