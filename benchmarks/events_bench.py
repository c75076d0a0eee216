"""What recording events costs: create and update with events on and off, in alternating
rounds of the same run, on each store.

``python -m benchmarks.events_bench [--ops 2000] [--rounds 7] [--dir DIR] [--postgres]
[--store NAME ...]``
runs, per store, rounds of ``--ops`` creates (then as many updates, each changing metadata
and the name) on a service with ``events=True`` and one with ``events=False``, one round of each in turn (the
order flips every round), and prints the median rates and the median of the per-round
ratios off/on: the share of a write's time that recording its event costs. SQLite runs at
``synchronous="FULL"`` (one fsync per write, with or without an event: the event is in the
same transaction) and, to show the CPU cost without the disk, at ``"NORMAL"``. With
``--postgres`` a throwaway PostgreSQL cluster (default, durable settings) is measured too;
``--store`` (repeatable: ``memory``, ``sqlite-full``, ``sqlite-normal``) measures only those.

``--instructions`` (needs valgrind) counts instead the instructions of one create and of
one update, with events on and off, under ``valgrind --tool=callgrind``: three runs per
store and mode (``--warm`` creates; then ``--ops`` more creates; then as many updates),
each figure the difference of two runs divided by ``--ops``, so start-up and set-up
cancel out. The load of a shared machine moves wall and CPU time by more than a change to
the event path does; it does not move these counts.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from operator import getitem
from pathlib import Path

from customer_core import CustomerService, MemoryStore, SQLiteStore, Store

from .run import params_for
from .sdk_instructions import collected

StoreFactory = Callable[[Path, str], Store]

STORES: dict[str, StoreFactory] = {
    "memory": lambda directory, name: MemoryStore(),
    "sqlite FULL": lambda directory, name: SQLiteStore(directory / f"{name}-full.db"),
    "sqlite NORMAL": lambda directory, name: SQLiteStore(
        directory / f"{name}-normal.db", synchronous="NORMAL"
    ),
}


@contextmanager
def _postgres() -> Iterator[StoreFactory]:
    """A throwaway PostgreSQL cluster; the factory gives each service a schema of its own."""
    from customer_core.store.postgres import PostgresStore
    from customer_core.testing.postgres_server import PostgresServer

    with PostgresServer() as server:
        dsn = server.dsn()
        yield lambda directory, name: PostgresStore(dsn, schema=name.replace("-", "_"))


def _timed(operation: Callable[[int], object], start: int, count: int) -> tuple[float, float]:
    """Wall-clock seconds and CPU seconds (this process, user and system) of ``count`` calls."""
    began, cpu = time.perf_counter(), time.process_time()
    for n in range(start, start + count):
        operation(n)
    return time.perf_counter() - began, time.process_time() - cpu


def measure(factory: StoreFactory, directory: Path, ops: int, rounds: int) -> dict[str, float]:
    """Median rates and on/off time ratios (wall clock and CPU) of create and update for
    one store kind."""
    services = {
        events: CustomerService(factory(directory, f"events-{events}"), events=events, seed=1)
        for events in (True, False)
    }
    made: dict[bool, list[str]] = {True: [], False: []}
    times: dict[tuple[str, bool], list[tuple[float, float]]] = {}
    for round_number in range(rounds):
        order = (True, False) if round_number % 2 == 0 else (False, True)
        start = round_number * ops
        for events in order:
            service, ids = services[events], made[events]

            def create(n: int, service: CustomerService = service, ids: list[str] = ids) -> None:
                ids.append(service.create(**params_for(n)).id)

            times.setdefault(("create", events), []).append(_timed(create, start, ops))
        for events in order:
            service, ids = services[events], made[events]

            def update(n: int, service: CustomerService = service, ids: list[str] = ids) -> None:
                service.update(ids[n], name=f"Renamed {n}", metadata={"plan": f"p{n}"})

            times.setdefault(("update", events), []).append(_timed(update, start, ops))
    for service in services.values():
        service.store.close()
    result: dict[str, float] = {}
    for operation in ("create", "update"):
        on, off = times[(operation, True)], times[(operation, False)]
        result[f"{operation} on"] = ops / statistics.median(wall for wall, _ in on)
        result[f"{operation} off"] = ops / statistics.median(wall for wall, _ in off)
        # Time with events over time without, per round: 1.15 means events cost 15%.
        for name, part in (("cost", 0), ("cpu", 1)):
            result[f"{operation} {name}"] = statistics.median(
                n[part] / o[part] for n, o in zip(on, off, strict=True)
            )
    return result


def child(store: str, events: bool, warm: int, creates: int, updates: int, tick: float) -> None:
    """What one valgrind run executes: ``warm`` creates, ``creates`` more, then ``updates``
    updates (each changing the name and a metadata value, as the timed rounds do). The
    clock moves ``tick`` seconds a write (a C-level read, as cheap as ``time.time``):
    valgrind runs the code some 50 times slower, so the real clock would give every id a
    millisecond of its own, which no real run does."""
    factory = STORES[store]
    now = [1_764_000_000.0]
    clock = partial(getitem, now, 0)
    with tempfile.TemporaryDirectory() as scratch:
        service = CustomerService(
            factory(Path(scratch), "counted"), events=events, seed=1, clock=clock
        )
        ids = []
        for n in range(warm + creates):
            ids.append(service.create(**params_for(n)).id)
            now[0] += tick
        for n in range(updates):
            service.update(ids[n], name=f"Renamed {n}", metadata={"plan": f"p{n}"})
            now[0] += tick
        service.store.close()


def _instructions(
    store: str, events: bool, warm: int, creates: int, updates: int, tick: float
) -> int:
    """Instructions of one valgrind run of ``child`` (the whole process)."""
    arguments = (store, events, warm, creates, updates, tick)
    completed = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable]
        + ["-m", "benchmarks.events_bench", "--child", *map(str, arguments)],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONHASHSEED": "0"},
    )
    return collected(completed.stderr)


def count_instructions(stores: list[str], warm: int, ops: int, tick: float) -> None:
    """Print instructions per create and per update, events on and off, and their ratios."""
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed: --instructions counts with it")
    print(f"# instructions per write (callgrind), {time.strftime('%Y-%m-%d %H:%M')}")
    print(
        f"# {warm} creates first; then {ops} creates, then {ops} updates, counted; "
        f"the clock moves {tick * 1e6:.0f} us a write"
    )
    print(
        "| store | create off | create on | create ratio | update off | update on "
        "| update ratio |\n|---|---|---|---|---|---|---|"
    )
    for store in stores:
        per: dict[tuple[str, bool], float] = {}
        for events in (False, True):
            runs = [
                _instructions(store, events, warm, *counted, tick)
                for counted in ((0, 0), (ops, 0), (ops, ops))
            ]
            per[("create", events)] = (runs[1] - runs[0]) / ops
            per[("update", events)] = (runs[2] - runs[1]) / ops
        cells = []
        for operation in ("create", "update"):
            off, on = per[(operation, False)], per[(operation, True)]
            cells += [f"{off:,.0f}", f"{on:,.0f}", f"**{on / off:.3f}**"]
        print(f"| {store} | {' | '.join(cells)} |", flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ops", type=int, default=2000, help="writes per round (default 2000)")
    parser.add_argument("--rounds", type=int, default=7, help="rounds per mode (default 7)")
    parser.add_argument("--dir", type=Path, help="where SQLite files go (default: a temp dir)")
    parser.add_argument(
        "--postgres", action="store_true", help="measure PostgreSQL too (a throwaway cluster)"
    )
    parser.add_argument(
        "--store",
        action="append",
        choices=[name.lower().replace(" ", "-") for name in STORES],
        help="measure only this store (repeatable; default: all)",
    )
    parser.add_argument(
        "--instructions",
        action="store_true",
        help="count instructions per write under callgrind instead of timing rounds",
    )
    parser.add_argument(
        "--warm", type=int, default=300, help="creates before the counted ones (--instructions)"
    )
    parser.add_argument(
        "--tick-us",
        type=float,
        default=100.0,
        help="microseconds the clock moves a write (--instructions; default 100)",
    )
    parser.add_argument("--child", nargs=6, help=argparse.SUPPRESS)
    arguments = parser.parse_args(argv)
    if arguments.child:
        store, events, warm, creates, updates, tick = arguments.child
        child(store, events == "True", int(warm), int(creates), int(updates), float(tick))
        return
    chosen = [
        name
        for name in STORES
        if not arguments.store or name.lower().replace(" ", "-") in arguments.store
    ]
    if arguments.instructions:
        count_instructions(chosen, arguments.warm, arguments.ops, arguments.tick_us / 1e6)
        return
    print(f"# customer_core events cost, {time.strftime('%Y-%m-%d %H:%M')}")
    print(
        f"# CPython {platform.python_version()}, {platform.machine()}, SQLite "
        f"{sqlite3.sqlite_version}; {arguments.ops} writes per round, {arguments.rounds} rounds "
        "per mode, events on/off alternating"
    )
    print(
        "# writes/s (median of rounds); cost = median per-round time ratio on/off (goal <= 1.20);"
        " cpu = the same ratio of this process's CPU time"
    )
    print(
        "| store | create off | create on | create cost | create cpu "
        "| update off | update on | update cost | update cpu |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory(dir=arguments.dir) as scratch:
        for name in chosen:
            _print_row(name, measure(STORES[name], Path(scratch), arguments.ops, arguments.rounds))
        if arguments.postgres:
            with _postgres() as factory:
                row = measure(factory, Path(scratch), arguments.ops, arguments.rounds)
            _print_row("postgres", row)


def _print_row(name: str, row: dict[str, float]) -> None:
    print(
        f"| {name} | {row['create off']:,.0f} | {row['create on']:,.0f} | "
        f"{row['create cost']:.2f} | {row['create cpu']:.2f} | {row['update off']:,.0f} | "
        f"{row['update on']:,.0f} | {row['update cost']:.2f} | {row['update cpu']:.2f} |",
        flush=True,
    )


if __name__ == "__main__":
    main()
