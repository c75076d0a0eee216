"""Metadata rules: at most 50 keys, keys up to 40 characters without brackets, values
up to 500 characters, everything stored as strings; an update merges, ``""`` unsets.

>>> merge({"a": "1", "b": "2"}, normalize({"b": "", "c": 3}))
{'a': '1', 'c': '3'}
>>> merge({"a": "1"}, None)
{}
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from .errors import InvalidRequestError

__all__ = [
    "MAX_KEYS",
    "MAX_KEY_LENGTH",
    "MAX_VALUE_LENGTH",
    "NUL",
    "merge",
    "normalize",
    "shown",
    "shown_value",
    "wire_string",
]

MAX_KEYS = 50
MAX_KEY_LENGTH = 40
MAX_VALUE_LENGTH = 500

Changes = dict[str, "str | None"]
"""Normalized metadata changes: a string sets a key, ``None`` unsets it."""


def wire_string(value: object) -> str | None:
    """Return ``value`` as Stripe would receive it over the wire, or None if it is no scalar.

    Stripe's SDKs send numbers as their decimal text and booleans as ``true``/``false``;
    a string that is not valid Unicode (a lone surrogate) could never arrive.
    """
    if isinstance(value, str):
        if value.__class__ is not str:  # a str enum, a framework's safe string: plain text
            value = str.__str__(value)
        return value if value.isascii() or _encodable(value) else None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return None


def _encodable(text: str) -> bool:
    """Whether ``text`` is real Unicode text (no lone surrogates), as any wire value is."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


NUL = "\x00"
"""The one character no free-text param may hold (docs/decisions.md); params.py reads it
from here."""


def shown(text: str) -> str:
    """``text`` for an error message, its NULs written as JSON writes them."""
    return text.replace(NUL, "\\u0000")


def shown_value(value: object) -> str:
    """A wire value as an error message shows it: JSON (``["x"]``, ``{"a": "b"}``), the
    form a JSON or form-encoded request wrote it in, rather than Python's ``['x']``."""
    try:
        return json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        pass
    except RecursionError:  # nested deeper than the interpreter's stack: repr would be too
        return "(a value nested too deeply to show)"
    try:
        return repr(value)
    except RecursionError:
        return "(a value nested too deeply to show)"


def _unicode_problem(what: str, raw: object) -> str | None:
    """The message for ``raw`` that ``wire_string`` refused, if it is a string: then it is
    not Unicode text (a lone surrogate, which no wire could carry), shown escaped so that
    the message itself can be printed. None for a value that is no string at all."""
    if not isinstance(raw, str):
        return None
    escaped = raw.encode("utf-8", "backslashreplace").decode()
    return f'Invalid {what}: "{escaped}" must be valid Unicode text (it holds a lone surrogate)'


def _fail(message: str) -> InvalidRequestError:
    return InvalidRequestError(message, param="metadata")


def normalize(metadata: Mapping[object, object]) -> Changes:
    """Check keys and values of a metadata parameter; ``""`` and ``None`` become removals.

    Raises InvalidRequestError (param ``metadata``) with Stripe's wording.
    """
    changes: Changes = {}
    for raw_key, raw_value in metadata.items():
        # An ASCII string is its own wire text (wire_string's answer, without the call).
        key = raw_key if raw_key.__class__ is str and raw_key.isascii() else wire_string(raw_key)
        if key is None or key == "":
            msg = f"Invalid key: {shown_value(raw_key)} must be a non-empty string"
            raise _fail((key is None and _unicode_problem("key", raw_key)) or msg)
        if len(key) > MAX_KEY_LENGTH:
            msg = f"Invalid key: {key} must be a string under {MAX_KEY_LENGTH} characters"
            raise _fail(msg)
        if "[" in key or "]" in key:
            msg = f"Invalid key: {key} must not contain square brackets"
            raise _fail(msg)
        if NUL in key:
            msg = f"Invalid key: {shown(key)} must not contain a NUL character (\\u0000)"
            raise _fail(msg)
        if key in changes:  # two keys of the mapping with one wire text: 1 and "1"
            raise _fail(_same_key(metadata, raw_key, key))
        if raw_value is None or raw_value == "":
            changes[key] = None
            continue
        value = (
            raw_value
            if raw_value.__class__ is str and raw_value.isascii()
            else wire_string(raw_value)
        )
        if value is None:
            msg = f"Invalid value type: {shown_value(raw_value)} must be a string"
            raise _fail(_unicode_problem("value", raw_value) or msg)
        if len(value) > MAX_VALUE_LENGTH:
            msg = f"Invalid val: {value} must be a string under {MAX_VALUE_LENGTH} characters"
            raise _fail(msg)
        if NUL in value:
            msg = f"Invalid val: {shown(value)} must not contain a NUL character (\\u0000)"
            raise _fail(msg)
        changes[key] = value
    return changes


def _same_key(metadata: Mapping[object, object], raw_key: object, key: str) -> str:
    """The message for ``raw_key``, whose wire text ``key`` an earlier key has already:
    on the wire both would be one key, so one of the two values would be lost."""
    earlier = next(
        other for other in metadata if other is not raw_key and wire_string(other) == key
    )
    return (
        f"Invalid key: {shown_value(earlier)} and {shown_value(raw_key)} are both the key "
        f'"{shown(key)}" (metadata keys are strings): send it once'
    )


def merge(current: Mapping[str, str], changes: Changes | None) -> dict[str, str]:
    """Apply normalized changes to ``current``; ``changes=None`` (``metadata=""``) clears all.

    Raises InvalidRequestError when the result would hold more than 50 keys.
    """
    if changes is None:
        return {}
    merged = dict(current)
    for key, value in changes.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    if len(merged) > MAX_KEYS:
        msg = (
            f"Metadata can have up to {MAX_KEYS} keys, but you've set {len(merged)}. "
            "Email us at support+metadata@stripe.com for more information."
        )
        raise _fail(msg)
    return merged
