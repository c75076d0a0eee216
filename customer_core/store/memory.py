"""MemoryStore: the in-process store, on sortedcontainers.

Representation (a decision, see docs/decisions.md): each customer record is kept as one
``bytes`` object, its compact JSON as ``pydantic_core.to_json`` writes it (what the API
returns and an export writes, so an export hands it out as is). Bytes are not tracked by
Python's garbage collector, so a million stored customers add almost nothing to what
each collection has to traverse; a dict per record would add millions of tracked
objects and make every create pay for it. It costs about 0.8 KiB per customer instead of
about 7.6 KiB for a pydantic model, and decodes as fast as ``marshal`` did. Other
records (tax IDs, events, ...) are ``marshal`` bytes.

Indexes: SortedLists of ``(created, id)`` for list pages, ``(field, term, created, id)``
for the words and adjacent word pairs of email, name and phone (search; an email is one
word, its lowercase address, so the list's exact email filter reads that group too), and ``(metadata key,
lowercase value, created, id)`` for search; dicts for ids, tombstones and prefixes. Tax
IDs: marshal bytes by id, and a SortedList of ``(customer, created, id)`` for a
customer's list. Entries are tuples of strings and ints, which the garbage collector
stops tracking after one pass; terms are interned, so a common word is stored once.
A new customer (``insert``, ``insert_many``) gets its created order and email entries at
once (lists, lookups by email); the entries only search reads are made by the first
search that needs them, from the stored JSON (``MemoryStore._index_searches``), so a run
of creates or an import that no search follows never pays for them.
"""

from __future__ import annotations

import heapq
import marshal
import math
from bisect import bisect_right, insort
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from functools import partial
from itertools import islice, repeat
from operator import itemgetter
from typing import Any, ClassVar, cast

import pydantic_core
from sortedcontainers import SortedDict, SortedList, SortedSet  # type: ignore[import-untyped]

from ..errors import DuplicateKeyError, RecordNotFoundError, StoreClosedError
from .base import (
    PURGE_LIMIT,
    SAFE_JSON_TEXT,
    Checkpoint,
    KeyRange,
    NestedTransaction,
    PreviousAttributes,
    Record,
    SortKey,
    Store,
    StoreSnapshot,
    event_of,
    holds_invoice_prefix,
    keeps_writes,
    require,
    resolved,
)
from .entries import add_email_entry, add_index_entries, add_search_entries, searched_fields
from .sql import event_body

__all__ = ["MemoryStore"]


# UTF-8 of the only non-ASCII letters whose str.lower() holds an ASCII letter ("k", "i").
CONTAINING_CHUNK = 2_000
"""Records ``scan_containing`` looks through in one hold of the store's lock (about a
millisecond's work)."""
_KELVIN_SIGN = "\u212a".encode()
_DOTTED_CAPITAL_I = "\u0130".encode()

# Values a checkpoint can share with the live store because nothing can change them.
_IMMUTABLE = frozenset({str, bytes, int, float, bool, type(None)})


def _copy_sorted_list(value: SortedList) -> SortedList:
    """A copy of a SortedList that keeps its sublists as they are: ``SortedList.copy()``
    sorts every entry again, 10 ms for the 80,000 index entries of 10,000 customers, where
    copying the sublists takes a fortieth of that (sortedcontainers 2.x layout: ``_lists``
    and, keyed, ``_keys`` hold the sublists; ``_maxes`` and ``_index`` are flat lists)."""
    copy = SortedList.__new__(type(value))
    copy.__dict__.update(
        {
            name: [list(part) for part in part_list]
            if name in ("_lists", "_keys")
            else list(part_list)
            if isinstance(part_list, list)
            else part_list
            for name, part_list in vars(value).items()
        }
    )
    return copy


def _add(index: SortedList, value: Any) -> None:
    """``index.add(value)`` in one call instead of two (a create adds eight index entries):
    sortedcontainers 2.x's ``add`` and ``_expand`` for a list without a positional index;
    one with an index, or an empty one, takes ``SortedList.add`` itself."""
    maxes = index._maxes
    if not maxes or index._index:
        index.add(value)
        return
    lists = index._lists
    pos = bisect_right(maxes, value)
    if pos == len(maxes):
        pos -= 1
        lists[pos].append(value)
        maxes[pos] = value
    else:
        insort(lists[pos], value)
    if len(lists[pos]) > (index._load << 1):
        index._expand(pos)  # splits the sublist
    index._len += 1


def _append(index: SortedList, value: Any) -> None:
    """``_add`` for a value that nearly always goes last (a new event is the newest): onto
    the last sublist when it is above every value (a third of ``add``'s cost)."""
    maxes = index._maxes
    if not maxes or index._index or value <= maxes[-1]:
        _add(index, value)
        return
    last = index._lists[-1]
    last.append(value)
    maxes[-1] = value
    index._len += 1
    if len(last) > (index._load << 1):
        index._expand(len(maxes) - 1)


_FIRST, _SECOND = itemgetter(0), itemgetter(1)
"""An index entry's field and word (or metadata key and value)."""

_Entries = tuple[tuple[SortedList, list[tuple[Any, ...]]], ...]
"""Index entries grouped by the index (a SortedList) they belong in."""


def _differences(old: _Entries, new: _Entries) -> tuple[_Entries, _Entries]:
    """The entries only ``old`` holds and those only ``new`` holds, index by index."""
    removed = tuple(
        (index, [entry for entry in before if entry not in after])
        for (index, before), (_, after) in zip(old, new, strict=True)
    )
    added = tuple(
        (index, [entry for entry in after if entry not in before])
        for (index, before), (_, after) in zip(old, new, strict=True)
    )
    return removed, added


def _copy_state(value: Any, name: str) -> Any:
    """A copy of one part of a MemoryStore's state that later writes cannot reach.

    Containers are copied, nested ones recursively; immutable values are shared (records
    are bytes, so a 10,000-customer store copies in a few milliseconds). Sorted
    containers are copied shallowly: their keys cannot change in place. Anything else is
    refused, so that a new kind of state cannot slip out of checkpoints unnoticed.
    """
    kind = type(value)
    if kind in _IMMUTABLE:
        return value
    if kind is tuple:
        if set(map(type, value)) <= _IMMUTABLE:
            return value  # immutable all through (an event of event_add): shared
        return tuple(_copy_state(item, name) for item in value)
    if isinstance(value, SortedList):
        return _copy_sorted_list(value)
    if isinstance(value, (SortedSet, SortedDict)):
        return value.copy()
    if kind is set or kind is frozenset:
        return kind(value)  # members are hashable: immutable in practice
    if kind is dict:
        if set(map(type, value.values())) <= _IMMUTABLE:
            return value.copy()
        return {key: _copy_state(item, name) for key, item in value.items()}
    if kind is list:
        if set(map(type, value)) <= _IMMUTABLE:
            return value.copy()
        return [_copy_state(item, name) for item in value]
    msg = f"MemoryStore cannot checkpoint {name}: it holds a {kind.__name__}."
    raise TypeError(msg)


def _keys_in(order: SortedList, key_range: KeyRange, descending: bool) -> Iterator[SortKey]:
    """The ``(created, id)`` sort keys of ``order`` inside ``key_range``, in key order."""
    inclusive = (key_range.lower_inclusive, key_range.upper_inclusive)
    keys: Iterator[SortKey] = order.irange(
        key_range.lower, key_range.upper, inclusive, reverse=descending
    )
    return keys


def _keys_under(
    index: SortedList, prefix: str, key_range: KeyRange, descending: bool
) -> Iterator[SortKey]:
    """The sort keys of ``index``'s ``(prefix, created, id)`` entries inside ``key_range``."""
    lower = (prefix, *key_range.lower) if key_range.lower else (prefix,)
    upper = (prefix, *key_range.upper) if key_range.upper else (prefix, math.inf)
    inclusive = (key_range.lower_inclusive, key_range.upper_inclusive)
    return (entry[1:] for entry in index.irange(lower, upper, inclusive, reverse=descending))


def _event_id_taken(event_id: str) -> DuplicateKeyError:
    return DuplicateKeyError(f"Event id {event_id} is already taken.", key="id", value=event_id)


class _UndoLog:
    """The MemoryStore's transaction hooks: inside a transaction every change logs the step
    that reverts it, and an abort runs them newest first; a commit runs ``on_commit``."""

    __slots__ = ("_on_commit", "steps")

    def __init__(self, on_commit: Callable[[], None]) -> None:
        self.steps: list[Callable[[], None]] | None = None
        """The steps logged in the transaction open now (None outside one)."""
        self._on_commit = on_commit

    def log(self, step: Callable[[], None]) -> None:
        if self.steps is not None:
            self.steps.append(step)

    def begin(self) -> None:
        self.steps = []

    def commit(self) -> None:
        self._on_commit()
        self.steps = None

    def abort(self) -> None:
        steps, self.steps = self.steps, None
        for step in reversed(steps or []):
            step()


class MemoryStore(Store):
    """Customer records in memory; fast, bounded in memory per record, not durable.

    >>> from customer_core import CustomerService
    >>> svc = CustomerService(MemoryStore())
    >>> svc.create(email="jenny@example.com").email
    'jenny@example.com'
    """

    may_block = False  # its calls wait for nothing but its own brief lock
    works_out_previous_attributes = True  # from the bytes an update replaced (_event_tuple)
    # Machinery, not content: every other attribute is state that checkpoint() copies.
    _MACHINERY = frozenset(
        {"_lock", "_transaction", "_undo", "_closed", "_written", "_unindexed", "_rules"}
    )
    _encode = staticmethod(pydantic_core.to_json)
    """A customer record's stored form: its compact JSON."""

    _one_call_writes: ClassVar[bool] = True
    """Whether ``insert_with_event`` writes customer and event in one hold
    (``keeps_writes``); else the port's default, built on the overrides."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._one_call_writes = keeps_writes(cls, MemoryStore)

    def __init__(self) -> None:
        self._undo = _UndoLog(self._settle)
        self._transaction = NestedTransaction(self._undo)
        self._lock = self._transaction.lock
        self._closed = False
        # The record last inserted or replaced and its encoding: the event that follows
        # the write holds that very dict, so its encoding is reused (see _encode_event).
        # A replace keeps the bytes it replaced third (an update event's previous
        # attributes may be worked out from them when read: see _event_tuple).
        self._written: tuple[Record, bytes, bytes | None] | None = None
        # The rules (PreviousAttributes.rule) of the events kept with the bytes they
        # replaced, by number: nearly always one, events.diff.previous_attributes.
        self._rules: list[Callable[[Record, Record, Sequence[str] | None], Record]] = []
        self._records: dict[str, bytes] = {}
        self._order: SortedList = SortedList()
        self._by_words: SortedList = SortedList()
        self._by_metadata: SortedList = SortedList()
        # Index entries of insert_many calls inside a transaction, merged into their
        # indexes in bulk (``_settle``) when it commits or before an index is read: by
        # id of the entry list, which an abort's undo step drops again.
        self._unindexed: dict[int, tuple[SortedList, list[tuple[Any, ...]]]] = {}
        # Customers written by insert or insert_many whose search entries
        # (``add_search_entries``: the words of name and phone, metadata values) are not
        # made yet, id -> created: the first read of those indexes builds them
        # (``_index_searches``), so creates or an import that no search follows never pay
        # for them. Their order and email entries are made as usual.
        self._unsearched: dict[str, int] = {}
        self._tombstones: dict[str, int] = {}
        self._prefixes: dict[str, str] = {}
        self._idempotency: dict[str, bytes] = {}
        # Each entry's created time beside it, and the (created, key) pairs in order: a
        # purge takes the oldest from these, not every entry.
        self._idempotency_created: dict[str, int] = {}
        self._idempotency_order: SortedList = SortedList()
        self._tax_ids: dict[str, bytes] = {}
        self._tax_id_order: SortedList = SortedList()

        # An event of event_add is a tuple of its parts (see there). One of event_insert
        # is its marshal with ``data.object`` left out when that object is a customer
        # this store just wrote: then the customer's stored bytes, the very object
        # ``_records`` holds, go into ``_event_objects`` (shared, not copied).
        self._events: dict[str, bytes | tuple[Any, ...]] = {}
        self._event_objects: dict[str, bytes] = {}
        # The (created, id) keys of the events of each type: an event adds one entry, and
        # a walk over all types merges theirs (there are few types).
        self._events_by_type: dict[str, SortedList] = {}
        self._webhook_endpoints: dict[str, bytes] = {}
        self._webhook_endpoint_order: SortedList = SortedList()
        # Outbox: (event, endpoint) -> (created, next_attempt, attempts, status); the pending
        # ones by (next_attempt, event, endpoint); the deliveries of each event, counted.
        self._outbox: dict[tuple[str, str], tuple[float, float, int, str]] = {}
        self._outbox_due: SortedList = SortedList()
        self._outbox_given_up: SortedList = SortedList()  # (created, event, endpoint)
        self._outbox_counts: dict[str, int] = {}
        self._attempts: dict[str, bytes] = {}
        self._attempt_order: SortedList = SortedList()
        self._attempts_by_endpoint: SortedList = SortedList()

    # --- encoding --------------------------------------------------------------------

    @staticmethod
    def _decode(payload: bytes) -> Record:
        record: Record = pydantic_core.from_json(payload)
        return record

    def _encode_event(self, event: Record) -> tuple[bytes, bytes | None]:
        """An event's encoding and, when its ``data.object`` is the record this store just
        wrote, that record's stored bytes: the event's own encoding then holds None in the
        slot, so the customer is neither encoded a second time nor copied."""
        data = event.get("data")
        written = self._written
        if written is not None and type(data) is dict and data.get("object") is written[0]:
            # The slot changes for the one call, not copies of the event and its data.
            data["object"] = None
            try:
                return marshal.dumps(event), written[1]
            finally:
                data["object"] = written[0]
        return marshal.dumps(event), None

    def _decode_event(self, event_id: str) -> Record:
        stored = self._events[event_id]
        if isinstance(stored, tuple):  # event_add's parts
            return event_of(
                event_id,
                stored[0],
                stored[1],
                self._decode(stored[2]),
                stored[3],
                stored[4],
                stored[5],
                self._previous(stored[6], stored[2]),
            )
        event: Record = marshal.loads(stored)
        payload = self._event_objects.get(event_id)
        if payload is not None:
            event["data"]["object"] = self._decode(payload)
        return event

    def _previous(self, kept: Any, payload: bytes) -> Record | None:
        """An event's previous attributes from what ``_event_tuple`` kept of them: None,
        their marshal, or the customer's bytes before the update (``payload``: after it),
        the fields it was given and the number of its rule, which works them out."""
        if kept is None:
            return None
        if type(kept) is bytes:
            previous: Record = marshal.loads(kept)
            return previous
        replaced, keys, rule = kept
        worked_out: Record = self._rules[rule](self._decode(replaced), self._decode(payload), keys)
        return worked_out

    # --- bookkeeping -----------------------------------------------------------------

    def _ensure_open(self) -> None:
        if self._closed:
            msg = "This MemoryStore is closed."
            raise StoreClosedError(msg)

    def _log(self, step: Callable[[], None]) -> None:
        """Inside a transaction, remember the step that reverts a change."""
        self._undo.log(step)

    def _reserve_prefix(self, prefix: str | None, customer_id: str) -> bool:
        """Reserve ``prefix`` for the customer; return whether it was not already."""
        if prefix is None:
            return False
        holder = self._prefixes.get(prefix)
        if holder is None:
            self._prefixes[prefix] = customer_id

            def undo() -> None:
                del self._prefixes[prefix]

            self._log(undo)
            return True
        if holder != customer_id:
            msg = f"Invoice prefix {prefix} is already held by another customer."
            raise DuplicateKeyError(msg, key="invoice_prefix", value=prefix)
        return False

    def _entries(self, records: Iterable[Record], *, search: bool = True) -> _Entries:
        """The index entries of ``records``, grouped by their index; without the entries
        only search reads unless ``search``."""
        order: list[tuple[Any, ...]] = []
        words: list[tuple[Any, ...]] = []
        metadata: list[tuple[Any, ...]] = []
        for record in records:
            order.append((record["created"], record["id"]))
            if search:
                add_index_entries(record, words, metadata)
            else:
                add_email_entry(record, words)
        return ((self._order, order), (self._by_words, words), (self._by_metadata, metadata))

    def _index_searches(self) -> None:
        """Build the search entries of the customers insert or insert_many left
        unsearched, from their stored JSON (only the fields they come from), and merge
        them in bulk.

        The customers are read in (created, id) order, so each term's entries come in
        index order, and two stable sorts, by word (or value) then by field (or key), put
        them all in order comparing strings only: sorting whole entries, whose terms
        repeat, took most of the time (27 s for 1M)."""
        unsearched = self._unsearched
        if not unsearched:
            return
        words: list[tuple[Any, ...]] = []
        metadata: list[tuple[Any, ...]] = []
        records = self._records
        keys = sorted((created, customer_id) for customer_id, created in unsearched.items())
        for _, customer_id in keys:
            add_search_entries(searched_fields(records[customer_id]), words, metadata)
        self._unsearched = {}
        for index, entries in ((self._by_words, words), (self._by_metadata, metadata)):
            entries.sort(key=_SECOND)
            entries.sort(key=_FIRST)
            index.update(entries)  # sorted already: one pass of comparisons checks it

        def undo() -> None:
            for index, added in ((self._by_words, words), (self._by_metadata, metadata)):
                for entry in added:
                    index.remove(entry)
            self._unsearched = unsearched

        self._log(undo)

    def _settle(self) -> None:
        """Merge the entries insert_many left unindexed: one sort per index when they are
        many (SortedList.update merges the lists when the new entries are a quarter of the
        old ones or more), which costs a fraction of adding them one at a time."""
        if not self._unindexed:
            return
        merged: dict[int, tuple[SortedList, list[tuple[Any, ...]]]] = {}
        for index, entries in self._unindexed.values():
            merged.setdefault(id(index), (index, []))[1].extend(entries)
        self._unindexed = {}
        for index, entries in merged.values():
            index.update(entries)

    def _index(self, entries: _Entries) -> None:
        for index, group in entries:
            add = _append if index is self._order else _add  # a new customer is the newest
            for entry in group:
                add(index, entry)

    @staticmethod
    def _unindex(entries: _Entries) -> None:
        for index, group in entries:
            for entry in group:
                index.remove(entry)

    # --- the Store port --------------------------------------------------------------

    def transaction(self) -> NestedTransaction:
        return self._transaction

    def insert(self, record: Record) -> None:
        with self._lock:
            self._ensure_open()
            self._log(self._insert_customer(record))

    def _insert_customer(self, record: Record) -> Callable[[], None]:
        """Add a new customer (under the lock); return the step that undoes it. Refuses
        before changing anything."""
        customer_id: str = record["id"]
        if customer_id in self._records or customer_id in self._tombstones:
            msg = f"Customer id {customer_id} is already taken."
            raise DuplicateKeyError(msg, key="id", value=customer_id)
        self._reserve_prefix(record.get("invoice_prefix"), customer_id)
        payload = self._records[customer_id] = self._encode(record)
        entries = self._entries((record,), search=False)
        self._index(entries)
        self._unsearched[customer_id] = record["created"]
        self._written = (record, payload, None)

        def undo() -> None:
            # A search since has undone its own step first: it is unsearched again.
            del self._records[customer_id], self._unsearched[customer_id]
            self._unindex(entries)

        return undo

    def insert_many(self, records: Iterable[Record]) -> None:
        batch = list(records)
        with self._lock:
            self._ensure_open()
            # One pass over the records, which also encodes them and makes their entries:
            # an import's records are thousands, made a while ago, so out of the CPU's
            # caches, and each pass over them pays for that again. Each id and prefix is
            # written into the store's dicts right after it is looked up there, while
            # that place of the dict is in the cache (in a dict of a million entries,
            # each lookup elsewhere is a cache miss); a refused record takes out what
            # the call wrote.
            order: list[tuple[Any, ...]] = []
            emails: list[tuple[Any, ...]] = []
            new_prefixes: list[str] = []
            stored, tombstones, prefixes = self._records, self._tombstones, self._prefixes
            unsearched, encode = self._unsearched, self._encode
            try:
                for record in batch:
                    customer_id: str = record["id"]
                    if customer_id in stored or customer_id in tombstones:
                        msg = f"Customer id {customer_id} is already taken."
                        raise DuplicateKeyError(msg, key="id", value=customer_id)
                    stored[customer_id] = encode(record)
                    created = unsearched[customer_id] = record["created"]
                    order.append((created, customer_id))
                    prefix = record.get("invoice_prefix")
                    if prefix is not None:
                        holder = prefixes.get(prefix)
                        if holder is None:
                            prefixes[prefix] = customer_id
                            new_prefixes.append(prefix)
                        elif holder != customer_id:
                            msg = f"Invoice prefix {prefix} is already held by another customer."
                            raise DuplicateKeyError(msg, key="invoice_prefix", value=prefix)
                    add_email_entry(record, emails)
            except BaseException:  # a conflict, or a record that cannot be encoded
                self._take_out(order, new_prefixes)
                raise
            entries: _Entries = (
                (self._order, order),
                (self._by_words, emails),
                (self._by_metadata, []),
            )
            self._unindexed.update((id(added), (index, added)) for index, added in entries)
            if not self._transaction.depth:
                self._settle()

            def undo() -> None:
                self._take_out(order, new_prefixes)
                for index, added in entries:
                    if self._unindexed.pop(id(added), None) is None:
                        # Merged already (an index was read since).
                        self._unindex(((index, added),))

            self._log(undo)

    def _take_out(self, order: list[tuple[Any, ...]], new_prefixes: list[str]) -> None:
        """Remove what insert_many wrote to the dicts: the customers of ``order`` (each
        one's record and unsearched note) and the prefixes it reserved."""
        for _, customer_id in order:
            del self._records[customer_id]
            del self._unsearched[customer_id]
        for prefix in new_prefixes:
            del self._prefixes[prefix]

    def insert_tombstone(self, customer_id: str, created: int) -> None:
        with self._lock:
            self._ensure_open()
            if customer_id in self._records or customer_id in self._tombstones:
                msg = f"Customer id {customer_id} is already taken."
                raise DuplicateKeyError(msg, key="id", value=customer_id)
            self._tombstones[customer_id] = created

            def undo() -> None:
                del self._tombstones[customer_id]

            self._log(undo)

    def reserve_invoice_prefix(self, prefix: str, customer_id: str) -> bool:
        with self._lock:
            self._ensure_open()
            return self._reserve_prefix(prefix, customer_id)

    @contextmanager
    def read_snapshot(self) -> Iterator[StoreSnapshot]:
        # Holding the lock is the snapshot: writers of other threads wait for the block.
        with self._lock:
            self._ensure_open()
            yield _MemorySnapshot(self)

    def get(self, customer_id: str) -> Record | None:
        with self._lock:
            self._ensure_open()
            payload = self._records.get(customer_id)
            return None if payload is None else self._decode(payload)

    def is_deleted(self, customer_id: str) -> bool:
        with self._lock:
            self._ensure_open()
            return customer_id in self._tombstones

    def sort_key(self, customer_id: str) -> SortKey | None:
        with self._lock:
            self._ensure_open()
            payload = self._records.get(customer_id)
            if payload is not None:
                return (self._decode(payload)["created"], customer_id)
            created = self._tombstones.get(customer_id)
            return None if created is None else (created, customer_id)

    def replace(self, record: Record) -> None:
        customer_id: str = record["id"]
        with self._lock:
            self._ensure_open()
            old_payload = self._records.get(customer_id)
            if old_payload is None:
                msg = f"No live customer {customer_id} to replace."
                raise RecordNotFoundError(msg)
            old = self._decode(old_payload)
            self._settle()
            self._reserve_prefix(record.get("invoice_prefix"), customer_id)
            new = {**record, "created": old["created"]}
            payload = self._records[customer_id] = self._encode(new)
            searched = self._unsearched.pop(customer_id, None) is None
            old_entries = self._entries((old,), search=searched)
            removed, added = _differences(old_entries, self._entries((new,)))
            self._unindex(removed)
            self._index(added)

            def undo() -> None:
                self._records[customer_id] = old_payload
                self._unindex(added)
                self._index(removed)
                if not searched:
                    self._unsearched[customer_id] = old["created"]

            self._log(undo)
            # The payload is the record's own unless the record named another created time.
            kept = "created" in record and record["created"] == new["created"]
            self._written = (record, payload, old_payload) if kept else None

    def delete(self, customer_id: str) -> None:
        with self._lock:
            self._ensure_open()
            payload = self._records.pop(customer_id, None)
            if payload is None:
                msg = f"No live customer {customer_id} to delete."
                raise RecordNotFoundError(msg)
            old = self._decode(payload)
            searched = self._unsearched.pop(customer_id, None) is None
            entries = self._entries((old,), search=searched)
            self._settle()
            self._unindex(entries)
            self._tombstones[customer_id] = old["created"]
            tax_id_keys = list(self._tax_id_order.irange((customer_id,), (customer_id, math.inf)))
            tax_id_payloads = {key[2]: self._tax_ids.pop(key[2]) for key in tax_id_keys}
            for key in tax_id_keys:
                self._tax_id_order.remove(key)

            def undo() -> None:
                del self._tombstones[customer_id]
                self._records[customer_id] = payload
                self._index(entries)
                if not searched:
                    self._unsearched[customer_id] = old["created"]
                self._tax_ids.update(tax_id_payloads)
                self._tax_id_order.update(tax_id_keys)

            self._log(undo)

    def _keys(self, key_range: KeyRange, descending: bool) -> Iterator[SortKey]:
        """The sort keys of live records in ``key_range``, in key order."""
        self._settle()
        return _keys_in(self._order, key_range, descending)

    def scan(
        self,
        key_range: KeyRange = KeyRange(),
        *,
        descending: bool = True,
        email: str | None = None,
        limit: int | None = None,
    ) -> list[Record]:
        with self._lock:
            self._ensure_open()
            records, decode = self._records, self._decode
            if email is None:
                keys = self._keys(key_range, descending)
                return [decode(records[key[1]]) for key in islice(keys, limit)]
            # The email's word (its lowercase address) gathers every letter case of the
            # address; keep the exact, case-sensitive ones.
            entries = self._word_entries("email", email.lower(), key_range, descending)
            exact = (
                record
                for entry in entries
                if (record := decode(records[entry[3]]))["email"] == email
            )
            return list(islice(exact, limit))

    def scan_containing(
        self, text: str, key_range: KeyRange = KeyRange(), *, limit: int
    ) -> list[Record]:
        # A record's JSON holds printable ASCII other than " and \ as is and non-ASCII
        # characters as UTF-8, so a record whose value contains such ``text``
        # case-insensitively holds its bytes once ASCII letters are folded, unless the
        # text's k or i came from one of the two non-ASCII letters str.lower() turns into
        # them: those records are let through. Checking bytes costs a fraction of decoding.
        if not SAFE_JSON_TEXT.fullmatch(text):
            return self.scan(key_range, limit=limit)
        needle = text.lower().encode()
        found: list[Record] = []
        if limit <= 0:
            return found
        # The lock is held for CONTAINING_CHUNK records at a time, not for the whole walk:
        # a text few records hold would otherwise keep every other call waiting until the
        # walk reached the end of the store.
        while True:
            with self._lock:
                self._ensure_open()
                records, decode = self._records, self._decode
                keys = list(islice(self._keys(key_range, descending=True), CONTAINING_CHUNK))
                for key in keys:
                    payload = records[key[1]]
                    if (
                        needle in payload.lower()
                        or _KELVIN_SIGN in payload
                        or _DOTTED_CAPITAL_I in payload
                    ):
                        found.append(decode(payload))
                        if len(found) >= limit:
                            return found
            if len(keys) < CONTAINING_CHUNK:
                return found
            key_range = key_range.intersect(KeyRange(upper=keys[-1], upper_inclusive=False))

    def metadata_keys(
        self, key: str, value: str, key_range: KeyRange, *, limit: int
    ) -> list[SortKey]:
        lower = (key, value, *key_range.lower) if key_range.lower else (key, value)
        upper = (key, value, *key_range.upper) if key_range.upper else (key, value, math.inf)
        inclusive = (key_range.lower_inclusive, key_range.upper_inclusive)
        with self._lock:
            self._ensure_open()
            self._settle()
            self._index_searches()
            entries = self._by_metadata.irange(lower, upper, inclusive, reverse=True)
            return [(entry[2], entry[3]) for entry in islice(entries, limit)]

    def _words(self, field: str) -> SortedList:
        """The word index, holding every entry of ``field``'s words (an email's are always
        there: a list by email builds nothing)."""
        self._settle()
        if field != "email":
            self._index_searches()
        return self._by_words

    def _word_entries(
        self, field: str, word: str, key_range: KeyRange, descending: bool = True
    ) -> Iterator[tuple[str, str, int, str]]:
        """The word index entries of a term in ``field`` inside ``key_range``, in key order."""
        lower = (field, word, *key_range.lower) if key_range.lower else (field, word)
        upper = (field, word, *key_range.upper) if key_range.upper else (field, word, math.inf)
        inclusive = (key_range.lower_inclusive, key_range.upper_inclusive)
        entries: Iterator[tuple[str, str, int, str]] = self._words(field).irange(
            lower, upper, inclusive, reverse=descending
        )
        return entries

    def word_keys(
        self, field: str, terms: Sequence[str], key_range: KeyRange, *, limit: int
    ) -> list[SortKey]:
        with self._lock:
            self._ensure_open()
            index = self._words(field)
            # Walk the rarest term's entries (counted exactly by two bisections) and look
            # the others up for each: O(log n) per entry walked.
            counts = {
                term: index.bisect_left((field, term, math.inf)) - index.bisect_left((field, term))
                for term in terms
            }
            rarest = min(counts, key=counts.__getitem__)
            others = [term for term in counts if term != rarest]
            keys = (
                (entry[2], entry[3])
                for entry in self._word_entries(field, rarest, key_range)
                if all((field, term, entry[2], entry[3]) in index for term in others)
            )
            return list(islice(keys, limit))

    def idempotency_get(self, key: str) -> dict[str, Any] | None:
        with self._lock:
            self._ensure_open()
            payload = self._idempotency.get(key)
            return None if payload is None else marshal.loads(payload)

    def idempotency_put(self, key: str, entry: dict[str, Any]) -> None:
        with self._lock:
            self._ensure_open()
            previous = self._idempotency.get(key)
            previous_created = self._idempotency_created.get(key)
            self._idempotency_write(key, marshal.dumps(entry), entry["created"])

            def undo() -> None:
                self._idempotency_write(key, previous, previous_created)

            self._log(undo)

    def _idempotency_write(self, key: str, payload: bytes | None, created: int | None) -> None:
        """Set (or, with None, remove) one idempotency entry and its created-order entry."""
        previous_created = self._idempotency_created.pop(key, None)
        if previous_created is not None:
            del self._idempotency[key]
            self._idempotency_order.remove((previous_created, key))
        if payload is not None:
            created = cast(int, created)
            self._idempotency[key] = payload
            self._idempotency_created[key] = created
            self._idempotency_order.add((created, key))

    def idempotency_purge(self, before: int, *, limit: int = PURGE_LIMIT) -> int:
        with self._lock:
            self._ensure_open()
            older = self._idempotency_order.irange(None, (before, ""), (True, False))
            removed = [
                (key, self._idempotency[key], created) for created, key in islice(older, limit)
            ]
            for key, _, _ in removed:
                self._idempotency_write(key, None, None)

            def undo() -> None:
                for key, payload, created in removed:
                    self._idempotency_write(key, payload, created)

            self._log(undo)
            return len(removed)

    def insert_tax_id(self, record: Record) -> None:
        tax_id: str = record["id"]
        customer_id: str = record["customer"]
        with self._lock:
            self._ensure_open()
            if customer_id not in self._records:
                msg = f"No live customer {customer_id} to add a tax ID to."
                raise RecordNotFoundError(msg)
            if tax_id in self._tax_ids:
                msg = f"Tax ID {tax_id} is already taken."
                raise DuplicateKeyError(msg, key="id", value=tax_id)
            key = (customer_id, record["created"], tax_id)
            self._tax_ids[tax_id] = marshal.dumps(record)
            self._tax_id_order.add(key)

            def undo() -> None:
                del self._tax_ids[tax_id]
                self._tax_id_order.remove(key)

            self._log(undo)

    def get_tax_id(self, tax_id: str) -> Record | None:
        with self._lock:
            self._ensure_open()
            payload = self._tax_ids.get(tax_id)
            return None if payload is None else marshal.loads(payload)

    def delete_tax_id(self, tax_id: str) -> None:
        with self._lock:
            self._ensure_open()
            payload = self._tax_ids.pop(tax_id, None)
            if payload is None:
                msg = f"No tax ID {tax_id} to delete."
                raise RecordNotFoundError(msg)
            record = marshal.loads(payload)
            key = (record["customer"], record["created"], tax_id)
            self._tax_id_order.remove(key)

            def undo() -> None:
                self._tax_ids[tax_id] = payload
                self._tax_id_order.add(key)

            self._log(undo)

    def tax_ids(
        self,
        customer_id: str,
        key_range: KeyRange = KeyRange(),
        *,
        descending: bool = True,
        limit: int | None = None,
    ) -> list[Record]:
        lower = (customer_id, *key_range.lower) if key_range.lower else (customer_id,)
        upper = (customer_id, *key_range.upper) if key_range.upper else (customer_id, math.inf)
        inclusive = (key_range.lower_inclusive, key_range.upper_inclusive)
        with self._lock:
            self._ensure_open()
            keys = self._tax_id_order.irange(lower, upper, inclusive, reverse=descending)
            return [marshal.loads(self._tax_ids[key[2]]) for key in islice(keys, limit)]

    def event_insert(self, event: Record) -> None:
        with self._lock:
            self._ensure_open()
            stored, payload = self._encode_event(event)
            self._log(self._keep_event(event["id"], event["created"], event["type"], stored))
            if payload is not None:
                self._event_objects[event["id"]] = payload

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
        stored = self._event_tuple(
            created,
            type,
            data_object,
            request_id,
            idempotency_key,
            pending_webhooks,
            previous_attributes,
        )
        with self._lock:
            if self._closed:
                self._ensure_open()
            undo = self._keep_event(event_id, created, type, stored)
            steps = self._undo.steps  # _log inlined: every event of the service passes here
            if steps is not None:
                steps.append(undo)

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
        if not self._one_call_writes:
            super().insert_with_event(
                record, event_id, created, type, request_id, idempotency_key, pending_webhooks
            )
            return
        # One hold of the lock and no transaction of its own: the event's id is checked
        # first, so that nothing can refuse once the customer is in.
        with self._lock:
            self._ensure_open()
            if event_id in self._events:
                raise _event_id_taken(event_id)
            undo_insert = self._insert_customer(record)
            stored = self._event_tuple(
                created, type, record, request_id, idempotency_key, pending_webhooks, None
            )
            undo_event = self._keep_event(event_id, created, type, stored)
            steps = self._undo.steps
            if steps is not None:
                steps += (undo_insert, undo_event)

    def _event_tuple(
        self,
        created: int,
        type: str,
        data_object: Record,
        request_id: str | None,
        idempotency_key: str | None,
        pending_webhooks: int,
        previous_attributes: Record | PreviousAttributes | None,
    ) -> tuple[Any, ...]:
        """How ``event_add`` keeps an event: a tuple of its parts (strings, ints, bytes and
        None, which the garbage collector stops tracking; no marshal of the event's head);
        data.object is the written record's stored bytes when it is that record (shared,
        not copied). Previous attributes given as ``PreviousAttributes`` of the replace
        just made are kept as the bytes it replaced (shared too), the fields and the
        rule's number, and worked out when the event is read (``_previous``): an update
        pays no diff, and the event holds the customer's version before it (which the
        previous event about it holds already) instead of a marshal of the diff."""
        written = self._written
        kept: Any
        if written is None or written[0] is not data_object:
            payload = self._encode(data_object)
            previous = resolved(previous_attributes)
            kept = None if previous is None else marshal.dumps(previous)
        else:
            payload = written[1]
            if previous_attributes is None:
                kept = None
            elif (
                isinstance(previous_attributes, PreviousAttributes)
                and written[2] is not None
                and previous_attributes.after is data_object
            ):
                rule = previous_attributes.rule
                rules = self._rules
                if rule not in rules:
                    rules.append(rule)
                keys = previous_attributes.keys
                kept = (written[2], None if keys is None else tuple(keys), rules.index(rule))
            else:
                kept = marshal.dumps(resolved(previous_attributes))
        return (created, type, payload, request_id, idempotency_key, pending_webhooks, kept)

    def _keep_event(
        self, event_id: str, created: int, type: str, stored: bytes | tuple[Any, ...]
    ) -> Callable[[], None]:
        """Keep an event (under the lock; refused if its id is taken) and its index entry;
        return the step that undoes it."""
        events = self._events
        if event_id in events:
            raise _event_id_taken(event_id)
        events[event_id] = stored
        order = self._events_by_type.get(type)
        if order is None:
            order = self._events_by_type[type] = SortedList()
        key = (created, event_id)
        _append(order, key)
        return partial(self._event_remove, event_id, order, key)

    def _event_remove(self, event_id: str, order: SortedList, key: SortKey) -> None:
        """Undo ``event_insert``."""
        del self._events[event_id]
        self._event_objects.pop(event_id, None)
        order.remove(key)

    def _event_keys(
        self, key_range: KeyRange, descending: bool, types: Iterable[str] | None = None
    ) -> Iterator[SortKey]:
        """The keys of the events of ``types`` (all if None) in ``key_range``, in order:
        one walk per type, merged."""
        names = self._events_by_type if types is None else sorted(set(types))
        walks = [
            _keys_in(self._events_by_type[name], key_range, descending)
            for name in names
            if name in self._events_by_type
        ]
        return walks[0] if len(walks) == 1 else heapq.merge(*walks, reverse=descending)

    def event_get(self, event_id: str) -> Record | None:
        with self._lock:
            self._ensure_open()
            return self._decode_event(event_id) if event_id in self._events else None

    def event_json_many(self, event_ids: Collection[str]) -> dict[str, bytes]:
        if type(self).event_get_many is not Store.event_get_many:
            # A subclass that reads events its own way (a test's counting wrapper) is
            # read through it.
            return super().event_json_many(event_ids)
        found: dict[str, bytes] = {}
        with self._lock:
            self._ensure_open()
            events = self._events
            for event_id in event_ids:
                stored = events.get(event_id)
                if stored is None:
                    continue
                body = None
                if isinstance(stored, tuple):
                    # event_add's parts: the customer's stored JSON goes in as it is, not
                    # decoded and encoded again (what a delivery read cost most).
                    created, event_type, data_object, request_id, key, pending, previous = stored
                    body = event_body(
                        event_id,
                        created,
                        event_type,
                        data_object.decode(),
                        request_id,
                        key,
                        pending,
                        None
                        if previous is None
                        else self._encode(self._previous(previous, data_object)).decode(),
                    )
                found[event_id] = (
                    self._encode(self._decode_event(event_id)) if body is None else body.encode()
                )
        return found

    def event_scan(
        self,
        key_range: KeyRange = KeyRange(),
        *,
        descending: bool = True,
        types: Collection[str] | None = None,
        limit: int | None = None,
    ) -> list[Record]:
        with self._lock:
            self._ensure_open()
            keys = self._event_keys(key_range, descending, types)
            decode = self._decode_event
            return [decode(key[1]) for key in islice(keys, limit)]

    def event_purge(self, before: int, *, limit: int = PURGE_LIMIT) -> int:
        with self._lock:
            self._ensure_open()
            older = KeyRange(upper=(before, ""), upper_inclusive=False)
            # The oldest across the types: each type's keys merged, O(limit log n) in all.
            walks = [
                zip(_keys_in(order, older, descending=False), repeat(order))
                for order in self._events_by_type.values()
            ]
            oldest = list(islice(heapq.merge(*walks, key=itemgetter(0)), limit))
            removed: list[tuple[SortedList, SortKey, bytes | tuple[Any, ...], bytes | None]] = []
            objects = self._event_objects
            for key, order in oldest:
                event_id = key[1]
                removed.append(
                    (order, key, self._events.pop(event_id), objects.pop(event_id, None))
                )
                order.remove(key)

            def undo() -> None:
                for order, key, payload, customer in removed:
                    self._events[key[1]] = payload
                    if customer is not None:
                        objects[key[1]] = customer
                    order.add(key)

            self._log(undo)
            return len(removed)

    def webhook_endpoint_put(self, endpoint: Record) -> None:
        endpoint_id: str = endpoint["id"]
        with self._lock:
            self._ensure_open()
            previous = self._webhook_endpoints.get(endpoint_id)
            created = (
                endpoint["created"] if previous is None else marshal.loads(previous)["created"]
            )
            self._webhook_endpoints[endpoint_id] = marshal.dumps({**endpoint, "created": created})
            key = (created, endpoint_id)
            if previous is None:
                self._webhook_endpoint_order.add(key)

            def undo() -> None:
                if previous is None:
                    del self._webhook_endpoints[endpoint_id]
                    self._webhook_endpoint_order.remove(key)
                else:
                    self._webhook_endpoints[endpoint_id] = previous

            self._log(undo)

    def webhook_endpoint_get(self, endpoint_id: str) -> Record | None:
        with self._lock:
            self._ensure_open()
            payload = self._webhook_endpoints.get(endpoint_id)
            return None if payload is None else marshal.loads(payload)

    def webhook_endpoint_delete(self, endpoint_id: str) -> None:
        with self._lock:
            self._ensure_open()
            payload = self._webhook_endpoints.pop(endpoint_id, None)
            if payload is None:
                msg = f"No webhook endpoint {endpoint_id} to delete."
                raise RecordNotFoundError(msg)
            key = (marshal.loads(payload)["created"], endpoint_id)
            self._webhook_endpoint_order.remove(key)

            def undo() -> None:
                self._webhook_endpoints[endpoint_id] = payload
                self._webhook_endpoint_order.add(key)

            self._log(undo)

    def webhook_endpoint_scan(
        self, key_range: KeyRange = KeyRange(), *, descending: bool = True, limit: int | None = None
    ) -> list[Record]:
        with self._lock:
            self._ensure_open()
            keys = _keys_in(self._webhook_endpoint_order, key_range, descending)
            return [marshal.loads(self._webhook_endpoints[key[1]]) for key in islice(keys, limit)]

    # --- webhook deliveries ---------------------------------------------------------------

    def _outbox_put(self, key: tuple[str, str], row: tuple[float, float, int, str] | None) -> None:
        """Set (or, with None, remove) one delivery, its due entry and its event's count,
        logging the step back."""
        previous = self._outbox.get(key)
        self._outbox_write(key, row)

        def undo() -> None:
            self._outbox_write(key, previous)

        self._log(undo)

    def _outbox_write(
        self, key: tuple[str, str], row: tuple[float, float, int, str] | None
    ) -> None:
        previous = self._outbox.pop(key, None)
        event_id = key[0]
        if previous is not None:
            if previous[3] == "pending":
                self._outbox_due.remove((previous[1], *key))
            elif previous[3] == "failed":
                self._outbox_given_up.remove((previous[0], *key))
            self._outbox_counts[event_id] -= 1
            if not self._outbox_counts[event_id]:
                del self._outbox_counts[event_id]
        if row is not None:
            self._outbox[key] = row
            if row[3] == "pending":
                _add(self._outbox_due, (row[1], *key))
            elif row[3] == "failed":
                self._outbox_given_up.add((row[0], *key))
            self._outbox_counts[event_id] = self._outbox_counts.get(event_id, 0) + 1

    @staticmethod
    def _delivery(key: tuple[str, str], row: tuple[float, float, int, str]) -> Record:
        created, next_attempt, attempts, status = row
        return {
            "event": key[0],
            "endpoint": key[1],
            "created": created,
            "next_attempt": next_attempt,
            "attempts": attempts,
            "status": status,
        }

    @staticmethod
    def _delivery_row(delivery: Record) -> tuple[float, float, int, str]:
        return (
            delivery["created"],
            delivery["next_attempt"],
            delivery["attempts"],
            delivery["status"],
        )

    def outbox_add(self, deliveries: Sequence[Record]) -> None:
        with self._transaction:
            self._ensure_open()
            for delivery in deliveries:
                key = (delivery["event"], delivery["endpoint"])
                if key in self._outbox:
                    msg = f"A delivery of {key[0]} to {key[1]} exists."
                    raise DuplicateKeyError(msg, key="id", value=f"{key[0]} {key[1]}")
                self._outbox_put(key, self._delivery_row(delivery))

    def outbox_next_due(self) -> float | None:
        with self._lock:
            self._ensure_open()
            return self._outbox_due[0][0] if self._outbox_due else None

    def _outbox_log(self, previous: list[tuple[tuple[str, str], Any]]) -> None:
        """Log one step that puts back the outbox rows ``previous`` lists (key, row or
        None) as they were: a batch's changes undone together."""

        def undo() -> None:
            for key, row in reversed(previous):
                self._outbox_write(key, row)

        self._log(undo)

    def outbox_claim(self, now: float, lease_until: float, limit: int) -> list[Record]:
        with self._transaction:
            self._ensure_open()
            due = self._outbox_due
            # The entries due by ``now`` lead the index: taken and put back leased in bulk.
            count = min(limit, due.bisect_left((math.nextafter(now, math.inf),)))
            if count <= 0:
                return []
            taken = list(due.islice(0, count))
            del due[:count]
            outbox = self._outbox
            previous = []
            claimed = []
            for _, event_id, endpoint_id in taken:
                key = (event_id, endpoint_id)
                row = outbox[key]
                previous.append((key, row))
                leased = (row[0], lease_until, row[2], row[3])
                outbox[key] = leased
                claimed.append(self._delivery(key, leased))
            for key, _ in previous:
                # A lease ends after every delivery due now: nearly always last.
                _append(due, (lease_until, *key))
            self._outbox_log(previous)
            return claimed

    def outbox_settle(self, deliveries: Sequence[Record], attempts: Sequence[Record]) -> None:
        with self._transaction:
            self._ensure_open()
            previous: list[tuple[tuple[str, str], Any]] = []
            self._outbox_log(previous)  # filled in as rows change
            for delivery in deliveries:
                key = (delivery["event"], delivery["endpoint"])
                row = self._outbox.get(key)
                if row is None:
                    continue
                previous.append((key, row))
                kept = delivery["status"] in ("pending", "failed")
                self._outbox_write(key, self._delivery_row(delivery) if kept else None)
            added: list[str] = []

            def forget_added() -> None:
                for attempt_id in reversed(added):
                    self._attempt_write(attempt_id, None)

            self._log(forget_added)  # covers the attempts added below, as they are
            for attempt in attempts:
                attempt_id: str = attempt["id"]
                if attempt_id in self._attempts:
                    msg = f"Delivery attempt id {attempt_id} is already taken."
                    raise DuplicateKeyError(msg, key="id", value=attempt_id)
                self._attempt_write(attempt_id, marshal.dumps(attempt), attempt)
                added.append(attempt_id)

    def _attempt_write(
        self, attempt_id: str, payload: bytes | None, attempt: Record | None = None
    ) -> None:
        """Add an attempt (or, with None, remove it) and its index entries; ``attempt``: the
        record ``payload`` encodes, if the caller has it."""
        previous = self._attempts.pop(attempt_id, None)
        if previous is not None:
            old = marshal.loads(previous)
            self._attempt_order.remove((old["created"], attempt_id))
            self._attempts_by_endpoint.remove((old["endpoint"], old["created"], attempt_id))
        if payload is not None:
            if attempt is None:
                attempt = marshal.loads(payload)
            self._attempts[attempt_id] = payload
            created = attempt["created"]
            _append(self._attempt_order, (created, attempt_id))  # the newest, nearly always
            _add(self._attempts_by_endpoint, (attempt["endpoint"], created, attempt_id))

    def outbox_pending(self, event_ids: Collection[str]) -> dict[str, int]:
        with self._lock:
            self._ensure_open()
            counts = self._outbox_counts
            return {event_id: counts[event_id] for event_id in event_ids if event_id in counts}

    def outbox_event_ids(self) -> set[str]:
        with self._lock:
            self._ensure_open()
            return set(self._outbox_counts)

    def outbox_cancel(self, endpoint_id: str) -> int:
        with self._transaction:
            self._ensure_open()
            keys = [key for key in self._outbox if key[1] == endpoint_id]
            for key in keys:
                self._outbox_put(key, None)
            return len(keys)

    def outbox_purge(self, before: float, *, limit: int = PURGE_LIMIT) -> int:
        with self._transaction:
            self._ensure_open()
            given_up = self._outbox_given_up.irange(None, (before,), (True, False))
            deliveries = list(islice(given_up, limit))
            for _, event_id, endpoint_id in deliveries:
                self._outbox_put((event_id, endpoint_id), None)
            older = self._attempt_order.irange(None, (before, ""), (True, False))
            attempts = list(islice(older, limit - len(deliveries)))
            for _, attempt_id in attempts:
                payload = self._attempts[attempt_id]
                self._attempt_write(attempt_id, None)
                self._log(partial(self._attempt_write, attempt_id, payload))
            return len(deliveries) + len(attempts)

    def delivery_attempt_get(self, attempt_id: str) -> Record | None:
        with self._lock:
            self._ensure_open()
            payload = self._attempts.get(attempt_id)
            return None if payload is None else marshal.loads(payload)

    def delivery_attempt_scan(
        self,
        key_range: KeyRange = KeyRange(),
        *,
        endpoint: str | None = None,
        descending: bool = True,
        limit: int | None = None,
    ) -> list[Record]:
        with self._lock:
            self._ensure_open()
            keys: Iterator[SortKey]
            if endpoint is None:
                keys = _keys_in(self._attempt_order, key_range, descending)
            else:
                keys = _keys_under(self._attempts_by_endpoint, endpoint, key_range, descending)
            return [marshal.loads(self._attempts[key[1]]) for key in islice(keys, limit)]

    def count(self) -> int:
        with self._lock:
            self._ensure_open()
            return len(self._records)

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            self._ensure_open()
            self._settle()
            return {
                "customers": [self._decode(self._records[key[1]]) for key in self._order],
                "tombstones": dict(self._tombstones),
                "invoice_prefixes": dict(self._prefixes),
                "idempotency_keys": {
                    key: marshal.loads(entry) for key, entry in self._idempotency.items()
                },
                "tax_ids": [marshal.loads(self._tax_ids[key[2]]) for key in self._tax_id_order],
                "events": [
                    self._decode_event(key[1])
                    for key in self._event_keys(KeyRange(), descending=False)
                ],
                "webhook_endpoints": [
                    marshal.loads(self._webhook_endpoints[key[1]])
                    for key in self._webhook_endpoint_order
                ],
            }

    def checkpoint(self) -> Checkpoint:
        with self._lock:
            self._ensure_open()
            self._settle()
            state = {
                name: _copy_state(value, name)
                for name, value in vars(self).items()
                if name not in self._MACHINERY
            }
            return Checkpoint(type(self), state)

    def restore(self, checkpoint: Checkpoint) -> None:
        state: dict[str, Any] = self._checkpoint_state(checkpoint)
        with self._lock:
            self._ensure_open()
            self._settle()
            current = {
                name: value for name, value in vars(self).items() if name not in self._MACHINERY
            }
            if set(state) != set(current):
                msg = "This checkpoint was taken by a MemoryStore of another version."
                raise ValueError(msg)
            for name, value in state.items():
                setattr(self, name, _copy_state(value, name))
            self._written = None
            # Undo puts back the very objects replaced: steps logged before the restore
            # refer to them, and run after this one.
            self._log(lambda: vars(self).update(current))

    def close(self) -> None:
        with self._lock:
            self._closed = True

    def check_consistency(self) -> None:
        with self._lock:
            self._ensure_open()
            self._settle()
            self._index_searches()
            require(
                len(self._order) == len(self._records),
                "the created order and the records differ in size",
            )
            expected: dict[int, list[tuple[Any, ...]]] = {}
            for created, customer_id in self._order:
                record = self._decode(self._records[customer_id])
                require(
                    (record["created"], record["id"]) == (created, customer_id),
                    f"order entry {(created, customer_id)} does not match its record",
                )
                for index, group in self._entries((record,)):
                    expected.setdefault(id(index), []).extend(group)
                prefix = record.get("invoice_prefix")
                require(
                    prefix is None or self._prefixes.get(prefix) == customer_id,
                    f"invoice prefix {prefix} of {customer_id} is not reserved for it",
                )
            for name, index in (
                ("order", self._order),
                ("words", self._by_words),
                ("metadata", self._by_metadata),
            ):
                require(
                    list(index) == sorted(expected.get(id(index), [])),
                    f"the {name} index does not hold exactly its records' entries",
                )
            both = set(self._tombstones) & set(self._records)
            require(not both, f"ids both live and deleted: {sorted(both)}")
            tax_id_keys = []
            for tax_id, payload in self._tax_ids.items():
                record = marshal.loads(payload)
                require(
                    record["id"] == tax_id and record["customer"] in self._records,
                    f"tax ID {tax_id} is filed wrongly or its customer is not live",
                )
                tax_id_keys.append((record["customer"], record["created"], tax_id))
            require(
                list(self._tax_id_order) == sorted(tax_id_keys),
                "the tax ID order does not hold exactly the tax IDs",
            )
            require(
                self._event_objects.keys() <= self._events.keys(),
                "a customer is kept for an event that is not stored",
            )
            events = [self._decode_event(event_id) for event_id in self._events]
            require(
                sorted(
                    (name, *key) for name, order in self._events_by_type.items() for key in order
                )
                == sorted((e["type"], e["created"], e["id"]) for e in events),
                "the events-by-type index does not hold exactly the events",
            )
            require(
                self._idempotency_created
                == {
                    key: marshal.loads(entry)["created"] for key, entry in self._idempotency.items()
                }
                and list(self._idempotency_order)
                == sorted((created, key) for key, created in self._idempotency_created.items()),
                "the idempotency keys' created times do not match their entries",
            )
            pending = [(row[1], *key) for key, row in self._outbox.items() if row[3] == "pending"]
            require(
                list(self._outbox_due) == sorted(pending),
                "the outbox's due index does not hold exactly the pending deliveries",
            )
            given_up = [(row[0], *key) for key, row in self._outbox.items() if row[3] == "failed"]
            require(
                list(self._outbox_given_up) == sorted(given_up),
                "the outbox's given-up index does not hold exactly the given-up deliveries",
            )
            counts: dict[str, int] = {}
            for event_id, _ in self._outbox:
                counts[event_id] = counts.get(event_id, 0) + 1
            require(
                self._outbox_counts == counts,
                "the outbox's counts per event are not its deliveries'",
            )
            attempts = [marshal.loads(payload) for payload in self._attempts.values()]
            require(
                list(self._attempt_order) == sorted((a["created"], a["id"]) for a in attempts)
                and list(self._attempts_by_endpoint)
                == sorted((a["endpoint"], a["created"], a["id"]) for a in attempts),
                "the delivery attempt indexes do not hold exactly the attempts",
            )


class _MemorySnapshot(StoreSnapshot):
    """The store itself, read while its lock is held (see ``MemoryStore.read_snapshot``)."""

    def __init__(self, store: MemoryStore) -> None:
        self._store = store
        self._former: list[tuple[str, str]] | None = None  # worked out once per snapshot
        # Live records holding a prefix, once a walk over all of them counted them.
        self._holding_prefix: int | None = None

    def count(self) -> int:
        return len(self._store._records)

    def records(self, *, descending: bool = True) -> Iterator[Record]:
        return map(self._store._decode, self.records_json(descending=descending))

    def records_json(self, *, descending: bool = True) -> Iterator[bytes]:
        # The stored JSON as is: an export's every step per customer counts.
        store = self._store
        records = store._records
        holding = 0
        for _, customer_id in store._keys(KeyRange(), descending):
            payload = records[customer_id]
            yield payload
            holding += holds_invoice_prefix(payload)
        self._holding_prefix = holding

    def tombstones(self) -> Iterator[tuple[str, int]]:
        return iter(sorted(self._store._tombstones.items()))

    def tax_ids(self) -> Iterator[Record]:
        payloads = self._store._tax_ids
        for _, _, tax_id in self._store._tax_id_order:
            yield marshal.loads(payloads[tax_id])

    def former_invoice_prefixes(self) -> Iterator[tuple[str, str]]:
        if self._former is None:
            store = self._store
            records, prefixes = store._records, store._prefixes
            not_live = [(c, p) for p, c in prefixes.items() if c not in records]
            if self._holding_prefix is not None and (
                len(prefixes) == self._holding_prefix + len(not_live)
            ):
                # Each live record holding a prefix holds it reserved, so these are all.
                self._former = sorted(not_live)
                return iter(self._former)
            decode = store._decode
            former = []
            for prefix, customer_id in prefixes.items():
                payload = records.get(customer_id)
                if (
                    payload is not None
                    and prefix.encode() in payload
                    and decode(payload).get("invoice_prefix") == prefix
                ):
                    continue  # its current prefix
                former.append((customer_id, prefix))
            self._former = sorted(former)
        return iter(self._former)
