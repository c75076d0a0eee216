"""The store port: what CustomerService needs from storage, and nothing of Stripe's rules.

A store keeps customer records (plain JSON-ready dicts), tombstones of deleted ones and
the invoice prefixes ever used. It keeps ids and prefixes unique and walks records in
``(created, id)`` order. It never validates parameters, merges metadata or words a
Stripe error: that is the service's job. The behaviour below is checked for every store
by ``customer_core.testing.StoreContract``.
"""

from __future__ import annotations

import abc
import re
import threading
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from threading import RLock
from types import TracebackType
from typing import Any, ClassVar, Protocol, cast

import pydantic_core

from ..models import API_VERSION, Record

__all__ = [
    "BATCH_SIZE",
    "BlockDepth",
    "Checkpoint",
    "KeyRange",
    "NestedTransaction",
    "PURGE_LIMIT",
    "PreviousAttributes",
    "Record",
    "SAFE_JSON_TEXT",
    "SortKey",
    "Store",
    "StoreInconsistency",
    "StoreSnapshot",
    "ThreadBlock",
    "TransactionHooks",
    "event_of",
    "holds_invoice_prefix",
    "keeps_writes",
    "require",
    "resolved",
    "walk",
]


def event_of(
    event_id: str,
    created: int,
    type: str,
    data_object: Record,
    request_id: str | None,
    idempotency_key: str | None,
    pending_webhooks: int,
    previous_attributes: Record | None = None,
) -> Record:
    """An event in Stripe's shape and key order (what ``Store.event_add`` stores and
    reads back), about ``data_object``: the customer (or tax ID) after the change."""
    return {
        "id": event_id,
        "object": "event",
        "api_version": API_VERSION,
        "created": created,
        "data": {"object": data_object}
        if previous_attributes is None
        else {"object": data_object, "previous_attributes": previous_attributes},
        "livemode": False,
        "pending_webhooks": pending_webhooks,
        "request": {"id": request_id, "idempotency_key": idempotency_key},
        "type": type,
    }


class PreviousAttributes:
    """An update event's ``previous_attributes``, worked out when wanted: ``rule(before,
    after, keys)``, the service's rule (``events.diff.previous_attributes``), of the
    customer before and after the update (``after`` is the dict the store was just given
    to ``replace``). A store that writes the event's text at once calls ``value()``; the
    memory store, which keeps both customers' stored forms anyway, keeps the one replaced
    beside the event and applies ``rule`` to them when the event is read (no diff on the
    write path, and nothing but bytes kept)."""

    __slots__ = ("after", "before", "keys", "rule")

    def __init__(
        self,
        rule: Callable[[Record, Record, Sequence[str] | None], Record],
        before: Record,
        after: Record,
        keys: Sequence[str] | None = None,
    ) -> None:
        self.rule = rule
        self.before = before
        self.after = after
        self.keys = keys

    def value(self) -> Record:
        """The previous attributes."""
        return self.rule(self.before, self.after, self.keys)


def resolved(previous_attributes: Record | PreviousAttributes | None) -> Record | None:
    """``previous_attributes`` as a value (a ``PreviousAttributes`` worked out)."""
    if type(previous_attributes) is PreviousAttributes:
        return previous_attributes.value()
    return cast("Record | None", previous_attributes)


def keeps_writes(cls: type, base: type) -> bool:
    """Whether ``cls`` keeps ``base``'s ``insert`` and ``event_add``, so that ``base``'s
    own one-call ``insert_with_event`` does what they would. A subclass that overrides one
    of them (a test double that holds or refuses writes) should get the port's default,
    built on them (``__init_subclass__``)."""
    return all(getattr(cls, name) is getattr(base, name) for name in ("insert", "event_add"))


class StoreInconsistency(AssertionError):
    """Raised by ``Store.check_consistency``: the store's indexes or reservations disagree
    with its records. An AssertionError, so test runners report it as a failed check; raised
    explicitly, so it also fires under ``python -O``."""


def require(condition: object, message: str) -> None:
    """For ``check_consistency`` implementations: raise StoreInconsistency(message) unless
    ``condition`` holds."""
    if not condition:
        raise StoreInconsistency(message)


BATCH_SIZE = 200
"""Records fetched per step when walking a key range: bounds the memory a walk holds."""

PURGE_LIMIT = 1000
"""Rows a purge (``event_purge``, ``idempotency_purge``, ``outbox_purge``) removes at most
by default: a purge runs inside a write, so a backlog (after a long pause) is removed in
bites of this size over several writes, each O(limit log n), instead of in one stall."""

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


class TransactionHooks(Protocol):
    """What a store does at the edges of its outermost transaction block (under the lock)."""

    def begin(self) -> None:
        """Start the unit of work (open an undo log, ``BEGIN IMMEDIATE``, ...)."""

    def commit(self) -> None:
        """Make the work durable and visible; the block ended normally."""

    def abort(self) -> None:
        """Undo the work; an exception is leaving the block."""


class NestedTransaction:
    """Re-entrant transactions over one lock, for store implementations.

    A store keeps one instance and returns it from ``Store.transaction()``: entering takes
    the lock (so it also guards the store's own reads and writes) and counts the depth; the
    outermost block runs ``hooks.begin()``, then ``hooks.commit()`` when it ends normally
    or ``hooks.abort()`` when it raises. Inner blocks join the outer one.
    """

    __slots__ = ("_depth", "_hooks", "lock")

    def __init__(self, hooks: TransactionHooks, lock: RLock | None = None) -> None:
        self._hooks = hooks
        self._depth = 0
        self.lock: RLock = threading.RLock() if lock is None else lock

    @property
    def depth(self) -> int:
        """How many blocks are open (0 when idle); only meaningful to the lock's holder."""
        return self._depth

    def __enter__(self) -> None:
        self.lock.acquire()
        try:
            if self._depth == 0:
                self._hooks.begin()
            self._depth += 1
        except BaseException:
            self.lock.release()
            raise

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        try:
            self._depth -= 1
            if self._depth == 0:
                if exc_type is None:
                    self._hooks.commit()
                else:
                    self._hooks.abort()
        finally:
            self.lock.release()


class BlockDepth(threading.local):
    """How deep the current thread is in the blocks of one ``ThreadBlock`` (a subclass may
    keep more per-thread state of the block, such as its connection)."""

    depth = 0


class ThreadBlock(abc.ABC):
    """A re-entrant ``with`` block kept per thread: the outermost block of a thread runs
    ``_open`` on entry and ``_close`` on exit, and blocks inside it join it. One instance
    serves every thread (the PostgreSQL store's transactions)."""

    __slots__ = ("local",)

    def __init__(self, local: BlockDepth | None = None) -> None:
        self.local = BlockDepth() if local is None else local

    @abc.abstractmethod
    def _open(self) -> None:
        """Start the outermost block (if this raises, the block is not entered)."""

    @abc.abstractmethod
    def _close(self, error: BaseException | None) -> None:
        """End the outermost block: ``error`` is what is leaving it, None if it ended well."""

    def __enter__(self) -> None:
        local = self.local
        if local.depth == 0:
            self._open()
        local.depth += 1

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        local = self.local
        local.depth -= 1
        if local.depth == 0:
            self._close(exc)


SAFE_JSON_TEXT = re.compile(r"[ !#-\[\]-~]+")
"""Printable ASCII without the two characters JSON escapes: text a JSON body holds as is."""

_PREFIX_KEY = b'"invoice_prefix":'
"""In a JSON body: a key named invoice_prefix (JSON escapes the quotes of string values, so
the text is always a key: the record's own, or a metadata key)."""


def holds_invoice_prefix(body: bytes) -> bool:
    """Whether a customer's compact JSON body holds an invoice prefix (a string where it
    could be null). The text after the key answers when the body has that key once (the
    record's own); a metadata key of the same name makes it read the parsed body."""
    first = body.find(_PREFIX_KEY)
    if first < 0:
        return False
    after = first + len(_PREFIX_KEY)
    if body.find(_PREFIX_KEY, after) < 0:
        return body[after : after + 1] == b'"'
    return pydantic_core.from_json(body).get("invoice_prefix") is not None


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

    def records_json(self, *, descending: bool = True) -> Iterator[bytes]:
        """``records()`` as compact JSON, as ``pydantic_core.to_json`` writes a record (a
        store that keeps that text hands it out without decoding it)."""
        to_json = pydantic_core.to_json
        for record in self.records(descending=descending):
            yield to_json(record)

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

    may_block: ClassVar[bool] = True
    """Whether a call may wait for the disk, the network or a lock another process holds.
    The HTTP server runs the calls of such a store on worker threads, so that a wait holds
    up no other request, and those of a store that never waits (the memory store) on its
    event loop, which spares each request a thread hop. A store that may wait says True."""

    works_out_previous_attributes: ClassVar[bool] = False
    """Whether ``event_add`` keeps a ``PreviousAttributes`` and works it out when the
    event is read (the memory store). The service then decides with ``events.diff.changes``
    whether an update records an event and passes one; to a store that would work it out
    at once it passes the value it makes (every store takes either)."""

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
    def reserve_invoice_prefix(self, prefix: str, customer_id: str) -> bool:
        """Keep ``prefix`` reserved for ``customer_id`` (a former prefix, or a tombstone's);
        return True if it was not reserved before.

        Nothing happens if it already is (False); raises DuplicateKeyError (``key`` =
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
        self, field: str, terms: Sequence[str], key_range: KeyRange, *, limit: int
    ) -> list[SortKey]:
        """Return sort keys of live customers whose ``field`` (``email``, ``name`` or
        ``phone``) holds every one of ``terms`` (at least one), inside ``key_range``, newest
        first, at most ``limit``. A value's terms are its words and its pairs of adjacent
        words, ``customer_core.search.evaluate.index_terms(field, value)``. Costs
        O(log n + keys walked) per term: never a walk over all customers."""

    @abc.abstractmethod
    def idempotency_get(self, key: str) -> dict[str, Any] | None:
        """Return the entry saved for an idempotency key, or None."""

    @abc.abstractmethod
    def idempotency_put(self, key: str, entry: dict[str, Any]) -> None:
        """Save (or overwrite) the entry for an idempotency key. ``entry["created"]`` is
        its Unix time; the rest is the service's (JSON-ready values only)."""

    @abc.abstractmethod
    def idempotency_purge(self, before: int, *, limit: int = PURGE_LIMIT) -> int:
        """Forget the entries created before ``before``, at most ``limit`` of them, the
        oldest first (``(created, key)`` order); return how many were removed (``limit``:
        there may be more). O(limit log n)."""

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

    # --- events (customer_core.events) --------------------------------------------------

    @abc.abstractmethod
    def event_insert(self, event: Record) -> None:
        """Add an event (its Stripe JSON form; ``id``, ``created`` and ``type`` are read).

        Raises DuplicateKeyError (``key`` = ``"id"``) if the id is taken. Events are never
        changed afterwards; ``event_purge`` removes them. When ``data.object`` is the very
        dict this store last inserted or replaced (as the service records events), a store
        may reuse the encoding it made of it, so the caller must not change that dict in
        between.
        """

    def event_add(
        self,
        event_id: str,
        created: int,
        type: str,
        data_object: Record,
        request_id: str | None,
        idempotency_key: str | None,
        pending_webhooks: int,
        previous_attributes: Record | PreviousAttributes | None = None,
    ) -> None:
        """Add the event ``event_of`` makes of these values: ``event_insert`` of it, from
        its parts (what the service records with each write). A store may keep the parts
        instead of the event and compose it when read (no encoding of the event's head),
        and reuse the encoding of ``data_object`` when it is the dict it last inserted or
        replaced (so the caller must not change that dict in between). A
        ``PreviousAttributes`` is worked out here (``value()``), or later by a store that
        keeps what it needs (see there). Raises DuplicateKeyError (``key`` = ``"id"``) if
        the id is taken, as ``event_insert`` does.
        """
        self.event_insert(
            event_of(
                event_id,
                created,
                type,
                data_object,
                request_id,
                idempotency_key,
                pending_webhooks,
                resolved(previous_attributes),
            )
        )

    def insert_with_event(
        self,
        record: Record,
        event_id: str,
        created: int,
        type: str,
        request_id: str | None,
        idempotency_key: str | None,
        pending_webhooks: int,
    ) -> None:
        """``insert(record)`` and ``event_add`` of an event about it, as one atomic step
        (a transaction of its own, or part of the caller's): both or neither. Raises what
        ``insert`` raises, or DuplicateKeyError (``key`` = ``"id"``) if the event id is
        taken; either way neither is written (inside a caller's ``transaction()`` block a
        store may leave the refusal to the block: the error leaving it rolls both back, as
        the service lets it; PostgreSQL checks a deferred event's id only at commit). The
        service's create with events takes this one call when nothing else joins its write:
        a store writes both in one hold of its lock, with no block of the service around
        them."""
        with self.transaction():
            self.insert(record)
            self.event_add(
                event_id, created, type, record, request_id, idempotency_key, pending_webhooks
            )

    @abc.abstractmethod
    def event_get(self, event_id: str) -> Record | None:
        """Return the event with that id, or None."""

    def event_get_many(self, event_ids: Collection[str]) -> dict[str, Record]:
        """Return the events with those ids that exist, by id (ids found nowhere are left
        out). One read where the store can make it one (PostgreSQL: one query): the
        delivery worker reads a batch's events at once."""
        found: dict[str, Record] = {}
        for event_id in event_ids:
            event = self.event_get(event_id)
            if event is not None:
                found[event_id] = event
        return found

    def event_json_many(self, event_ids: Collection[str]) -> dict[str, bytes]:
        """Return the events with those ids that exist as compact JSON (``event_get``'s
        record, keys in its order), by id: what the delivery worker sends, pretty-printed.
        A store that keeps events as JSON gives them as kept, decoding nothing."""
        to_json = pydantic_core.to_json
        return {
            event_id: to_json(event) for event_id, event in self.event_get_many(event_ids).items()
        }

    @abc.abstractmethod
    def event_scan(
        self,
        key_range: KeyRange = KeyRange(),
        *,
        descending: bool = True,
        types: Collection[str] | None = None,
        limit: int | None = None,
    ) -> list[Record]:
        """Return events whose ``(created, id)`` is in ``key_range``, in key order, only those
        whose ``type`` is one of ``types`` when given, at most ``limit``.
        O(log n + returned events) per type."""

    @abc.abstractmethod
    def event_purge(self, before: int, *, limit: int = PURGE_LIMIT) -> int:
        """Remove the events created before ``before``, at most ``limit`` of them, the
        oldest first (``(created, id)`` order); return how many were removed (``limit``:
        there may be more). O(limit log n)."""

    @abc.abstractmethod
    def webhook_endpoint_put(self, endpoint: Record) -> None:
        """Save a webhook endpoint (insert, or replace the one with the same ``id``; its
        ``created`` never changes)."""

    @abc.abstractmethod
    def webhook_endpoint_get(self, endpoint_id: str) -> Record | None:
        """Return the webhook endpoint with that id, or None."""

    @abc.abstractmethod
    def webhook_endpoint_delete(self, endpoint_id: str) -> None:
        """Remove a webhook endpoint; RecordNotFoundError if there is none."""

    @abc.abstractmethod
    def webhook_endpoint_scan(
        self, key_range: KeyRange = KeyRange(), *, descending: bool = True, limit: int | None = None
    ) -> list[Record]:
        """Return webhook endpoints whose ``(created, id)`` is in ``key_range``, in key order."""

    # --- webhook deliveries: the outbox and its attempts (customer_core.events.outbox) -----

    @abc.abstractmethod
    def outbox_add(self, deliveries: Sequence[Record]) -> None:
        """Add pending deliveries, written in the transaction of the event they deliver.

        A delivery is ``{"event": id, "endpoint": id, "created": time, "next_attempt":
        time, "attempts": 0, "status": "pending"}`` (times are Unix seconds, floats).
        Raises DuplicateKeyError (``key`` = ``"id"``) if the store holds a delivery of that
        event to that endpoint.
        """

    @abc.abstractmethod
    def outbox_next_due(self) -> float | None:
        """Return the earliest ``next_attempt`` of the pending deliveries, None if none."""

    @abc.abstractmethod
    def outbox_claim(self, now: float, lease_until: float, limit: int) -> list[Record]:
        """Take up to ``limit`` pending deliveries due at ``now`` (``next_attempt <= now``),
        the earliest first, and set their ``next_attempt`` to ``lease_until``, so no other
        worker (thread, process or host) takes them before that; return them as now
        stored, in any order. A delivery whose worker died is due again after the lease.
        """

    @abc.abstractmethod
    def outbox_settle(self, deliveries: Sequence[Record], attempts: Sequence[Record]) -> None:
        """Save what attempts made of deliveries, in one step: a delivery whose ``status``
        is ``"pending"`` or ``"failed"`` (given up) replaces the stored one (``attempts``,
        ``next_attempt``, ``status``); any other status (``"succeeded"``, ``"canceled"``)
        removes it. A delivery the store no longer holds is skipped. ``attempts`` are
        added (records with ``id``, ``created``, ``endpoint``; see
        ``delivery_attempt_scan``); DuplicateKeyError if an attempt id is taken.
        """

    def outbox_arrivals(self, mark: str | None) -> tuple[int, str | None] | None:
        """Count the deliveries added since ``mark`` (what the last call returned; None on
        the first call, which counts none) and return the count with the mark for the next
        call; None if this store cannot tell cheaply (the default). A delivery process
        paces itself by it: deliveries that keep arriving mean a busy API. The count may
        fall short (a delivery added and removed between two calls), never over."""
        return None

    @abc.abstractmethod
    def outbox_pending(self, event_ids: Collection[str]) -> dict[str, int]:
        """Return, for each of ``event_ids`` that has any, the number of its deliveries not
        yet made (pending or given up): the event's ``pending_webhooks``."""

    @abc.abstractmethod
    def outbox_event_ids(self) -> set[str]:
        """Return the ids of the events with a delivery not yet made (pending or given
        up): those whose ``pending_webhooks`` is not 0. Costs O(deliveries not yet made)."""

    @abc.abstractmethod
    def outbox_purge(self, before: float, *, limit: int = PURGE_LIMIT) -> int:
        """Remove the given-up deliveries and the attempts created before ``before``, at
        most ``limit`` in all: the oldest given-up deliveries first (``(created, event,
        endpoint)`` order), then the oldest attempts (``(created, id)``); return how many
        were removed (``limit``: there may be more). O(limit log n) for the attempts; the
        given-up deliveries are found among the deliveries not yet made."""

    @abc.abstractmethod
    def outbox_cancel(self, endpoint_id: str) -> int:
        """Remove the deliveries to ``endpoint_id`` not yet made (pending or given up), as
        its deletion or disabling does, so no event counts them in ``pending_webhooks``;
        return how many. Its attempts stay. O(deliveries not yet made)."""

    @abc.abstractmethod
    def delivery_attempt_get(self, attempt_id: str) -> Record | None:
        """Return the delivery attempt with that id, or None (a list cursor's position)."""

    @abc.abstractmethod
    def delivery_attempt_scan(
        self,
        key_range: KeyRange = KeyRange(),
        *,
        endpoint: str | None = None,
        descending: bool = True,
        limit: int | None = None,
    ) -> list[Record]:
        """Return delivery attempts whose ``(created, id)`` is in ``key_range``, in key
        order, only those to ``endpoint`` when given, at most ``limit``."""

    @abc.abstractmethod
    def count(self) -> int:
        """Return the number of live records."""

    @abc.abstractmethod
    def snapshot(self) -> dict[str, Any]:
        """Return the whole content, for tests and exports: ``{"customers": [records in
        key order], "tombstones": {id: created}, "invoice_prefixes": {prefix: id},
        "idempotency_keys": {key: entry}, "tax_ids": [tax ID records in (customer, created,
        id) order], "events": [events in key order], "webhook_endpoints": [endpoints in key
        order]}``: everything a caller can observe. ``checkpoint()`` is the restorable copy."""

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

    def files(self) -> tuple[str, ...]:
        """The paths of the local files that hold this store's data (its data file and the
        files its engine keeps beside it), existing or not yet, so that an export or a copy
        never writes over them. None (empty) for a store in memory or on a server."""
        return ()

    def waits_abandoned(self) -> AbstractContextManager[None]:
        """Inside the block, a call that waits for a lock held elsewhere (another process's
        write lock) gives up at once, and so does one that would start waiting: it raises
        ``StoreError`` (HTTP 503) having written nothing. Calls that need no wait run as
        usual. A stopping server wraps its shutdown in it, so that writes not yet begun
        (never acknowledged) do not hold the exit up for a whole busy timeout, while writes
        already under way finish. Re-entrant. The default suits a store that never waits
        for a lock held elsewhere (the memory store): nothing to abandon."""
        return nullcontext()

    @abc.abstractmethod
    def check_consistency(self) -> None:
        """Check that the store agrees with itself; raise ``StoreInconsistency`` naming the
        first disagreement.

        Every index (order, words, metadata postings, tax IDs, ...) must hold exactly the
        entries its live records call for, every current invoice prefix must be reserved for
        its customer, and no id may be both live and a tombstone. Slow (it reads
        everything): for tests and diagnostics. The store contract suite calls it after
        every test, so a store that leaves an index behind its records fails there.
        """

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def iter_all(self, *, batch_size: int = BATCH_SIZE) -> Iterator[Record]:
        """Yield every live record newest first, ``batch_size`` at a time (bounded memory)."""
        return walk(
            lambda key_range, size: self.scan(key_range, limit=size), KeyRange(), batch_size
        )


def walk(
    fetch: Callable[[KeyRange, int], list[Record]],
    key_range: KeyRange = KeyRange(),
    batch_size: int = BATCH_SIZE,
) -> Iterator[Record]:
    """Yield every record ``fetch(key_range, limit)`` returns over the range, newest first,
    in batches that start at ``batch_size`` and double up to ``BATCH_SIZE``; ``fetch`` is a
    descending ``Store.scan`` or ``Store.scan_containing``."""
    batch_size = max(1, batch_size)
    while True:
        page = fetch(key_range, batch_size)
        yield from page
        if len(page) < batch_size:
            return
        last = page[-1]
        key_range = key_range.intersect(
            KeyRange(upper=(last["created"], last["id"]), upper_inclusive=False)
        )
        batch_size = max(batch_size, min(batch_size * 2, BATCH_SIZE))
