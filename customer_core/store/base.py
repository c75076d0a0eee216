"""The store port: what CustomerService needs from storage, and nothing of Stripe's rules.

A store keeps customer records (plain JSON-ready dicts), tombstones of deleted ones and
the invoice prefixes ever used. It keeps ids and prefixes unique and walks records in
``(created, id)`` order. It never validates parameters, merges metadata or words a
Stripe error: that is the service's job. The behaviour below is checked for every store
by ``customer_core.testing.StoreContract``.
"""

from __future__ import annotations

import abc
from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from types import TracebackType
from typing import Any

__all__ = ["KeyRange", "Record", "SortKey", "Store"]

Record = dict[str, Any]
"""A customer record: its Stripe JSON form. Stores read ``id``, ``created``, ``email``
and ``invoice_prefix`` from it to maintain their indexes."""

SortKey = tuple[int, str]
"""``(created, id)``: the order of the list endpoint (newest first = descending)."""


@dataclass(frozen=True)
class KeyRange:
    """Bounds on sort keys; ``None`` is unbounded. Built by the service from cursors and
    ``created`` filters.

    >>> KeyRange(lower=(5, ""), upper=(9, "")).intersect(KeyRange(lower=(7, "a"))).lower
    (7, 'a')
    """

    lower: SortKey | None = None
    lower_inclusive: bool = True
    upper: SortKey | None = None
    upper_inclusive: bool = True

    def intersect(self, other: KeyRange) -> KeyRange:
        """Return the range of keys inside both ranges."""
        lower, lower_inclusive = self.lower, self.lower_inclusive
        if other.lower is not None and (
            lower is None
            or other.lower > lower
            or (other.lower == lower and not other.lower_inclusive)
        ):
            lower, lower_inclusive = other.lower, other.lower_inclusive
        upper, upper_inclusive = self.upper, self.upper_inclusive
        if other.upper is not None and (
            upper is None
            or other.upper < upper
            or (other.upper == upper and not other.upper_inclusive)
        ):
            upper, upper_inclusive = other.upper, other.upper_inclusive
        return KeyRange(lower, lower_inclusive, upper, upper_inclusive)

    def contains(self, key: SortKey) -> bool:
        """Return whether ``key`` lies inside the range."""
        if self.lower is not None and (
            key < self.lower or (key == self.lower and not self.lower_inclusive)
        ):
            return False
        return not (
            self.upper is not None
            and (key > self.upper or (key == self.upper and not self.upper_inclusive))
        )


class Store(abc.ABC):
    """Persistence for customer records, tombstones and invoice prefixes.

    Every method is safe to call from several threads. Records passed in are not kept
    by reference and records returned are fresh copies the caller owns. Failures are
    ``customer_core.errors.StoreError`` subclasses and leave the data as it was.
    """

    @abc.abstractmethod
    def transaction(self) -> AbstractContextManager[None]:
        """Make the calls inside the block one atomic unit: all of them or none.

        Re-entrant: an inner block joins the outer one. Other threads (and, for
        durable stores, other processes) do not see partial work and cannot write
        in between, so a read-modify-write inside the block loses no update. An
        exception leaving the outermost block rolls everything back and propagates.
        """

    @abc.abstractmethod
    def insert(self, record: Record) -> None:
        """Add a new live record.

        Raises DuplicateKeyError (``key`` = ``"id"`` or ``"invoice_prefix"``) if the id
        is held by any record or tombstone, or the invoice prefix was ever used by
        another customer (tombstones and former prefixes included).
        """

    @abc.abstractmethod
    def get(self, customer_id: str) -> Record | None:
        """Return the live record with that id, or None (unknown or deleted)."""

    @abc.abstractmethod
    def is_deleted(self, customer_id: str) -> bool:
        """Return whether a tombstone exists for that id."""

    @abc.abstractmethod
    def sort_key(self, customer_id: str) -> SortKey | None:
        """Return ``(created, id)`` of a live or deleted customer, None if unknown."""

    @abc.abstractmethod
    def replace(self, record: Record) -> None:
        """Overwrite the live record with the same id (``created`` never changes).

        Raises RecordNotFoundError if there is no live record with that id, and
        DuplicateKeyError if a new invoice prefix was ever used by another customer.
        The record's previous prefixes stay reserved for it.
        """

    @abc.abstractmethod
    def delete(self, customer_id: str) -> None:
        """Turn the live record into a tombstone: ``get`` then returns None, ``is_deleted``
        True, ``scan`` skips it; its id and prefixes stay reserved.

        Raises RecordNotFoundError if there is no live record with that id.
        """

    @abc.abstractmethod
    def scan(
        self,
        key_range: KeyRange = KeyRange(),
        *,
        descending: bool = True,
        email: str | None = None,
        limit: int | None = None,
    ) -> list[Record]:
        """Return live records whose sort key is in ``key_range``, in key order.

        ``email`` keeps only records with exactly that email (case-sensitive).
        ``limit`` caps the count. Costs O(log n + returned records) when the store
        has an index for the filter: never a walk over all customers.
        """

    @abc.abstractmethod
    def count(self) -> int:
        """Return the number of live records."""

    @abc.abstractmethod
    def snapshot(self) -> dict[str, Any]:
        """Return the whole content, for tests and exports: ``{"customers": [records in
        key order], "tombstones": {id: created}, "invoice_prefixes": {prefix: id}}``."""

    def close(self) -> None:  # noqa: B027 - optional hook, nothing to release by default
        """Release resources; the store must not be used afterwards."""

    def _check(self) -> None:  # noqa: B027 - optional hook
        """Assert that internal indexes agree with each other (tests call it)."""

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def iter_all(self, *, batch_size: int = 1000) -> Iterator[Record]:
        """Yield every live record newest first, a page at a time (bounded memory)."""
        key_range = KeyRange()
        while True:
            page = self.scan(key_range, limit=batch_size)
            yield from page
            if len(page) < batch_size:
                return
            last = page[-1]
            key_range = KeyRange(upper=(last["created"], last["id"]), upper_inclusive=False)
