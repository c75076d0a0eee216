"""Idempotency keys: key rules, request fingerprints and replaying a saved entry.

The flow lives in ``CustomerService._idempotent``; these are its pure parts.
"""

from __future__ import annotations

import json
from typing import Any, TypeVar

from .errors import IdempotencyError, InvalidRequestError, error_from_dict
from .metadata import wire_string
from .models import _Model

__all__ = [
    "MAX_KEY_LENGTH",
    "PURGE_EVERY",
    "check_key",
    "fingerprint",
    "in_use",
    "replay",
    "request_fingerprint",
    "supplied_key",
]

PURGE_EVERY = 1000
"""Saves between two purges of expired entries."""
MAX_KEY_LENGTH = 255


def supplied_key(key: object) -> object:
    """The key a request carries: an empty one is none. The one place of that rule, for
    callers in process and over HTTP alike: the official SDKs send no header for an empty
    key, and ``Idempotency-Key:`` with no value arrives as the empty string."""
    return None if key == "" else key


def check_key(key: object) -> str | None:
    """Return ``key`` if it is a usable key (a non-empty string of at most 255 characters,
    text a header could carry), None if the request carries none (``supplied_key``)."""
    key = supplied_key(key)
    if key is None:
        return None
    if not isinstance(key, str):
        msg = f"Invalid idempotency key: {key!r}; use a non-empty string such as a V4 UUID."
        raise InvalidRequestError(msg, param="idempotency_key")
    if "\x00" in key or wire_string(key) is None:
        msg = (
            f"Invalid idempotency key: {key!r}; it must be Unicode text without NUL "
            "characters, such as a V4 UUID."
        )
        raise InvalidRequestError(msg, param="idempotency_key")
    if len(key) > MAX_KEY_LENGTH:
        msg = (
            f"Idempotency key is too long: it has {len(key)} characters, "
            f"at most {MAX_KEY_LENGTH} are allowed."
        )
        raise InvalidRequestError(msg, param="idempotency_key")
    return key


_Result = TypeVar("_Result", bound=_Model)


def request_fingerprint(params: dict[str, Any]) -> dict[str, Any]:
    """What an entry keeps to recognise its request's params: the params themselves when
    they are as the wire gives them (strings in plain dicts and lists, which every store
    keeps as they are), so that their fingerprint is taken only if the key comes again;
    otherwise their fingerprint. The SDKs send a key with every POST, and a key seldom
    comes twice."""
    try:
        wire = _plain(params, strings_only=True)
        return {"params": params} if wire else {"fingerprint": fingerprint(params)}
    except RecursionError:  # a container that holds itself, or nests too deep
        raise _unreadable() from None


def saved_fingerprint(entry: dict[str, Any]) -> str:
    """The fingerprint of the params an entry was saved for (``request_fingerprint``)."""
    saved: str | None = entry.get("fingerprint")
    return fingerprint(entry["params"]) if saved is None else saved


def replay(
    key: str, endpoint: str, fingerprint: str, entry: dict[str, Any], model: type[_Result]
) -> tuple[_Result, bytes | None]:
    """Answer a repeated request from its saved entry, or refuse a mismatched one: the
    saved result and its saved JSON body (None for entries saved before bodies were
    kept as JSON, which hold the result as a dict under ``body``)."""
    retry = f"Try using a key other than '{key}' if you meant to execute a different request."
    if entry["endpoint"] != endpoint:
        msg = (
            "Keys for idempotent requests can only be used for the same endpoint they were "
            f"first used for ('{entry['endpoint']}' vs '{endpoint}'). {retry}"
        )
        raise IdempotencyError(msg)
    if saved_fingerprint(entry) != fingerprint:
        msg = f"Keys for idempotent requests can only be used with the same parameters they were first used with. {retry}"
        raise IdempotencyError(msg)
    if entry["status"] != 200:
        error = error_from_dict(entry["body"], entry["status"])
        error.replayed = True
        raise error
    saved = entry.get("json")
    if saved is None:
        return model.model_validate(entry["body"]), None
    return model.model_validate_json(saved), saved.encode()


# Built once: json.dumps with options builds an encoder on every call.
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), default=repr)
# The C encoder _CANONICAL.encode builds for each call, built once (what it returns is
# _CANONICAL.encode's text): no circular-reference markers, so a value holding itself ends
# in a RecursionError, refused like one nested too deeply.
_MAKE_ENCODER: Any = getattr(json.encoder, "c_make_encoder", None)
_ENCODE: Any = (
    None
    if _MAKE_ENCODER is None
    else _MAKE_ENCODER(
        None, repr, json.encoder.encode_basestring_ascii, None, ":", ",", True, False, True
    )
)


def fingerprint(params: dict[str, Any]) -> str:
    """Canonical JSON of the params as received: equal params, equal fingerprints.

    It runs before the params are validated, so it takes anything: a key that is not a
    string (``metadata={1: "x", "b": "y"}``, which validation then refuses) is written as
    its ``repr`` behind a NUL, which no wire string holds, instead of failing the sort.
    """
    try:
        if not _plain(params):
            return _CANONICAL.encode(_string_keys(params))
        if _ENCODE is None:  # no C accelerator
            return _CANONICAL.encode(params)
        return "".join(_ENCODE(params, 0))
    except (ValueError, RecursionError):  # a container that holds itself, or nests too deep
        raise _unreadable() from None


def _unreadable() -> InvalidRequestError:
    return InvalidRequestError("Invalid parameters: a value holds itself or is nested too deeply.")


def _plain(value: Any, strings_only: bool = False) -> bool:
    """Whether ``value`` holds only string keys, in plain dicts, lists and tuples (what
    the wire gives): then the encoder can take it as it is. ``strings_only``: and only
    strings in them, as a form-encoded request gives."""
    kind = value.__class__
    if kind is dict:
        for key, item in value.items():
            if key.__class__ is not str or (
                item.__class__ is not str and not _plain(item, strings_only)
            ):
                return False
        return True
    if kind is list or kind is tuple:
        for item in value:
            if item.__class__ is not str and not _plain(item, strings_only):
                return False
        return True
    return kind is str if strings_only else not isinstance(value, (dict, list, tuple))


def _string_keys(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            key if isinstance(key, str) else f"\0{key!r}": _string_keys(item)
            for key, item in value.items()
        }
    if isinstance(value, (list, tuple)):
        return [_string_keys(item) for item in value]
    return value


def in_use(key: str) -> IdempotencyError:
    """The 409 for a key whose first request is still running."""
    return IdempotencyError(
        "There is currently another in-progress request using this idempotency key "
        "(that probably means you submitted twice, and the other request is still going "
        f"through): {key}. Please try again later.",
        code="idempotency_key_in_use",
        http_status=409,
    )
