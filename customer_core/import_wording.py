"""What an import says about a line it refuses: customer_core's own words, never pydantic's.

An imported line is a Stripe object, not request params, so its values are checked
strictly against the object's JSON types first (a string field holds a JSON string, an
integer a JSON integer, a boolean ``true`` or ``false``): the params' validators read form
values, which turn ``1`` into ``"1"`` and ``"yes"`` into ``true``. Every failure becomes a
field (Stripe's bracket notation) and a reason in Stripe's style: ``Invalid boolean:
"yes"; expected true or false, not a string``. JSON is read as RFC 8259 has it:
``NaN`` and ``Infinity``, which Python's parsers accept, are not JSON.
"""

from __future__ import annotations

import math
import re
from typing import Any

import pydantic_core
from pydantic import ValidationError

from .params import param_name, shown, translate

__all__ = ["NotJson", "describe", "json_kind", "parse_json", "shown_briefly"]

# The kinds of error params.translate words as Stripe would (the service's own rules).
_PARAM_KINDS = frozenset(
    "parameter_invalid_empty invalid_integer integer_too_small integer_too_large "
    "string_too_long invalid_string invalid_enum invalid_email invalid_invoice_prefix stripe "
    "invalid_array too_many_items string_with_nul invalid_ip_address invalid_object".split()
)

_EXPECTED = {
    "string_type": ("Invalid string", "a JSON string"),
    "int_type": ("Invalid integer", "a JSON integer"),
    "int_from_float": ("Invalid integer", "a JSON integer"),
    "bool_type": ("Invalid boolean", "true or false"),
    "dict_type": ("Invalid object", "a JSON object"),
    "model_type": ("Invalid object", "a JSON object"),
    "model_attributes_type": ("Invalid object", "a JSON object"),
    "typed_dict_type": ("Invalid object", "a JSON object"),
    "list_type": ("Invalid array", "a JSON array"),
    "tuple_type": ("Invalid array", "a JSON array"),
}
_BOUNDS = {
    "greater_than_equal": ("ge", "greater than or equal to"),
    "less_than_equal": ("le", "less than or equal to"),
}
_QUOTED = re.compile(r"'((?:[^'\\]|\\.)*)'")
_JSON_POSITION = re.compile(r" at line (\d+) column (\d+)")


def json_kind(value: object) -> str:
    """What a JSON value is, in words: ``a string``, ``a number``, ``null`` ..."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a decimal number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, (list, tuple)):
        return "an array"
    return "an object"


def shown_briefly(value: object) -> str:
    """A value as a message shows it (JSON), its middle left out past 60 characters."""
    if isinstance(value, float) and math.isinf(value):
        # JSON's 1e400 parses to infinity: the line never said "Infinity".
        return f"a number {'below -' if value < 0 else 'beyond '}1.8e308"
    text = shown(value)
    return text if len(text) <= 60 else f"{text[:28]}...{text[-28:]}"


def describe(
    error: ValidationError, kind_of: str, api_version: str | None
) -> tuple[str | None, str]:
    """The field and the reason of a validation failure of an imported ``kind_of`` object
    (``customer``, ``tax ID``, ``end line`` ...), worded as customer_core words them;
    an unknown field is one the object lacks (in Stripe API version ``api_version``, for
    Stripe's objects)."""
    first = error.errors(include_url=False)[0]
    kind = first["type"]
    location = [part for part in first["loc"] if "function-" not in str(part)]
    field = param_name(location) or None
    value = first.get("input")
    context = first.get("ctx") or {}
    if kind == "extra_forbidden":
        version = f" in Stripe API version {api_version}" if api_version else ""
        return field, f"unknown field: not part of a {kind_of}{version}"
    if kind == "missing":
        return field, f"Missing required field: every {kind_of} has one"
    if kind in _PARAM_KINDS:
        translated = translate(error)
        return translated.param or field, translated.message
    if kind in _EXPECTED:
        label, expected = _EXPECTED[kind]
        return (
            field,
            f"{label}: {shown_briefly(value)}; expected {expected}, not {json_kind(value)}",
        )
    if kind == "literal_error":
        choices = _QUOTED.findall(str(context.get("expected", "")))
        wanted = choices[0] if len(choices) == 1 else "one of " + ", ".join(choices[:-1])
        if len(choices) > 1:
            wanted += f", or {choices[-1]}"
        return field, f"Invalid {field}: {shown_briefly(value)}; must be {wanted}"
    if kind in _BOUNDS:
        bound, words = _BOUNDS[kind]
        return field, f"This value must be {words} {context.get(bound)}."
    return field, f"Invalid value: {shown_briefly(value)}"


class NotJson(ValueError):
    """A line (or document) that is not JSON: why, and on which of its lines."""

    def __init__(self, reason: str, line_offset: int = 0) -> None:
        super().__init__(reason)
        self.reason = reason
        self.line_offset = line_offset


def parse_json(data: bytes) -> Any:
    """Parse JSON as RFC 8259 defines it (no ``NaN``, ``Infinity`` or ``-Infinity``);
    raise NotJson with a reason in words and the line it is on (0: the first)."""
    try:
        return pydantic_core.from_json(data, allow_inf_nan=False)
    except ValueError as error:
        reason = str(error)
    offset = 0
    found = _JSON_POSITION.search(reason)
    if found is not None:
        offset = int(found[1]) - 1
        reason = f"{reason[: found.start()]} at column {found[2]}{reason[found.end() :]}"
    explanation = ""
    if reason.startswith("EOF while parsing"):
        explanation = ": the line ends before its JSON does (cut short?)"
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        explanation = (
            ": the file is UTF-16 (it starts with a UTF-16 byte order mark); an import "
            "reads UTF-8, as JSON is exchanged (RFC 8259): convert it first, for example "
            "with iconv -f UTF-16 -t UTF-8"
        )
    elif reason.startswith("invalid unicode code point"):
        explanation = ": the line is not UTF-8 text, as JSON is exchanged (RFC 8259)"
    else:
        try:
            pydantic_core.from_json(data, allow_inf_nan=True)
        except ValueError:
            pass
        else:
            explanation = ": NaN, Infinity and -Infinity are not JSON numbers (RFC 8259)"
    raise NotJson(f"not valid JSON ({reason}){explanation}", offset)
