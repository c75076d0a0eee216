"""Cursor logic: ``created`` filters and search page tokens as sort-key ranges.

>>> created_range({"gte": 10, "lt": 20})
KeyRange(lower=(10, ''), lower_inclusive=True, upper=(20, ''), upper_inclusive=False)
>>> page_key(page_token((10, "cus_1"), 'name:"x"'), 'name:"x"')
(10, 'cus_1')
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from .errors import InvalidRequestError
from .integers import INT64_MAX, INT64_MIN, parse_int64
from .store.base import KeyRange, SortKey

__all__ = [
    "NOTHING",
    "created_between",
    "created_range",
    "cursor_range",
    "page_key",
    "page_token",
    "trim_page",
]

_PAGE_PREFIX = "page_"


def page_token(key: SortKey, query: str) -> str:
    """An opaque ``next_page`` token: the sort key of the last customer shown, bound to the
    query that found it (a token passed with another query would page through the wrong
    results silently)."""
    raw = f"{_query_tag(query)}:{key[0]}:{key[1]}".encode()
    return _PAGE_PREFIX + base64.urlsafe_b64encode(raw).decode().rstrip("=")


def page_key(token: str, query: str) -> SortKey:
    """The sort key inside a ``page`` token of a search for ``query``; a token no search
    produced, or one from a search for another query, is refused."""
    try:
        if not token.startswith(_PAGE_PREFIX):
            raise ValueError(token)
        encoded = token[len(_PAGE_PREFIX) :]
        raw = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode()
        tag, created_text, customer_id = raw.split(":", 2)
        created = parse_int64(created_text)
        if created is None:
            raise ValueError(created_text)
    except ValueError:
        msg = f"Invalid page: {token!r} is not a next_page value returned by a previous search."
        raise InvalidRequestError(msg, param="page") from None
    if tag != _query_tag(query):
        msg = (
            f"Invalid page: {token!r} is the next_page of a search with another query; "
            "pass the same query with it."
        )
        raise InvalidRequestError(msg, param="page")
    return created, customer_id


def _query_tag(query: str) -> str:
    return hashlib.blake2b(query.encode("utf-8", "surrogatepass"), digest_size=6).hexdigest()


NOTHING = KeyRange(lower=(INT64_MAX, ""), upper=(INT64_MIN, ""))
"""A range no key lies in (its lower bound is above its upper one), within 64 bits."""


def created_between(lowest: int | None, highest: int | None) -> KeyRange:
    """The sort keys of customers created from ``lowest`` to ``highest`` (inclusive; None
    is open), with every bound inside 64 bits: a bound past an end of the range is no bound
    (``created <= INT64_MAX`` holds for all) or no key at all (``created > INT64_MAX``).

    >>> created_between(None, INT64_MAX) == KeyRange()
    True
    >>> created_between(INT64_MAX + 1, None) == NOTHING
    True
    """
    if (lowest is not None and lowest > INT64_MAX) or (highest is not None and highest < INT64_MIN):
        return NOTHING
    key_range = KeyRange()
    if lowest is not None and lowest > INT64_MIN:
        key_range = key_range.intersect(KeyRange(lower=(lowest, "")))
    if highest is not None and highest < INT64_MAX:
        key_range = key_range.intersect(KeyRange(upper=(highest + 1, ""), upper_inclusive=False))
    return key_range


def created_range(created: int | Mapping[str, Any] | None) -> KeyRange:
    """Turn a ``created`` filter (exact int or gt/gte/lt/lte) into sort-key bounds."""
    if created is None:
        return KeyRange()
    if isinstance(created, int):
        return created_between(created, created)
    gte, gt, lte, lt = (created.get(name) for name in ("gte", "gt", "lte", "lt"))
    lows = [bound for bound in (gte, None if gt is None else gt + 1) if bound is not None]
    highs = [bound for bound in (lte, None if lt is None else lt - 1) if bound is not None]
    return created_between(max(lows, default=None), min(highs, default=None))


def cursor_range(
    starting_after: str | None,
    ending_before: str | None,
    sort_key: Callable[[str], SortKey | None],
    not_found: Callable[[str, str], InvalidRequestError],
) -> tuple[KeyRange, bool]:
    """The key range and direction (``descending``) of a list page after or before a
    cursor object; a page without a cursor starts at the newest.

    ``sort_key`` finds a cursor's ``(created, id)``; an unknown cursor is
    ``not_found(cursor, param)``, reported before "Received both" (contract section 18).
    """
    keys: dict[str, SortKey] = {}
    for name, cursor in (("starting_after", starting_after), ("ending_before", ending_before)):
        if cursor is not None:
            key = sort_key(cursor)
            if key is None:
                raise not_found(cursor, name)
            keys[name] = key
    if len(keys) == 2:
        msg = "Received both starting_after and ending_before parameters. Please pass in only one."
        raise InvalidRequestError(msg)
    if "starting_after" in keys:
        return KeyRange(upper=keys["starting_after"], upper_inclusive=False), True
    if "ending_before" in keys:
        return KeyRange(lower=keys["ending_before"], lower_inclusive=False), False
    return KeyRange(), True


_Item = TypeVar("_Item")


def trim_page(items: list[_Item], limit: int, descending: bool) -> tuple[list[_Item], bool]:
    """Cut ``limit + 1`` items read in key order to a page, newest first, and say whether
    there are more (the extra item)."""
    has_more = len(items) > limit
    del items[limit:]
    if not descending:
        items.reverse()
    return items, has_more
