"""Decode Stripe's form encoding (``a[b][0][c]=v``) into nested params, within bounds.

Stripe's SDKs send ``metadata[k]=v``, arrays as ``expand[0]=x`` (or ``expand[]=x``) and
nested hashes as ``invoice_settings[custom_fields][0][name]=PO``. Every bracket level becomes
a hash keyed by the text in the brackets (``[]`` appends the next index): the decoder knows
no parameter, so whether a hash of indexes is an array is the params' call (``params.py``).

>>> decode_pairs([("metadata[k]", "v"), ("expand[]", "tax"), ("a[b][0][c]", "1")])
{'metadata': {'k': 'v'}, 'expand': {'0': 'tax'}, 'a': {'b': {'0': {'c': '1'}}}}
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl

from ..errors import InvalidRequestError

__all__ = ["MAX_DEPTH", "MAX_FIELDS", "decode", "decode_pairs"]

MAX_DEPTH = 5
"""Brackets allowed in one name: Stripe's deepest customer param needs 4."""
MAX_FIELDS = 2000
"""Fields allowed in one request: 50 metadata keys and the rest fit many times over."""

_NAME = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")
_SEGMENT = re.compile(r"\[([^\[\]]*)\]")
_APPEND = object()


def _fail(message: str) -> InvalidRequestError:
    return InvalidRequestError(message)


def _path(name: str) -> list[Any]:
    match = _NAME.match(name)
    if match is None:
        msg = f"Invalid parameter name: {name!r}. Use Stripe's bracket encoding, as in metadata[key]=value."
        raise _fail(msg)
    segments: list[Any] = [match.group(1)]
    segments += [segment if segment else _APPEND for segment in _SEGMENT.findall(match.group(2))]
    if len(segments) - 1 > MAX_DEPTH:
        msg = f"Parameter {name!r} is nested too deeply: at most {MAX_DEPTH} levels of brackets are allowed."
        raise _fail(msg)
    return segments


def decode_pairs(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """Nest ``(name, value)`` pairs; later values win, ``name[]`` appends."""
    root: dict[str, Any] = {}
    count = 0
    for name, value in pairs:
        count += 1
        if count > MAX_FIELDS:
            msg = f"Too many parameters: at most {MAX_FIELDS} are allowed in one request."
            raise _fail(msg)
        segments = _path(name)
        node: Any = root
        for index, segment in enumerate(segments):
            last = index == len(segments) - 1
            if segment is _APPEND:
                # ``a[]=x``: the next free index of the hash at this level.
                segment = str(len(node))
            if last:
                node[segment] = value
                break
            child = node.get(segment)
            if not isinstance(child, dict):
                if child is not None:
                    msg = f"Parameter {name!r} conflicts with another value given for {segment!r}."
                    raise _fail(msg)
                child = node[segment] = {}
            node = child
    return root


def decode(body: bytes | str) -> dict[str, Any]:
    """Decode an ``application/x-www-form-urlencoded`` body or query string."""
    if isinstance(body, bytes):
        try:
            body = body.decode("utf-8")
        except UnicodeDecodeError:
            msg = "Invalid request: the body is not valid UTF-8 form encoding."
            raise _fail(msg) from None
    try:
        pairs = parse_qsl(
            body, keep_blank_values=True, strict_parsing=False, max_num_fields=MAX_FIELDS
        )
    except ValueError:
        msg = f"Too many parameters: at most {MAX_FIELDS} are allowed in one request."
        raise _fail(msg) from None
    return decode_pairs(pairs)
