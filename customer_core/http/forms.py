"""Decode Stripe's form encoding (``a[b][0][c]=v``) into nested params, within bounds.

Stripe's SDKs send ``metadata[k]=v``, arrays as ``expand[0]=x`` (or ``expand[]=x``) and
nested hashes as ``invoice_settings[custom_fields][0][name]=PO``. Every bracket level becomes
a hash keyed by the text in the brackets: the decoder knows no parameter, so whether a hash
of indexes is an array is the params' call (``params.py``). Only ``[]`` says "array" on the
wire, so ``name[]=x`` makes a list, and a param given both as ``name[]`` and ``name[k]`` is
refused rather than merged one way or the other.

Decoding is strict: a bad percent-escape (``%zz``) or bytes that are not UTF-8 are a 400,
never stored as replacement characters.

>>> decode_pairs([("metadata[k]", "v"), ("expand[]", "tax"), ("a[b][0][c]", "1")])
{'metadata': {'k': 'v'}, 'expand': ['tax'], 'a': {'b': {'0': {'c': '1'}}}}
"""

from __future__ import annotations

import functools
import re
import string
from collections.abc import Iterable, Iterator
from itertools import islice, repeat
from typing import Any
from urllib.parse import unquote, unquote_to_bytes

from ..errors import InvalidRequestError

__all__ = ["MAX_DEPTH", "MAX_FIELDS", "decode", "decode_pairs"]

MAX_DEPTH = 5
"""Brackets allowed in one name: Stripe's deepest customer param needs 4."""
MAX_FIELDS = 2000
"""Fields allowed in one request: 50 metadata keys and the rest fit many times over."""

_NAME = re.compile(r"([^\[\]]+)((?:\[[^\[\]]*\])*)")
_SEGMENT = re.compile(r"\[([^\[\]]*)\]")
_APPEND = object()


def _fail(message: str) -> InvalidRequestError:
    return InvalidRequestError(message)


@functools.lru_cache(maxsize=4096)
def _path(name: str) -> tuple[tuple[tuple[str, bool], ...], Any]:
    """A name's walk: the hashes or arrays it goes through, each with whether it is an
    array (the next segment is ``[]``), and its last segment (``_APPEND`` for ``[]``)."""
    # Cached: requests repeat the same few names (email, metadata[plan], address[city]).
    match = _NAME.fullmatch(name)
    if match is None:
        msg = f"Invalid parameter name: {name!r}. Use Stripe's bracket encoding, as in metadata[key]=value."
        raise _fail(msg)
    segments: list[Any] = [match.group(1)]
    segments += [segment if segment else _APPEND for segment in _SEGMENT.findall(match.group(2))]
    if len(segments) - 1 > MAX_DEPTH:
        msg = f"Parameter {name!r} is nested too deeply: at most {MAX_DEPTH} levels of brackets are allowed."
        raise _fail(msg)
    if _APPEND in segments[:-1]:
        msg = (
            f"Invalid parameter name: {name!r}. [] may only end a name; write the items of an "
            "array of hashes with indexes, as in invoice_settings[custom_fields][0][name]=PO."
        )
        raise _fail(msg)
    steps = tuple(
        (segment, segments[index + 1] is _APPEND) for index, segment in enumerate(segments[:-1])
    )
    return steps, segments[-1]


def _bracketed(steps: tuple[tuple[str, bool], ...]) -> str:
    """The name of the hash or array the walk ``steps`` ends at: ``address[city]``."""
    return steps[0][0] + "".join(f"[{segment}]" for segment, _ in steps[1:])


def _mixed(name: str, steps: tuple[tuple[str, bool], ...]) -> InvalidRequestError:
    array = _bracketed(steps)
    return InvalidRequestError(
        f"Invalid array: {array} is given both with [] and with [index] or [key] ({name}); "
        f"write every item the same way, as in {array}[]=a&{array}[]=b or "
        f"{array}[0]=a&{array}[1]=b.",
        param=array,
    )


def decode_pairs(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """Nest ``(name, value)`` pairs; later plain values win, ``name[]`` appends, and a
    name given both as a plain value and as a hash or array is refused in either order."""
    return _nest((name, "=", value) for name, value in _counted(pairs))


def _counted(pairs: Iterable[tuple[str, str]]) -> Iterator[tuple[str, str]]:
    for count, pair in enumerate(pairs, 1):
        if count > MAX_FIELDS:
            msg = f"Too many parameters: at most {MAX_FIELDS} are allowed in one request."
            raise _fail(msg)
        yield pair


def _nest(fields: Iterable[tuple[str, str, str]]) -> dict[str, Any]:
    """``decode_pairs`` of ``(name, "=", value)`` fields, as ``str.partition`` splits them."""
    root: dict[str, Any] = {}
    # The hash or array the last bracketed name went into: the next name often goes there too
    # (address[city], address[line1]); a hash or array, once made, stays where it is.
    walked: tuple[tuple[str, bool], ...] = ()
    inner: Any = root
    for name, _, value in fields:
        steps, last = _path(name)
        if steps and steps != walked:
            walked, inner = steps, _walk(root, name, steps)
        node: Any = inner if steps else root
        if last is _APPEND:
            node.append(value)  # ``a[]=x``: the next item of the list at this level
        elif node.get(last).__class__ in _NESTED:
            # ``created[gt]=1&created=5``: a plain value would drop the hash given first.
            msg = f"Parameter {name!r} conflicts with another value given for {name!r}."
            raise _fail(msg)
        else:
            node[last] = value
    return root


_NESTED = (dict, list)


def _walk(root: dict[str, Any], name: str, steps: tuple[tuple[str, bool], ...]) -> Any:
    """The hash or array a bracketed name's value goes into, made as the name says."""
    node: Any = root
    for index, (segment, appends) in enumerate(steps):
        child = node.get(segment)
        if child is None:
            child = node[segment] = [] if appends else {}
        elif child.__class__ not in _NESTED:
            given = _bracketed(steps[: index + 1])
            msg = f"Parameter {name!r} conflicts with another value given for {given!r}."
            raise _fail(msg)
        elif (child.__class__ is list) is not appends:
            raise _mixed(name, steps[: index + 1])
        node = child
    return node


def decode(body: bytes | str) -> dict[str, Any]:
    """Decode an ``application/x-www-form-urlencoded`` body or query string."""
    not_utf8 = "Invalid request: the form encoding is not valid UTF-8 (percent-escapes included)."
    if isinstance(body, bytes):
        try:
            body = body.decode("utf-8")
        except UnicodeDecodeError:
            raise _fail(not_utf8) from None
    # Every escape is checked (the first bad one is the error); an escaped separator means
    # each part must be unquoted after splitting.
    separator_escaped = False
    if "%" in body:
        for piece in islice(body.split("%"), 1, None):
            escape = piece[:2]
            if escape not in _HEX_DIGIT_PAIRS:
                raise _bad_escape(body)
            if escape in _SEPARATOR_ESCAPES:
                separator_escaped = True
    if body.count("&") >= MAX_FIELDS:
        msg = f"Too many parameters: at most {MAX_FIELDS} are allowed in one request."
        raise _fail(msg)
    try:
        return _nest(_fields(body, separator_escaped))
    except UnicodeDecodeError:
        raise _fail(not_utf8) from None


def _bad_escape(body: str) -> InvalidRequestError:
    """The error for the body's first ``%`` not followed by two hex digits."""
    found = _BAD_ESCAPE.search(body)
    assert found is not None
    escape = body[found.start() : found.start() + 3]
    msg = (
        f"Invalid request: {escape!r} is not a percent-escape (% and two hex digits); "
        "write a literal % as %25."
    )
    return _fail(msg)


_BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")
_HEX_DIGIT_PAIRS = frozenset(a + b for a in string.hexdigits for b in string.hexdigits)
_SEPARATOR_ESCAPES = frozenset(("26", "3D", "3d"))


def _unquote_plus(text: str) -> str:
    """``urllib.parse.unquote_plus(text, errors="strict")``, faster on ASCII text (what
    clients send): its escapes become bytes in one pass and are decoded at once."""
    text = text.replace("+", " ")
    if "%" not in text:
        return text
    if text.isascii():
        return unquote_to_bytes(text).decode("utf-8")
    return unquote(text, errors="strict")


def _fields(body: str, separator_escaped: bool | None = None) -> Iterable[tuple[str, str, str]]:
    """The body's ``(name, "=", value)`` fields: ``urllib.parse.parse_qsl(body,
    keep_blank_values=True, errors="strict")`` at a fraction of its cost. A body without
    ``%26`` or ``%3D`` (the SDKs' bodies, nearly always; ``separator_escaped`` says so when
    the caller looked) is unquoted in one call, otherwise only the parts holding ``%`` or
    ``+``."""
    if separator_escaped is None:
        separator_escaped = _ESCAPED_SEPARATOR.search(body) is not None
    if separator_escaped:
        return _each_unquoted(body)
    if "%" in body or "+" in body:
        body = _unquote_plus(body)
    return map(str.partition, filter(None, body.split("&")), repeat("="))


# Escapes of the two separators: while a body holds neither, unquoting it whole before
# splitting it gives the same pairs as unquoting each part after.
_ESCAPED_SEPARATOR = re.compile(r"%(?:26|3[Dd])")


def _each_unquoted(body: str) -> Iterator[tuple[str, str, str]]:
    for field in body.split("&"):
        if not field:
            continue
        name, _, value = field.partition("=")
        if "%" in name or "+" in name:
            name = _unquote_plus(name)
        if "%" in value or "+" in value:
            value = _unquote_plus(value)
        yield name, "=", value
