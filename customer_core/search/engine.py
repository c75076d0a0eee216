"""Run a parsed query against a Store: plan which index narrows it, then check every candidate.

The store only offers what stores do (ordered scans, ``scan_containing``, the word and
metadata-posting lookups); what a clause means (``matches``) and which lookup can
answer a query (``plan``) live here, so every store gets the same search semantics.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterator

from ..models import Record
from ..pagination import created_between
from ..store.base import BATCH_SIZE, KeyRange, SortKey, Store, walk
from .ast import Query
from .evaluate import matches
from .plan import IndexHint, created_bounds, index_hint, index_hints, substring_hint

__all__ = ["count", "find"]


def find(
    store: Store, query: Query, key_range: KeyRange = KeyRange(), *, limit: int
) -> list[Record]:
    """Return up to ``limit`` live records matching ``query`` in ``key_range``, newest first.

    Uses ``store.metadata_keys`` or ``store.word_keys`` when the query allows (for an OR
    query, one lookup per clause, merged; see ``customer_core.search.plan``), else walks
    the key range a page at a time (through ``store.scan_containing`` when a ``~`` clause
    lets the store skip records), so memory stays bounded by the page, not the store.
    Every candidate is checked with ``matches``: indexes only narrow, they never decide.
    """
    found: list[Record] = []
    for record in _candidates(store, query, key_range, first_chunk=limit):
        if matches(query, record):
            found.append(record)
            if len(found) >= limit:
                break
    return found


def count(store: Store, query: Query, *, cap: int) -> int:
    """Count live records matching ``query``, stopping at ``cap``."""
    total = 0
    for record in _candidates(store, query, KeyRange()):
        if matches(query, record):
            total += 1
            if total >= cap:
                break
    return total


def _candidates(
    store: Store, query: Query, key_range: KeyRange, first_chunk: int = BATCH_SIZE
) -> Iterator[Record]:
    """Records that may match, newest first; chunks start at ``first_chunk`` (a page
    rarely needs more) and double up to ``BATCH_SIZE`` while the filter keeps rejecting."""
    key_range = key_range.intersect(created_between(*created_bounds(query)))
    hints = index_hints(query) or [index_hint(query)]
    if hints == [None]:
        containing = substring_hint(query)
        if containing is None:
            yield from walk(lambda part, size: store.scan(part, limit=size), key_range, first_chunk)
        else:
            yield from walk(
                lambda part, size: store.scan_containing(containing, part, limit=size),
                key_range,
                first_chunk,
            )
        return
    streams = [_index_keys(store, hint, key_range, first_chunk) for hint in hints]
    # An OR query's lookups, merged newest first; a record two clauses match comes once.
    keys = streams[0] if len(streams) == 1 else _distinct(heapq.merge(*streams, reverse=True))
    for _, customer_id in keys:
        record = store.get(customer_id)
        if record is not None:  # deleted since the keys were read
            yield record


def _index_keys(
    store: Store, hint: IndexHint, key_range: KeyRange, first_chunk: int
) -> Iterator[SortKey]:
    """The sort keys one index lookup gives, newest first, a chunk at a time."""
    keys_in: Callable[[KeyRange, int], list[SortKey]]
    if hint is None:
        return
    if hint[0] == "metadata":
        _, metadata_key, value = hint
        assert isinstance(value, str)

        def keys_in(part: KeyRange, size: int) -> list[SortKey]:
            return store.metadata_keys(metadata_key, value, part, limit=size)

    else:
        _, field, terms = hint
        if not terms:  # a phrase without words matches nothing
            return

        def keys_in(part: KeyRange, size: int) -> list[SortKey]:
            return store.word_keys(field, terms, part, limit=size)

    chunk = max(1, min(first_chunk, BATCH_SIZE))
    while True:
        keys = keys_in(key_range, chunk)
        yield from keys
        if len(keys) < chunk:
            return
        key_range = key_range.intersect(KeyRange(upper=keys[-1], upper_inclusive=False))
        chunk = min(chunk * 2, BATCH_SIZE)


def _distinct(keys: Iterator[SortKey]) -> Iterator[SortKey]:
    """``keys`` (sorted) without repeats."""
    last = None
    for key in keys:
        if key != last:
            yield key
            last = key
