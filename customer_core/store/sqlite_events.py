"""SQLiteStore's events: a table per event type, in one order over all of them.

An event lives in the rowid table of its type, ``events_<code>`` (``event_types`` gives
each type its code), under an integer key: its ``created`` times 2**24 plus its place
among the events of that second, so that keys follow ``(created, id)`` order across all
the tables. ``event_ids`` finds an event's table and key by id. Recording an event writes
two b-trees, each at its end (an event is the newest, and ids grow): about 2 pages a
commit, where one table with an id index and a ``(type, created, id)`` index wrote 4
(benchmarks/RESULTS.md, "Events: recording cost"). A list page walks each wanted type's
table backwards from a key and merges the walks: O(log n + page) per type, with or
without a type filter. See docs/decisions.md, "Events in SQLite".
"""

from __future__ import annotations

import sqlite3
from collections.abc import Collection, Iterable
from itertools import pairwise

import pydantic_core

from ..errors import StoreError
from .base import KeyRange

__all__ = ["KEY_BITS", "EventTables", "add_tax_id_event_types", "split_events_by_type"]

KEY_BITS = 24
"""Bits of an event key below its ``created`` second: room for 16 million events a second.
With ``created`` up to 2**39 (ids hold times up to 281,474,976,710) a key fits 64 bits."""

_INT64_MIN, _INT64_MAX = -(1 << 63), (1 << 63) - 1
_CREATED_LIMIT = 1 << (63 - KEY_BITS)

_TABLE = (
    "CREATE TABLE events_{code} (key INTEGER PRIMARY KEY, id TEXT NOT NULL, body TEXT NOT NULL)"
)


def _table(code: int) -> str:
    return f"events_{code}"


def _add_type(connection: sqlite3.Connection, name: str) -> int:
    """Give a new event type its code and its table; return the code."""
    code = connection.execute("INSERT INTO event_types (type) VALUES (?)", (name,)).lastrowid
    assert code is not None
    connection.execute(_TABLE.format(code=code))
    return code


def split_events_by_type(connection: sqlite3.Connection) -> None:
    """Migration to schema 13: the events of the one ``events`` table (with its type index)
    move to a table per type, keyed in ``(created, id)`` order, and to ``event_ids``."""
    connection.execute(
        "CREATE TABLE event_types (code INTEGER PRIMARY KEY, type TEXT NOT NULL UNIQUE)"
    )
    connection.execute(
        """CREATE TABLE event_ids (
            id TEXT PRIMARY KEY,
            code INTEGER NOT NULL,
            key INTEGER NOT NULL
        ) WITHOUT ROWID"""
    )
    # The types this library records get their tables now, so that a checkpoint taken
    # before the first event has the tables that a restore finds later.
    codes = {
        name: _add_type(connection, name)
        for name in ("customer.created", "customer.deleted", "customer.updated")
    }
    rows = connection.execute("SELECT id, created, type, body FROM events ORDER BY created, id")
    key = previous = None
    for event_id, created, name, body in rows:
        code = codes.get(name)
        if code is None:
            code = codes[name] = _add_type(connection, name)
        key = key + 1 if created == previous and key is not None else created << KEY_BITS
        previous = created
        connection.execute(f"INSERT INTO {_table(code)} VALUES (?, ?, ?)", (key, event_id, body))
        connection.execute("INSERT INTO event_ids VALUES (?, ?, ?)", (event_id, code, key))
    connection.execute("DROP TABLE events")


def add_tax_id_event_types(connection: sqlite3.Connection) -> None:
    """Migration to schema 14: the tables of the ``customer.tax_id.*`` event types, made
    before their first event so that a checkpoint taken before it has the tables a
    restore finds later (a type the file already has keeps its table)."""
    known = set(EventTables.codes(connection))
    for name in ("customer.tax_id.created", "customer.tax_id.deleted", "customer.tax_id.updated"):
        if name not in known:
            _add_type(connection, name)


def _merged(codes: Iterable[int], arm: str, order: str) -> str:
    """One query over the tables of ``codes``: ``arm`` (with ``{table}``) on each, merged
    by key in ``order`` (each arm already in that order)."""
    arms = [f"SELECT * FROM ({arm.format(table=_table(code))})" for code in codes]
    if len(arms) == 1:
        return arm.format(table=_table(next(iter(codes))))
    return f"SELECT * FROM ({' UNION ALL '.join(arms)}) ORDER BY key {order}"


class EventTables:
    """The event tables of one store file, and what its writes last saw: the type codes
    (a code, once given, never changes) and the newest event's key and id, valid while
    ``PRAGMA data_version`` says that no other connection committed since. (After a
    rollback the newest it keeps may be gone: a key above every stored one is still right
    for the next event.)"""

    def __init__(self) -> None:
        self._codes: dict[str, int] = {}
        self._newest_sql = ""
        self._newest: tuple[int, int | None, str | None] | None = None

    def _load(self, connection: sqlite3.Connection) -> None:
        self._codes = dict(connection.execute("SELECT type, code FROM event_types"))
        arms = [
            f"SELECT * FROM (SELECT key, id FROM {_table(code)} ORDER BY key DESC LIMIT 1)"
            for code in sorted(self._codes.values())
        ]
        self._newest_sql = (
            f"SELECT key, id FROM ({' UNION ALL '.join([*arms, 'SELECT NULL, NULL'])}) "
            "ORDER BY key DESC LIMIT 1"
        )

    def _newest_event(self, connection: sqlite3.Connection) -> tuple[int, int | None, str | None]:
        """``PRAGMA data_version`` and the key and id of the newest event (None if none)."""
        (version,) = connection.execute("PRAGMA data_version").fetchone()
        if self._newest is not None and self._newest[0] == version:
            return self._newest
        self._load(connection)  # another connection may have added a type
        newest, newest_id = connection.execute(self._newest_sql).fetchone()
        return version, newest, newest_id

    @staticmethod
    def codes(connection: sqlite3.Connection) -> dict[str, int]:
        """Every event type of the file and its code (read fresh: another process may have
        added one)."""
        return dict(connection.execute("SELECT type, code FROM event_types"))

    # --- writing (inside the store's write transaction) --------------------------------

    def insert(
        self, connection: sqlite3.Connection, event_id: str, created: int, name: str, body: str
    ) -> None:
        """Add an event; raises sqlite3.IntegrityError (and writes nothing) if its id is taken."""
        if not -_CREATED_LIMIT <= created < _CREATED_LIMIT:
            msg = f"An event's created ({created}) must be below 2**{63 - KEY_BITS} in size."
            raise StoreError(msg)
        version: int | None
        version, newest, newest_id = self._newest_event(connection)
        floor = created << KEY_BITS
        self._newest = None
        if newest is None or newest < floor:
            key = floor
        elif newest >> KEY_BITS == created and newest_id is not None and newest_id < event_id:
            key = newest + 1
        elif newest_id == event_id:
            key = newest  # taken: the insert into event_ids below says so
        else:
            # Older than the newest event (another process's clock, or a caller's order):
            # later events of its second move, so the newest is read again next time.
            key = self._make_room(connection, created, event_id)
            version = None
        code = self._codes.get(name)
        if code is None:
            # A type no event had yet: its table, unless the event is refused anyway.
            if connection.execute("SELECT 1 FROM event_ids WHERE id = ?", (event_id,)).fetchone():
                raise sqlite3.IntegrityError(f"event id {event_id} is taken")
            code = _add_type(connection, name)
            self._load(connection)
        connection.execute("INSERT INTO event_ids VALUES (?, ?, ?)", (event_id, code, key))
        connection.execute(f"INSERT INTO {_table(code)} VALUES (?, ?, ?)", (key, event_id, body))
        if version is not None:
            self._newest = (version, key, event_id)

    def _make_room(self, connection: sqlite3.Connection, created: int, event_id: str) -> int:
        """The key of an event that goes before others of its second: the events after it
        in that second move up by one (few: writers racing in the same second)."""
        floor, ceiling = created << KEY_BITS, (created + 1) << KEY_BITS
        before: list[int] = []
        after: list[tuple[int, int, str]] = []
        for code in self._codes.values():
            for key, other in connection.execute(
                f"SELECT key, id FROM {_table(code)} WHERE key >= ? AND key < ?", (floor, ceiling)
            ):
                if other < event_id:
                    before.append(key)
                elif other > event_id:
                    after.append((key, code, other))
                else:
                    return int(key)  # taken: the insert into event_ids says so
        if not after:
            return max(before, default=floor - 1) + 1
        after.sort(reverse=True)
        if after[0][0] + 1 >= ceiling:
            msg = f"More than 2**{KEY_BITS} events were created in second {created}."
            raise StoreError(msg)
        for key, code, other in after:  # the last first: each moves to a free key
            connection.execute(f"UPDATE {_table(code)} SET key = ? WHERE key = ?", (key + 1, key))
            connection.execute("UPDATE event_ids SET key = ? WHERE id = ?", (key + 1, other))
        return after[-1][0]

    def purge(self, connection: sqlite3.Connection, before: int) -> int:
        """Remove the events created before ``before``; return how many."""
        bound = _clamped(before << KEY_BITS)
        removed = 0
        for code in self.codes(connection).values():
            table = _table(code)
            connection.execute(
                f"DELETE FROM event_ids WHERE id IN (SELECT id FROM {table} WHERE key < ?)",
                (bound,),
            )
            removed += connection.execute(f"DELETE FROM {table} WHERE key < ?", (bound,)).rowcount
        return removed

    # --- reading --------------------------------------------------------------------------

    @staticmethod
    def get(connection: sqlite3.Connection, event_id: str) -> str | None:
        """The body of the event with that id, or None."""
        found = connection.execute(
            "SELECT code, key FROM event_ids WHERE id = ?", (event_id,)
        ).fetchone()
        if found is None:
            return None
        row = connection.execute(
            f"SELECT body FROM {_table(found[0])} WHERE key = ?", (found[1],)
        ).fetchone()
        return None if row is None else str(row[0])

    def scan(
        self,
        connection: sqlite3.Connection,
        key_range: KeyRange,
        *,
        descending: bool,
        types: Collection[str] | None,
        limit: int | None,
    ) -> list[str]:
        """The bodies of the events in ``key_range`` (of ``types`` if given), in key order."""
        known = self.codes(connection)
        if types is None:
            codes = sorted(known.values())
        else:
            codes = sorted({known[name] for name in types if name in known})
        if not codes or limit == 0:
            return []
        bounds = _key_bounds(connection, key_range)
        if bounds is None:
            return []
        conditions, arguments = bounds
        order = "DESC" if descending else "ASC"
        arm = f"SELECT key, body FROM {{table}} WHERE {conditions} ORDER BY key {order} LIMIT ?"
        query = _merged(codes, arm, order)
        if len(codes) > 1:
            query += " LIMIT ?"
        count = -1 if limit is None else limit
        values = [value for _ in codes for value in (*arguments, count)]
        if len(codes) > 1:
            values.append(count)
        return [row[1] for row in connection.execute(query, values)]

    def bodies(self, connection: sqlite3.Connection) -> list[str]:
        """Every event's body in ``(created, id)`` order (for snapshots)."""
        codes = sorted(self.codes(connection).values())
        if not codes:
            return []
        query = _merged(codes, "SELECT key, body FROM {table} ORDER BY key", "ASC")
        return [row[1] for row in connection.execute(query)]

    def check(self, connection: sqlite3.Connection) -> list[str]:
        """What is wrong with the event tables (for ``check_consistency``): every event is
        in ``event_ids`` under its table and key, keys follow ``(created, id)``, and each
        body's ``created`` and ``type`` are its key's and its table's."""
        problems: list[str] = []
        indexed = {
            event_id: (code, key)
            for event_id, code, key in connection.execute("SELECT id, code, key FROM event_ids")
        }
        keys: list[tuple[int, str]] = []
        for name, code in self.codes(connection).items():
            for key, event_id, body in connection.execute(
                f"SELECT key, id, body FROM {_table(code)}"
            ):
                event = pydantic_core.from_json(body)
                if indexed.pop(event_id, None) != (code, key):
                    problems.append(f"event {event_id} is not in event_ids as it is stored")
                if (event.get("id"), event.get("created"), event.get("type")) != (
                    event_id,
                    key >> KEY_BITS,
                    name,
                ):
                    problems.append(f"event {event_id}'s key or table does not match its body")
                keys.append((key, event_id))
        problems.extend(f"event_ids names a missing event {event_id}" for event_id in indexed)
        keys.sort()
        for (key, event_id), (next_key, next_id) in pairwise(keys):
            if next_key >> KEY_BITS == key >> KEY_BITS and next_id <= event_id:
                problems.append(f"events {event_id} and {next_id} are keyed out of order")
        return problems


def _key_bounds(
    connection: sqlite3.Connection, key_range: KeyRange
) -> tuple[str, list[object]] | None:
    """SQL conditions on ``key`` (and, for a bound naming no stored event, on ``id``) for
    a range of ``(created, id)`` sort keys; None when no key lies in it. A bound at a
    stored event (a cursor) becomes its key."""
    low, high = _INT64_MIN, _INT64_MAX
    conditions: list[str] = []
    arguments: list[object] = []
    if key_range.lower is not None:
        created, event_id = key_range.lower
        key = _stored_key(connection, created, event_id)
        if key is not None:
            low = key if key_range.lower_inclusive else key + 1
        else:
            low = created << KEY_BITS
            if event_id:
                operator = ">=" if key_range.lower_inclusive else ">"
                conditions.append(f"(key >= ? OR id {operator} ?)")
                arguments.extend([_clamped((created + 1) << KEY_BITS), event_id])
    if key_range.upper is not None:
        created, event_id = key_range.upper
        key = _stored_key(connection, created, event_id)
        if key is not None:
            high = key if key_range.upper_inclusive else key - 1
        elif not event_id:
            high = (created << KEY_BITS) - 1
        else:
            high = ((created + 1) << KEY_BITS) - 1
            operator = "<=" if key_range.upper_inclusive else "<"
            conditions.append(f"(key < ? OR id {operator} ?)")
            arguments.extend([_clamped(created << KEY_BITS), event_id])
    if low > high or low > _INT64_MAX or high < _INT64_MIN:
        return None
    low, high = _clamped(low), _clamped(high)
    return " AND ".join(["key >= ?", "key <= ?", *conditions]), [low, high, *arguments]


def _clamped(key: int) -> int:
    """A key bound within SQLite's 64-bit integers (no key lies beyond them)."""
    return max(_INT64_MIN, min(key, _INT64_MAX))


def _stored_key(connection: sqlite3.Connection, created: int, event_id: str) -> int | None:
    """The key of the stored event ``event_id`` if it was created at ``created``."""
    if not event_id:
        return None
    row = connection.execute("SELECT key FROM event_ids WHERE id = ?", (event_id,)).fetchone()
    if row is None or row[0] >> KEY_BITS != created:
        return None
    return int(row[0])
