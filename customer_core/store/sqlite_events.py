"""SQLiteStore's events: a table per event type, in one order over all of them.

An event lives in the rowid table of its type, ``events_<code>`` (``event_types`` gives
each type its code), under an integer key in ``(created, id)`` order across all the
tables: its ``created`` times 2**24 plus its place in that second. Schema 15 derives the
place from the event's id when it is one of ours (``evt_`` + a ULID of that second): its
millisecond in the second and the top 13 bits of its randomness (``natural_key``), moved
up a little past a key already taken (ids made in the same millisecond count up). Such an
event is found by id from the id alone, probing each type's table over a window of
``WINDOW`` keys; ``event_ids`` maps the id to its table and key only for the others (ids
of another shape, a ``created`` not the id's second, or moved out of the window): so
recording an event of ours writes one b-tree, at its end (benchmarks/RESULTS.md,
"Events: recording cost, fourth pass"). A list page walks each wanted type's table
backwards from a key and merges the walks: O(log n + page) per type, with or without a
type filter. See docs/decisions.md, "Events in SQLite".
"""

from __future__ import annotations

import heapq
import sqlite3
from collections.abc import Callable, Collection, Iterable
from itertools import islice, pairwise

import pydantic_core

from ..errors import StoreError
from ..ids import NEWEST_DRAWN
from .base import KeyRange

__all__ = [
    "KEY_BITS",
    "WINDOW",
    "EventTables",
    "add_tax_id_event_types",
    "key_events_by_id",
    "natural_key",
    "split_events_by_type",
]

KEY_BITS = 24
"""Bits of an event key below its ``created`` second. With ``created`` up to 2**39 (ids
hold times up to 281,474,976,710) a key fits 64 bits."""
_RANDOM_BITS = 13
"""Bits of an id's randomness in its natural key, below its millisecond in the second (10
bits: under 1000): natural keys stay below 1000 * 2**13 in their second, which leaves
8.5 million keys above them for events that move up."""
_DROPPED_BITS = 80 - _RANDOM_BITS
"""An id's random bits below those in its natural key."""
WINDOW = 32
"""How far above its natural key an event may be keyed and still be found by its id
alone (ids made in one millisecond count up, so their natural keys are often the same)."""

_INT64_MIN, _INT64_MAX = -(1 << 63), (1 << 63) - 1
_CREATED_LIMIT = 1 << (63 - KEY_BITS)
_BASE32 = bytes.maketrans(
    b"0123456789ABCDEFGHJKMNPQRSTVWXYZ"
    + bytes(set(range(256)) - set(b"0123456789ABCDEFGHJKMNPQRSTVWXYZ")),
    b"0123456789abcdefghijklmnopqrstuv" + b"!" * 224,
)
"""Crockford base32 (a ULID's digits) to the digits of ``int(text, 32)``; any other byte
to ``!``, which ``int`` refuses (so no sign, space or underscore gets through)."""

_TABLE = (
    "CREATE TABLE events_{code} (key INTEGER PRIMARY KEY, id TEXT NOT NULL, body TEXT NOT NULL)"
)


def natural_key(event_id: str) -> int | None:
    """The key an event of ours (``evt_`` + a ULID) takes when it is free: the id's second,
    its millisecond in that second, the top 13 bits of its randomness; in id order (not
    one-to-one). None for an id of another shape (read: its first 13 ULID characters,
    which hold all of that).

    >>> divmod(natural_key("evt_01KBGACVQKV3RS3DTR98H6BCFN"), 1 << KEY_BITS)  # at 1764705595.123
    (1764705595, 1014558)
    """
    drawn = NEWEST_DRAWN[0]
    if drawn[0] is event_id:
        # The first id of its millisecond, just made by ids.EventIdGenerator: its parts as
        # drawn (a fifth of the cost of reading them back from the text).
        second, millisecond = divmod(drawn[1], 1000)
        drawn_key = (
            (second << KEY_BITS) | (millisecond << _RANDOM_BITS) | (drawn[2] >> _DROPPED_BITS)
        )
        _last_natural[0] = (event_id[4:17], drawn_key)
        return drawn_key
    if len(event_id) != 30 or not event_id.startswith("evt_"):
        return None
    head = event_id[4:17]
    last = _last_natural[0]
    if last[0] == head:
        # Ids made in one millisecond count up in their last characters (ids.py): the
        # events of a millisecond after its first take the key found for it.
        return last[1]
    try:
        # 48 bits of milliseconds and 17 of randomness (bytes translate, then int: a third
        # of the cost of a regular expression and str.translate).
        value = int(head.encode("ascii").translate(_BASE32), 32)
    except ValueError:  # a character that is not Crockford base32 (or not ASCII)
        return None
    key = None
    if not value >> 63:  # else more than 48 bits of milliseconds: not a ULID
        second, millisecond = divmod(value >> 15, 1000)
        randomness = (value >> (15 - _RANDOM_BITS)) & ((1 << _RANDOM_BITS) - 1)
        key = (second << KEY_BITS) | (millisecond << _RANDOM_BITS) | randomness
    _last_natural[0] = (head, key)
    return key


_last_natural: list[tuple[str, int | None]] = [("", None)]
"""The first 13 ULID characters ``natural_key`` last read and the key they gave (one
entry, replaced whole: safe to share between threads)."""


def _natural_key_in(event_id: str, created: int) -> int | None:
    """``natural_key`` when it lies in the second ``created``, else None."""
    key = natural_key(event_id)
    return key if key is not None and key >> KEY_BITS == created else None


def _found_by_id(event_id: str, key: int) -> bool:
    """Whether an event keyed ``key`` is found from its id alone (no ``event_ids`` row)."""
    natural = natural_key(event_id)
    return natural is not None and natural <= key < natural + WINDOW


def _key_after(newest: int | None, created: int, natural: int | None) -> int:
    """The key of an event that comes after every stored one (the newest keyed
    ``newest``): its natural key when that is above the newest, else the next key."""
    floor = created << KEY_BITS
    if newest is None or newest < floor:
        return floor if natural is None else natural
    if natural is not None and natural > newest:
        return natural
    if newest + 1 >= floor + (1 << KEY_BITS):
        msg = f"Too many events were created in second {created}: its keys ran out."
        raise StoreError(msg)
    return newest + 1


_Newest = tuple[int, int | None, str | None, int, bool]
"""``PRAGMA data_version`` as it was read, and the newest event's key and id then; the
key up to which (not included) events of the same first 17 id characters are still found
by their id (its natural key + ``WINDOW``; 0 if it was not keyed so); and whether
``event_ids`` was empty (then a new event's id, coming after every stored one, is free
without looking there)."""


def _comes_after(newest: _Newest, created: int, event_id: str) -> bool:
    """Whether an event comes after the newest one (``newest``) in ``(created, id)``
    order, as nearly every event does."""
    key, newest_id = newest[1], newest[2]
    return (
        key is None
        or key >> KEY_BITS < created
        or (key >> KEY_BITS == created and newest_id is not None and newest_id < event_id)
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


def key_events_by_id(connection: sqlite3.Connection) -> None:
    """Migration to schema 15: every event is keyed again as it is recorded now (at its
    natural key where it can be, see ``natural_key``), and ``event_ids`` keeps only the
    events that their id does not find."""
    codes = sorted(EventTables.codes(connection).values())
    arms = [f"SELECT key, id, body, {code} AS code FROM {_table(code)}" for code in codes]
    for code in codes:
        connection.execute(_TABLE.format(code=f"{code}_new"))
    rows = connection.execute(f"SELECT * FROM ({' UNION ALL '.join(arms)}) ORDER BY key")
    newest = None
    by_id: list[tuple[str, int, int]] = []
    for old_key, event_id, body, code in rows:
        created = old_key >> KEY_BITS
        newest = _key_after(newest, created, _natural_key_in(event_id, created))
        connection.execute(
            f"INSERT INTO {_table(code)}_new VALUES (?, ?, ?)", (newest, event_id, body)
        )
        if not _found_by_id(event_id, newest):
            by_id.append((event_id, code, newest))
    for code in codes:
        connection.execute(f"DROP TABLE {_table(code)}")
        connection.execute(f"ALTER TABLE {_table(code)}_new RENAME TO {_table(code)}")
    connection.execute("DELETE FROM event_ids")
    connection.executemany("INSERT INTO event_ids VALUES (?, ?, ?)", by_id)


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
        self._newest: _Newest | None = None
        self._probes: dict[tuple[int, ...], str] = {}
        # The INSERT of each table after the data version check: under its code, and under
        # minus its code the one that also looks in event_ids (codes are positive).
        self._inserts: dict[int, str] = {}
        self._cursor: sqlite3.Cursor | None = None

    def _load(self, connection: sqlite3.Connection) -> None:
        self._codes = self.codes(connection)
        arms = [
            f"SELECT * FROM (SELECT key, id FROM {_table(code)} ORDER BY key DESC LIMIT 1)"
            for code in sorted(self._codes.values())
        ]
        self._newest_sql = (
            f"SELECT key, id, NOT EXISTS (SELECT 1 FROM event_ids) FROM "
            f"({' UNION ALL '.join([*arms, 'SELECT NULL, NULL'])}) ORDER BY key DESC LIMIT 1"
        )

    def _newest_event(self, connection: sqlite3.Connection, cached: _Newest | None) -> _Newest:
        """``PRAGMA data_version``, the key and id of the newest event (None if none) and
        whether ``event_ids`` is empty: ``cached`` when it was read at this data version."""
        (version,) = connection.execute("PRAGMA data_version").fetchone()
        if cached is not None and cached[0] == version:
            return cached
        self._load(connection)  # another connection may have added a type
        newest, newest_id, no_ids = connection.execute(self._newest_sql).fetchone()
        return version, newest, newest_id, 0, bool(no_ids)

    @staticmethod
    def codes(connection: sqlite3.Connection) -> dict[str, int]:
        """Every event type of the file and its code (read fresh: another process may have
        added one)."""
        return dict(connection.execute("SELECT type, code FROM event_types"))

    def _locate(
        self, connection: sqlite3.Connection, event_id: str, codes: Iterable[int]
    ) -> tuple[int, int] | None:
        """The table code and key of the event ``event_id``, or None: a probe of each
        table's window above the id's natural key, else ``event_ids``."""
        natural = natural_key(event_id)
        if natural is not None:
            probe = self._probe(tuple(sorted(codes)))
            if probe:
                found = connection.execute(
                    probe, {"low": natural, "high": natural + WINDOW, "id": event_id}
                ).fetchone()
                if found is not None:
                    return int(found[0]), int(found[1])
        found = connection.execute(
            "SELECT code, key FROM event_ids WHERE id = ?", (event_id,)
        ).fetchone()
        return None if found is None else (int(found[0]), int(found[1]))

    def _probe(self, codes: tuple[int, ...]) -> str:
        """The query finding an event in a key window of any of these tables."""
        probe = self._probes.get(codes)
        if probe is None:
            arms = [
                f"SELECT {code}, key FROM {_table(code)} "
                "WHERE key >= :low AND key < :high AND id = :id"
                for code in codes
            ]
            probe = self._probes[codes] = " UNION ALL ".join(arms) + (" LIMIT 1" if arms else "")
        return probe

    # --- writing (inside the store's write transaction) --------------------------------

    def insert(
        self, connection: sqlite3.Connection, event_id: str, created: int, name: str, body: str
    ) -> None:
        """Add an event; raises sqlite3.IntegrityError (and writes nothing) if its id is taken."""
        if not -_CREATED_LIMIT <= created < _CREATED_LIMIT:
            msg = f"An event's created ({created}) must be below 2**{63 - KEY_BITS} in size."
            raise StoreError(msg)
        cached, self._newest = self._newest, None
        # The newest event again, as this connection last saw the file (nearly always):
        # a guarded INSERT, which writes only if no other connection committed since and
        # the id is not in event_ids. Else, or if the type has no table yet, the steps
        # further down look again. Worked out inline: _natural_key_in, _comes_after and
        # _key_after, as the steps further down use them.
        if cached is not None and len(event_id) == 30:
            version, newest, newest_id, limit, no_ids = cached
            code = self._codes.get(name)
            if code is not None and newest is not None and newest_id is not None:
                key: int | None = None
                if (
                    event_id[:17] == newest_id[:17]
                    and newest + 1 < limit
                    and event_id > newest_id
                    and created == newest >> KEY_BITS
                ):
                    # Another id of the newest event's millisecond, counted up: its first
                    # 17 characters, hence its natural key, are the newest's; the next key
                    # is still in that key's window. No natural key to work out.
                    key = newest + 1
                else:
                    natural = natural_key(event_id)
                    if natural is not None and natural >> KEY_BITS == created:
                        second = newest >> KEY_BITS
                        if second < created or (second == created and newest_id < event_id):
                            # After the newest event: at its natural key unless that is taken.
                            key = natural if natural > newest else newest + 1
                            limit = natural + WINDOW
                if key is not None and key < limit:
                    # The guarded INSERT: only if no other connection committed since (the
                    # data version) and the id is not in event_ids (not looked at when
                    # no_ids: that table was empty at that version). If it does not write,
                    # no other key here would either. ``PRAGMA data_version`` is a
                    # statement of its own before the INSERT: the write transaction holds
                    # the write lock, so no other connection can commit between the two.
                    # Inside the INSERT (``pragma_data_version()``), SQLite's pragma table
                    # prepared its statement again on every run: 0.04-0.05 of an update's
                    # CPU time more (benchmarks/RESULTS.md, "ninth pass"). On a cursor kept
                    # for the connection (``execute`` on the connection makes one a call).
                    cursor = self._cursor
                    if cursor is None or cursor.connection is not connection:
                        cursor = self._cursor = connection.cursor()
                    if cursor.execute("PRAGMA data_version").fetchone()[0] == version:
                        if no_ids:
                            sql = self._inserts.get(code)
                            if sql is None:
                                sql = self._inserts[code] = (
                                    f"INSERT INTO {_table(code)} VALUES (?, ?, ?)"
                                )
                            cursor.execute(sql, (key, event_id, body))
                            self._newest = (version, key, event_id, limit, no_ids)
                            return
                        sql = self._inserts.get(-code)
                        if sql is None:
                            sql = self._inserts[-code] = (
                                f"INSERT INTO {_table(code)} (key, id, body) SELECT ?, ?, ? "
                                "WHERE NOT EXISTS (SELECT 1 FROM event_ids WHERE id = ?)"
                            )
                        if cursor.execute(sql, (key, event_id, body, event_id)).rowcount:
                            self._newest = (version, key, event_id, limit, no_ids)
                            return
        natural = _natural_key_in(event_id, created)
        version, newest, newest_id, _, no_ids = self._newest_event(connection, cached)
        code = self._codes.get(name)
        if code is None:
            # A type no event had yet: its table, unless the event is refused anyway.
            if self._locate(connection, event_id, self._codes.values()) is not None:
                raise sqlite3.IntegrityError(f"event id {event_id} is taken")
            code = _add_type(connection, name)
            self._load(connection)
        table = _table(code)
        if _comes_after((version, newest, newest_id, 0, no_ids), created, event_id):
            # The newest event (nearly always): after every stored one.
            key = _key_after(newest, created, natural)
            if natural is not None and key < natural + WINDOW:
                # Its id finds it. Were the id taken, the other event would be in
                # event_ids (its id finds no other place this far up in this second).
                if not connection.execute(
                    f"INSERT INTO {table} (key, id, body) SELECT ?, ?, ? "
                    "WHERE NOT EXISTS (SELECT 1 FROM event_ids WHERE id = ?)",
                    (key, event_id, body, event_id),
                ).rowcount:
                    raise sqlite3.IntegrityError(f"event id {event_id} is taken")
                self._newest = (version, key, event_id, natural + WINDOW, no_ids)
                return
            if self._locate(connection, event_id, self._codes.values()) is not None:
                raise sqlite3.IntegrityError(f"event id {event_id} is taken")
            found = _found_by_id(event_id, key)
            self._newest = (version, key, event_id, 0, no_ids and found)
        else:
            # Older than the newest event (another process's clock, or a caller's order).
            if self._locate(connection, event_id, self._codes.values()) is not None:
                raise sqlite3.IntegrityError(f"event id {event_id} is taken")
            key = self._make_room(connection, created, event_id, natural)
        if not _found_by_id(event_id, key):
            connection.execute("INSERT INTO event_ids VALUES (?, ?, ?)", (event_id, code, key))
        connection.execute(f"INSERT INTO {table} VALUES (?, ?, ?)", (key, event_id, body))

    def _make_room(
        self, connection: sqlite3.Connection, created: int, event_id: str, natural: int | None
    ) -> int:
        """The key of an event that goes before others of its second: between the events
        before and after it (at its natural key if that lies between), or, when no key is
        free there, where the first later one was, moving the later ones with consecutive
        keys up by one (few: writers racing in the same second)."""
        floor, ceiling = created << KEY_BITS, (created + 1) << KEY_BITS
        tables = [(code, _table(code)) for code in self._codes.values()]
        before = max(
            (
                int(row[0])
                for _, table in tables
                for row in connection.execute(
                    f"SELECT key FROM {table} WHERE key >= ? AND key < ? AND id < ? "
                    "ORDER BY key DESC LIMIT 1",
                    (floor, ceiling, event_id),
                )
            ),
            default=floor - 1,
        )
        after = sorted(
            (int(key), code, other)
            for code, table in tables
            for key, other in connection.execute(
                f"SELECT key, id FROM {table} WHERE key > ? AND key < ?", (before, ceiling)
            )
        )
        low, high = before + 1, after[0][0] - 1 if after else ceiling - 1
        if low <= high:
            return low if natural is None else min(max(natural, low), high)
        run = 1
        while run < len(after) and after[run][0] == low + run:
            run += 1
        if after[run - 1][0] + 1 >= ceiling:
            msg = f"Too many events were created in second {created}: its keys ran out."
            raise StoreError(msg)
        for key, code, other in reversed(after[:run]):  # the last first: each to a free key
            connection.execute(f"UPDATE {_table(code)} SET key = ? WHERE key = ?", (key + 1, key))
            connection.execute(
                "INSERT OR REPLACE INTO event_ids VALUES (?, ?, ?)", (other, code, key + 1)
            )
        return low

    def purge(self, connection: sqlite3.Connection, before: int, limit: int) -> int:
        """Remove the events created before ``before``, at most ``limit``, the oldest first;
        return how many. Keys are unique across the tables: the ``limit`` oldest are those
        up to the ``limit``-th smallest key below the bound, read from each table's start
        (O(tables * limit), no more)."""
        bound = _clamped(before << KEY_BITS)
        tables = [_table(code) for code in sorted(self.codes(connection).values())]
        firsts = [
            [key for (key,) in connection.execute(sql, (bound, limit))]
            for sql in (
                f"SELECT key FROM {table} WHERE key < ? ORDER BY key LIMIT ?" for table in tables
            )
        ]
        oldest = list(islice(heapq.merge(*firsts), limit))
        if not oldest:
            return 0
        last = oldest[-1]
        removed = 0
        for table, keys in zip(tables, firsts, strict=True):
            if keys and keys[0] <= last:
                connection.execute(
                    f"DELETE FROM event_ids WHERE id IN (SELECT id FROM {table} WHERE key <= ?)",
                    (last,),
                )
                removed += connection.execute(
                    f"DELETE FROM {table} WHERE key <= ?", (last,)
                ).rowcount
        return removed

    # --- reading --------------------------------------------------------------------------

    def get(self, connection: sqlite3.Connection, event_id: str) -> str | None:
        """The body of the event with that id, or None."""
        found = self._locate(connection, event_id, self.codes(connection).values())
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

        def stored_key(created: int, event_id: str) -> int | None:
            found = self._locate(connection, event_id, known.values()) if event_id else None
            return None if found is None or found[1] >> KEY_BITS != created else found[1]

        bounds = _key_bounds(key_range, stored_key)
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
        found by its id (at its natural key's window, or through ``event_ids`` under its
        table and key), ids are unique, keys follow ``(created, id)``, and each body's
        ``created`` and ``type`` are its key's and its table's."""
        problems: list[str] = []
        indexed = {
            event_id: (code, key)
            for event_id, code, key in connection.execute("SELECT id, code, key FROM event_ids")
        }
        keys: list[tuple[int, str]] = []
        seen: set[str] = set()
        for name, code in self.codes(connection).items():
            for key, event_id, body in connection.execute(
                f"SELECT key, id, body FROM {_table(code)}"
            ):
                event = pydantic_core.from_json(body)
                entry = indexed.pop(event_id, None)
                if entry is None and not _found_by_id(event_id, key):
                    problems.append(f"event {event_id} is neither at its id's key nor in event_ids")
                elif entry is not None and entry != (code, key):
                    problems.append(f"event {event_id} is not in event_ids as it is stored")
                if event_id in seen:
                    problems.append(f"event id {event_id} is stored twice")
                seen.add(event_id)
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
    key_range: KeyRange, stored_key: Callable[[int, str], int | None]
) -> tuple[str, list[object]] | None:
    """SQL conditions on ``key`` (and, for a bound naming no stored event, on ``id``) for
    a range of ``(created, id)`` sort keys; None when no key lies in it. A bound at a
    stored event (a cursor: ``stored_key`` gives its key) becomes its key."""
    low, high = _INT64_MIN, _INT64_MAX
    conditions: list[str] = []
    arguments: list[object] = []
    if key_range.lower is not None:
        created, event_id = key_range.lower
        key = stored_key(created, event_id)
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
        key = stored_key(created, event_id)
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
