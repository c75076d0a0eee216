"""Stripe's integers: 64-bit, written in ASCII digits; the one definition of their syntax.

>>> parse_int64("-42"), parse_int64("9223372036854775808"), parse_int64("٣")
(-42, None, None)
>>> is_digits("12"), is_digits("²")
(True, False)
"""

from __future__ import annotations

import re

__all__ = ["INT64_MAX", "INT64_MIN", "is_digits", "parse_int64"]

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1

_INTEGER = re.compile(r"-?[0-9]{1,20}")
_DIGITS = re.compile(r"[0-9]+")


def parse_int64(text: str) -> int | None:
    """The integer ``text`` spells, or None: an optional ``-`` and ASCII digits only (not
    the other Unicode digits ``int()`` takes, no spaces, ``+`` or ``_``), within 64 bits."""
    if not _INTEGER.fullmatch(text):
        return None
    value = int(text)
    return value if INT64_MIN <= value <= INT64_MAX else None


def is_digits(text: str) -> bool:
    """Whether ``text`` is ASCII digits only, as an array index (``expand[0]``) or a
    Content-Length is written; ``str.isdigit`` also takes ``²`` and ``٣``, which ``int()``
    refuses or reads as another number."""
    return _DIGITS.fullmatch(text) is not None
