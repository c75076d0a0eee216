"""Cursor logic: ``created`` filters and search page tokens as sort-key ranges.

>>> created_range({"gte": 10, "lt": 20})
KeyRange(lower=(10, ''), lower_inclusive=True, upper=(20, ''), upper_inclusive=False)
>>> page_key(page_token((10, "cus_1")))
(10, 'cus_1')
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

from .errors import InvalidRequestError
from .store.base import KeyRange, SortKey

__all__ = ["created_range", "page_key", "page_token"]

_PAGE_PREFIX = "page_"


def page_token(key: SortKey) -> str:
    """An opaque ``next_page`` token: the sort key of the last customer shown."""
    raw = f"{key[0]}:{key[1]}".encode()
    return _PAGE_PREFIX + base64.urlsafe_b64encode(raw).decode().rstrip("=")


def page_key(token: str) -> SortKey:
    """The sort key inside a ``page`` token; a token no search produced is refused."""
    try:
        if not token.startswith(_PAGE_PREFIX):
            raise ValueError(token)
        encoded = token[len(_PAGE_PREFIX) :]
        raw = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode()
        created, customer_id = raw.split(":", 1)
        return int(created), customer_id
    except ValueError:
        msg = f"Invalid page: {token!r} is not a next_page value returned by a previous search."
        raise InvalidRequestError(msg, param="page") from None


def created_range(created: int | Mapping[str, Any] | None) -> KeyRange:
    """Turn a ``created`` filter (exact int or gt/gte/lt/lte) into sort-key bounds."""
    if created is None:
        return KeyRange()
    if isinstance(created, int):
        created = {"gte": created, "lte": created}
    key_range = KeyRange()
    gte, gt, lte, lt = (created.get(name) for name in ("gte", "gt", "lte", "lt"))
    if gte is not None:
        key_range = key_range.intersect(KeyRange(lower=(gte, "")))
    if gt is not None:
        key_range = key_range.intersect(KeyRange(lower=(gt + 1, "")))
    if lte is not None:
        key_range = key_range.intersect(KeyRange(upper=(lte + 1, ""), upper_inclusive=False))
    if lt is not None:
        key_range = key_range.intersect(KeyRange(upper=(lt, ""), upper_inclusive=False))
    return key_range
