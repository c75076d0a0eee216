"""Where an SQLite update's event goes, in CPU time: the update with events on, with parts
of the event's write replaced, each as a ratio to events off (alternating rounds).

``python -m benchmarks.sqlite_event_variants [--ops 100] [--rounds 41] [--synchronous NORMAL]
[VARIANT ...]`` runs one service with events off and one per variant, all on SQLite files
of their own, in rounds of ``--ops`` creates then as many updates (each changing the name
and a metadata value, as ``events_bench`` does), the order of the services reversed every
other round, and prints per variant the median (quartiles) of its per-round update CPU
time over that of events off. Variants (the first two stop the event earlier, in the
service; the others record it as usual up to ``EventTables.insert``, and say what that call
does instead, for creates' events too):

- ``norecord``: the service works out ``previous_attributes`` and records nothing
  (``EventLog.record`` does nothing);
- ``noadd``: the event's id, deliveries check and parts are made, the store takes nothing
  (``SQLiteStore.event_add`` does nothing);
- ``on``: nothing replaced;
- ``noinsert``: writes nothing (the id, diff, body and calls before it remain);
- ``nothing``: one INSERT statement that writes no row (a statement's own cost);
- ``same``: replaces one row of a 100-byte body (one leaf page a write, the file does
  not grow with events);
- ``append``: appends the body under the next key of one table, no guard, no key logic;
- ``append-guard``: ``append`` after the ``PRAGMA data_version`` statement;
- ``append-small``: ``append`` of a 100-byte body instead of the event's.

Measurement code for benchmarks/RESULTS.md ("SQLite, eleventh pass", "twelfth look"); the
variants reach into the service and the store's event tables and are no way to write events.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from customer_core import CustomerService, SQLiteStore
from customer_core.store.sqlite import Synchronous
from customer_core.store.sqlite_events import KEY_BITS, EventTables

from .run import params_for

_SMALL = "x" * 100
_TABLE = "events_3"  # customer.updated's table in a new file


class _Append(EventTables):
    """Appends every event to one table under the next key: no guard, no key logic."""

    guard = False
    small = False

    def insert(self, connection, event_id, created, name, body):  # type: ignore[no-untyped-def]
        cursor = self._cursor
        if cursor is None or cursor.connection is not connection:
            cursor = self._cursor = connection.cursor()
        if self.guard:
            cursor.execute("PRAGMA data_version").fetchone()
        self._next = max(getattr(self, "_next", 0) + 1, created << KEY_BITS)
        body = _SMALL if self.small else body
        cursor.execute(f"INSERT INTO {_TABLE} VALUES (?, ?, ?)", (self._next, event_id, body))


class _AppendGuard(_Append):
    guard = True


class _AppendSmall(_Append):
    small = True


class _Same(EventTables):
    def insert(self, connection, event_id, created, name, body):  # type: ignore[no-untyped-def]
        connection.execute(f"INSERT OR REPLACE INTO {_TABLE} VALUES (1, ?, ?)", (event_id, _SMALL))


class _Nothing(EventTables):
    def insert(self, connection, event_id, created, name, body):  # type: ignore[no-untyped-def]
        connection.execute(f"INSERT INTO {_TABLE} SELECT ?, ?, ? WHERE 0", (1, event_id, body))


class _NoInsert(EventTables):
    def insert(self, connection, event_id, created, name, body):  # type: ignore[no-untyped-def]
        return None


class _NoAddStore(SQLiteStore):
    def event_add(self, *parts, **named):  # type: ignore[no-untyped-def]
        return None


_SERVICE_VARIANTS = ("norecord", "noadd")
"""Variants that stop the event in the service (no ``EventTables`` of their own)."""

VARIANTS: dict[str, Callable[[], EventTables] | None] = {
    "norecord": None,
    "noadd": None,
    "on": None,
    "noinsert": _NoInsert,
    "nothing": _Nothing,
    "same": _Same,
    "append": _Append,
    "append-guard": _AppendGuard,
    "append-small": _AppendSmall,
}


def measure(variants: list[str], ops: int, rounds: int, synchronous: Synchronous) -> None:
    """Print each variant's median update CPU ratio to events off (and the load)."""
    directory = Path(tempfile.mkdtemp())
    services: dict[str, CustomerService] = {}
    for name in ["off", *variants]:
        store_type = _NoAddStore if name in _SERVICE_VARIANTS else SQLiteStore
        store = store_type(directory / f"{name}.db", synchronous=synchronous)
        tables = VARIANTS.get(name)
        if tables is not None:
            store._events = tables()
        service = services[name] = CustomerService(store, events=name != "off", seed=1)
        if name == "norecord":
            service.events.record = lambda *parts, **named: None  # type: ignore[method-assign]
    made: dict[str, list[str]] = {name: [] for name in services}
    times: dict[str, list[float]] = {name: [] for name in services}
    load = os.getloadavg()[0]
    for number in range(rounds):
        order = list(services) if number % 2 == 0 else list(services)[::-1]
        span = range(number * ops, (number + 1) * ops)
        for name in order:
            made[name] += [services[name].create(**params_for(n)).id for n in span]
        for name in order:
            service, ids = services[name], made[name]
            began = time.process_time()
            for n in span:
                service.update(ids[n], name=f"Renamed {n}", metadata={"plan": f"p{n}"})
            times[name].append(time.process_time() - began)
    for service in services.values():
        service.store.close()
    stamp = time.strftime("%H:%M", time.gmtime())
    print(f"# {stamp} UTC, {synchronous}, load {load:.2f} -> {os.getloadavg()[0]:.2f}")
    for name in variants:
        ratios = [on / off for on, off in zip(times[name], times["off"], strict=True)]
        low, _, high = statistics.quantiles(ratios, n=4)
        print(f"| {name} | {statistics.median(ratios):.3f} ({low:.2f}-{high:.2f}) |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("variants", nargs="*", help=f"any of {', '.join(VARIANTS)} (default: all)")
    parser.add_argument("--ops", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=41)
    parser.add_argument("--synchronous", choices=["FULL", "NORMAL"], default="NORMAL")
    args = parser.parse_args()
    unknown = sorted(set(args.variants) - set(VARIANTS))
    if unknown:
        parser.error(f"unknown variants: {', '.join(unknown)}")
    measure(args.variants or list(VARIANTS), args.ops, args.rounds, args.synchronous)


if __name__ == "__main__":
    main()
