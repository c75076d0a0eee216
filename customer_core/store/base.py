"""The store port: what CustomerService needs from storage, and nothing of Stripe's rules.

A store keeps customer records (plain JSON-ready dicts), tombstones of deleted ones and
the invoice prefixes ever used. It keeps ids and prefixes unique and walks records in
``(created, id)`` order. It never validates parameters, merges metadata or words a
Stripe error: that is the service's job. The behaviour below is checked for every store
by ``customer_core.testing.StoreContract``.
"""

from __future__ import annotations

import abc
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from ..search.ast import Query
from ..search.evaluate import matches
from ..search.plan import created_bounds, index_hint, substring_hint

__all__ = [
    "Checkpoint",
    "KeyRange",
    "NestedTransaction",
    "Record",
    "SortKey",
    "Store",
    "StoreSnapshot",
]

Record = dict[str, Any]
"""A customer record: its Stripe JSON form. Stores read ``id``, ``created``, ``email``
and ``invoice_prefix`` from it to maintain their indexes."""

_CHUNK = 200

SortKey = tuple[int, str]
"""``(created, id)``: the order of the list endpoint (newest first = descending)."""


@dataclass(frozen=True, eq=False)
class Checkpoint:
    """Everything one store kept at one moment, from ``Store.checkpoint()``: opaque, never
    changed afterwards, and restorable any number of times into a store of the same type."""

    store_type: type[Store]
    state: Any


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


class NestedTransaction:
    """A re-entrant transaction over a store's lock, for store implementations.

    The store provides ``_lock`` (an RLock), ``_depth`` (0 when idle) and three hooks run
    under the lock by the outermost block only: ``_begin()``, ``_commit()`` (when the
    block ends normally) and ``_abort()`` (when it raises).
    """

    __slots__ = ("_store",)

    def __init__(self, store: Any) -> None:
        self._store = store

    def __enter__(self) -> None:
        store = self._store
        store._lock.acquire()
        try:
            if store._depth == 0:
                store._begin()
            store._depth += 1
        except BaseException:
            store._lock.release()
            raise

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        store = self._store
        try:
            store._depth -= 1
            if store._depth == 0:
                if exc_type is None:
                    store._commit()
                else:
                    store._abort()
        finally:
            store._lock.release()


class StoreSnapshot(abc.ABC):
    """A consistent view of a whole store, for exports: what it held when the snapshot
    began, whatever is written meanwhile. Every method streams: memory stays bounded
    however many customers the store holds. Used inside ``Store.read_snapshot()`` only."""

    @abc.abstractmethod
    def count(self) -> int:
        """Return the number of live records."""

    @abc.abstractmethod
    def records(self, *, descending: bool = True) -> Iterator[Record]:
        """Yield every live record in ``(created, id)`` order."""

    @abc.abstractmethod
    def tombstones(self) -> Iterator[tuple[str, int]]:
        """Yield ``(id, created)`` of every tombstone, by id."""

    @abc.abstractmethod
    def tax_ids(self) -> Iterator[Record]:
        """Yield every tax ID record, by customer id, then ``(created, id)``."""

    @abc.abstractmethod
    def former_invoice_prefixes(self) -> Iterator[tuple[str, str]]:
        """Yield ``(customer id, prefix)`` for every reserved invoice prefix that is not
        the current prefix of a live record (all of a tombstone's, a live customer's
        former ones), by customer id then prefix."""


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
    def insert_many(self, records: Iterable[Record]) -> None:
        """Add new live records in one atomic step, much faster than one ``insert`` each:
        the bulk path of imports.

        All or none: the first record that ``insert`` would refuse (an id held by a record
        or tombstone, or earlier in ``records``; an invoice prefix held by another
        customer) raises DuplicateKeyError, as ``insert`` would, and nothing is added.
        """

    @abc.abstractmethod
    def insert_tombstone(self, customer_id: str, created: int) -> None:
        """Add a tombstone for a customer this store never held (an imported deletion).

        Raises DuplicateKeyError (``key`` = ``"id"``) if a record or tombstone holds the id.
        """

    @abc.abstractmethod
    def reserve_invoice_prefix(self, prefix: str, customer_id: str) -> None:
        """Keep ``prefix`` reserved for ``customer_id`` (a former prefix, or a tombstone's).

        Nothing happens if it already is; raises DuplicateKeyError (``key`` =
        ``"invoice_prefix"``) if another customer holds it.
        """

    @abc.abstractmethod
    def read_snapshot(self) -> AbstractContextManager[StoreSnapshot]:
        """A consistent snapshot of the whole store for the duration of the block.

        A store may make writers wait for the block to end (the memory store does) or
        let them go on unseen (the SQLite store reads from a snapshot of its own).
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
        True, ``scan`` skips it; its id and prefixes stay reserved. The customer's tax
        IDs are removed in the same step.

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

    def scan_containing(
        self, text: str, key_range: KeyRange = KeyRange(), *, limit: int
    ) -> list[Record]:
        """``scan`` for a substring search: live records in ``key_range``, newest first, at
        most ``limit``, of which a store may leave out any record in which no string value
        contains ``text`` (lowercase) case-insensitively. Search checks every record it
        gets, so leaving out fewer is always correct; this default leaves out none."""
        return self.scan(key_range, limit=limit)

    @abc.abstractmethod
    def metadata_keys(
        self, key: str, value: str, key_range: KeyRange, *, limit: int
    ) -> list[SortKey]:
        """Return sort keys of live customers whose ``metadata[key]``, lowercased, equals
        ``value``, inside ``key_range``, newest first, at most ``limit``. O(log n + limit)."""

    @abc.abstractmethod
    def word_keys(
        self, field: str, words: Sequence[str], key_range: KeyRange, *, limit: int
    ) -> list[SortKey]:
        """Return sort keys of live customers whose ``field`` (``email``, ``name`` or
        ``phone``) holds every one of ``words`` (at least one) among its words, anywhere and
        in any order, inside ``key_range``, newest first, at most ``limit``. A value's words
        are ``customer_core.search.field_words(field, value)``. Costs O(log n + keys walked)
        per word: never a walk over all customers."""

    def search(self, query: Query, key_range: KeyRange = KeyRange(), *, limit: int) -> list[Record]:
        """Return up to ``limit`` live records matching ``query`` in ``key_range``, newest first.

        Uses ``metadata_keys`` or ``word_keys`` when the query allows (see
        ``customer_core.search.plan``), else walks the key range a page at a time (through
        ``scan_containing`` when a ``~`` clause lets the store skip records), so memory
        stays bounded by the page, not the store. Every candidate is checked with
        ``customer_core.search.matches``: indexes only narrow, they never decide.
        """
        found: list[Record] = []
        for record in self._candidates(query, key_range, first_chunk=limit):
            if matches(query, record):
                found.append(record)
                if len(found) >= limit:
                    break
        return found

    def count_matches(self, query: Query, *, cap: int = 10_000) -> int:
        """Count live records matching ``query``, stopping at ``cap`` (Stripe's total_count
        is "only accurate up to 10,000")."""
        count = 0
        for record in self._candidates(query, KeyRange()):
            if matches(query, record):
                count += 1
                if count >= cap:
                    break
        return count

    def _candidates(
        self, query: Query, key_range: KeyRange, first_chunk: int = _CHUNK
    ) -> Iterator[Record]:
        """Records that may match, newest first; chunks start at ``first_chunk`` (a page
        rarely needs more) and double up to ``_CHUNK`` while the filter keeps rejecting."""
        lowest, highest = created_bounds(query)
        if lowest is not None:
            key_range = key_range.intersect(KeyRange(lower=(lowest, "")))
        if highest is not None:
            key_range = key_range.intersect(
                KeyRange(upper=(highest + 1, ""), upper_inclusive=False)
            )
        hint = index_hint(query)
        if hint is None:
            yield from self._walk(key_range, first_chunk, containing=substring_hint(query))
            return
        if hint[0] == "metadata":
            _, metadata_key, value = hint

            def keys_in(key_range: KeyRange, limit: int) -> list[SortKey]:
                return self.metadata_keys(metadata_key, value, key_range, limit=limit)  # type: ignore[arg-type]

        else:
            _, field, words = hint
            if not words:  # a phrase without words matches nothing
                return

            def keys_in(key_range: KeyRange, limit: int) -> list[SortKey]:
                return self.word_keys(field, words, key_range, limit=limit)

        chunk = max(1, min(first_chunk, _CHUNK))
        while True:
            keys = keys_in(key_range, chunk)
            yield from self._records_of(keys)
            if len(keys) < chunk:
                return
            key_range = key_range.intersect(KeyRange(upper=keys[-1], upper_inclusive=False))
            chunk = min(chunk * 2, _CHUNK)

    def _records_of(self, keys: list[SortKey]) -> Iterator[Record]:
        for _, customer_id in keys:
            record = self.get(customer_id)
            if record is not None:  # deleted since the keys were read
                yield record

    def _walk(
        self, key_range: KeyRange, batch_size: int = _CHUNK, containing: str | None = None
    ) -> Iterator[Record]:
        """Every live record in the range, newest first, in batches growing to ``_CHUNK``;
        with ``containing``, the store may skip records without that text (``scan_containing``)."""
        batch_size = max(1, batch_size)
        while True:
            if containing is None:
                page = self.scan(key_range, limit=batch_size)
            else:
                page = self.scan_containing(containing, key_range, limit=batch_size)
            yield from page
            if len(page) < batch_size:
                return
            last = page[-1]
            key_range = key_range.intersect(
                KeyRange(upper=(last["created"], last["id"]), upper_inclusive=False)
            )
            batch_size = max(batch_size, min(batch_size * 2, _CHUNK))

    @abc.abstractmethod
    def idempotency_get(self, key: str) -> dict[str, Any] | None:
        """Return the entry saved for an idempotency key, or None."""

    @abc.abstractmethod
    def idempotency_put(self, key: str, entry: dict[str, Any]) -> None:
        """Save (or overwrite) the entry for an idempotency key. ``entry["created"]`` is
        its Unix time; the rest is the service's (JSON-ready values only)."""

    @abc.abstractmethod
    def idempotency_purge(self, before: int) -> int:
        """Forget entries created before ``before``; return how many were removed."""

    # --- tax IDs: records of a customer's TaxId objects, kept and deleted with it ---------

    @abc.abstractmethod
    def insert_tax_id(self, record: Record) -> None:
        """Add a tax ID record (a TaxId's Stripe JSON; stores read ``id``, ``created`` and
        ``customer``).

        Raises RecordNotFoundError if ``record["customer"]`` is not a live customer, and
        DuplicateKeyError (``key`` = ``"id"``) if a tax ID with that id exists.
        """

    @abc.abstractmethod
    def get_tax_id(self, tax_id: str) -> Record | None:
        """Return the tax ID record with that id, or None."""

    @abc.abstractmethod
    def delete_tax_id(self, tax_id: str) -> None:
        """Remove a tax ID record for good; raises RecordNotFoundError if there is none."""

    @abc.abstractmethod
    def tax_ids(
        self,
        customer_id: str,
        key_range: KeyRange = KeyRange(),
        *,
        descending: bool = True,
        limit: int | None = None,
    ) -> list[Record]:
        """Return the customer's tax ID records whose ``(created, id)`` is in ``key_range``,
        in that order, at most ``limit``. Costs O(log n + returned records)."""

    @abc.abstractmethod
    def count(self) -> int:
        """Return the number of live records."""

    @abc.abstractmethod
    def snapshot(self) -> dict[str, Any]:
        """Return the whole content, for tests and exports: ``{"customers": [records in
        key order], "tombstones": {id: created}, "invoice_prefixes": {prefix: id},
        "idempotency_keys": {key: entry}, "tax_ids": [tax ID records in (customer, created,
        id) order]}``. ``checkpoint()`` is the restorable copy."""

    @abc.abstractmethod
    def checkpoint(self) -> Checkpoint:
        """Return a copy of everything the store keeps, for ``restore``.

        Everything: records, tombstones, prefixes, idempotency keys and whatever else the
        store holds, now or in a later version. A store copies its whole state generically
        (every table, every container) rather than a list of known parts, so nothing
        added later can be left out.
        """

    @abc.abstractmethod
    def restore(self, checkpoint: Checkpoint) -> None:
        """Make the content exactly what it was when ``checkpoint`` was taken.

        Inside a transaction it rolls back with it. The checkpoint stays usable. Raises
        ValueError for a checkpoint another type of store took.
        """

    def _checkpoint_state(self, checkpoint: Checkpoint) -> Any:
        """The state of a checkpoint this type of store took; ValueError for any other."""
        if not isinstance(checkpoint, Checkpoint) or checkpoint.store_type is not type(self):
            taken_by = getattr(getattr(checkpoint, "store_type", None), "__name__", checkpoint)
            msg = f"{type(self).__name__} cannot restore a checkpoint of {taken_by}."
            raise ValueError(msg)
        return checkpoint.state

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

    def iter_all(self, *, batch_size: int = _CHUNK) -> Iterator[Record]:
        """Yield every live record newest first, ``batch_size`` at a time (bounded memory)."""
        return self._walk(KeyRange(), batch_size)
