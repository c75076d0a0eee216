"""Checks of the settings a caller builds an object with (a service, a delivery worker, a
mock): a wrong one is refused at once with a ``TypeError`` (not the kind of value wanted)
or a ``ValueError`` (out of range) naming the argument, never a raw error from deep
inside later. These are programming errors, not requests, so they are Python's
exceptions rather than Stripe-shaped ones (docs/decisions.md, "Inputs no store can hold,
and settings")."""

from __future__ import annotations

import math
from collections.abc import Iterable

__all__ = ["check_api_keys", "check_count", "check_flag", "check_seconds", "check_text"]


def check_seconds(name: str, value: object, *, zero: bool = False, endless: bool = False) -> float:
    """Return ``value`` if it is a number of seconds above 0 (from 0 with ``zero``) and
    finite (or infinite too with ``endless``), else refuse it."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        msg = f"{name} must be a number of seconds, not {value!r}."
        raise TypeError(msg)
    if not (0 <= value if zero else 0 < value) or not (endless or math.isfinite(value)):
        msg = f"{name} must be a {_SECONDS[zero, endless]}, not {value!r}."
        raise ValueError(msg)
    return value


_SECONDS = {
    (False, False): "positive, finite number of seconds",
    (True, False): "finite number of seconds from 0",
    (False, True): "number of seconds above 0",
    (True, True): "number of seconds from 0",
}


def check_count(name: str, value: object) -> None:
    """Refuse ``value`` unless it is a whole number from 1."""
    if not isinstance(value, int) or isinstance(value, bool):
        msg = f"{name} must be a whole number, not {value!r}."
        raise TypeError(msg)
    if value < 1:
        msg = f"{name} must be at least 1, not {value!r}."
        raise ValueError(msg)


def check_flag(name: str, value: object) -> None:
    """Refuse ``value`` unless it is True or False."""
    if not isinstance(value, bool):
        msg = f"{name} must be True or False, not {value!r}."
        raise TypeError(msg)


def check_text(name: str, value: str) -> None:
    """Refuse a str that cannot be encoded (a lone surrogate, which only Python code can
    make): it would fail as soon as it is hashed, sent or stored."""
    try:
        value.encode()
    except UnicodeEncodeError:
        msg = f"{name} must be text without lone surrogates, not {value!r}."
        raise ValueError(msg) from None


def check_api_keys(api_keys: object) -> list[str] | None:
    """``api_keys`` as a list: None, or the keys (str) of a list or other iterable. A str
    alone is refused: taken as an iterable, its letters would be the keys, and every
    request would be refused as unauthorized."""
    if api_keys is None:
        return None
    if isinstance(api_keys, (str, bytes, bytearray)) or not isinstance(api_keys, Iterable):
        msg = f"api_keys must be a list of API keys (str) or None, not {api_keys!r}."
        raise TypeError(msg)
    keys = list(api_keys)
    for key in keys:
        if not isinstance(key, str):
            msg = f"api_keys must hold API keys (str), not {key!r}."
            raise TypeError(msg)
        check_text("api_keys", key)
    return keys
