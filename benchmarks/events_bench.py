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
``--store`` (repeatable: ``memory``, ``sqlite-full``, ``sqlite-normal``) measures only those;
``--control`` runs the same rounds with events off in both services (the method's own bias
and spread at the load of the moment).

``--instructions`` (needs valgrind) counts instead the instructions of one create and of
one update, with events on and off, under ``valgrind --tool=callgrind``: one run per
store and mode (``--warm`` creates; then ``--ops`` more creates; then as many updates),
which dumps its counts at each phase's end (``--dump-before=getppid``: the child calls
``os.getppid()`` between phases), so start-up and set-up fall in a dump of their own.
The load of a shared machine moves wall and CPU time by more than a change to the event
path does; it does not move these counts.

``--wal`` prints, for SQLite at ``FULL`` and ``NORMAL``, the WAL frames and bytes one
create and one update append, with events on and off (automatic checkpoints off while
counting, so the WAL file's growth is what the writes appended): the disk's share of an
event, which instruction counts do not see.

Each timed row is followed by a ``#`` line with the load average before and after it
(``os.getloadavg``) and the quartiles of the per-round CPU ratios.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
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
from pathlib import Path
from typing import Any

from customer_core import CustomerService, MemoryStore, SQLiteStore, Store
from customer_core.store.sqlite import Synchronous

from .run import params_for

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


def measure(
    factory: StoreFactory, directory: Path, ops: int, rounds: int, control: bool = False
) -> dict[str, Any]:
    """Median rates and on/off time ratios (wall clock and CPU) of create and update for
    one store kind, the quartiles of the CPU ratios, and the load average before and after.
    ``control``: the "on" service has events off too, so the ratios show the method's own
    bias and spread at this load."""
    load_before = os.getloadavg()[0]
    services = {
        events: CustomerService(
            factory(directory, f"events-{events}"), events=events and not control, seed=1
        )
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
    result: dict[str, Any] = {"load": (load_before, os.getloadavg()[0])}
    for operation in ("create", "update"):
        on, off = times[(operation, True)], times[(operation, False)]
        result[f"{operation} on"] = ops / statistics.median(wall for wall, _ in on)
        result[f"{operation} off"] = ops / statistics.median(wall for wall, _ in off)
        # Time with events over time without, per round: 1.15 means events cost 15%.
        for name, part in (("cost", 0), ("cpu", 1)):
            ratios = [n[part] / o[part] for n, o in zip(on, off, strict=True)]
            result[f"{operation} {name}"] = statistics.median(ratios)
            if name == "cpu" and len(ratios) > 1:
                quartiles = statistics.quantiles(ratios, n=4)
                result[f"{operation} cpu quartiles"] = (quartiles[0], quartiles[2])
    return result


def child(store: str, events: bool, warm: int, creates: int, updates: int, tick: float) -> None:
    """What one valgrind run executes: ``warm`` creates, ``creates`` more, then ``updates``
    updates (each changing the name and a metadata value, as the timed rounds do), with
    ``os.getppid()`` after each phase (``--dump-before=getppid`` dumps the counts there).
    The clock moves ``tick`` seconds a write (a C-level read, as cheap as ``time.time``):
    valgrind runs the code some 50 times slower, so the real clock would give every id a
    millisecond of its own, which no real run does."""
    factory = STORES[store]
    now = [1_764_000_000.0]
    clock = partial(now.__getitem__, 0)
    with tempfile.TemporaryDirectory() as scratch:
        service = CustomerService(
            factory(Path(scratch), "counted"), events=events, seed=1, clock=clock
        )
        ids = []
        for n in range(warm):
            ids.append(service.create(**params_for(n)).id)
            now[0] += tick
        os.getppid()
        for n in range(warm, warm + creates):
            ids.append(service.create(**params_for(n)).id)
            now[0] += tick
        os.getppid()
        for n in range(updates):
            service.update(ids[n], name=f"Renamed {n}", metadata={"plan": f"p{n}"})
            now[0] += tick
        os.getppid()
        service.store.close()


_TOTALS = re.compile(r"^(?:summary|totals):\s*(\d+)", re.MULTILINE)


def _instructions(store: str, events: bool, warm: int, ops: int, tick: float) -> tuple[int, int]:
    """Instructions of ``ops`` creates and of ``ops`` updates, from one valgrind run of
    ``child``: its dumps are start-up and warm-up, the creates, the updates, the rest."""
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / "callgrind.out"
        arguments = (store, events, warm, ops, ops, tick)
        subprocess.run(
            ["valgrind", "--tool=callgrind", "--dump-before=getppid"]
            + [f"--callgrind-out-file={out}", sys.executable]
            + ["-m", "benchmarks.events_bench", "--child", *map(str, arguments)],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONHASHSEED": "0"},
        )
        dumps = sorted(Path(scratch).glob("callgrind.out.*"), key=lambda p: int(p.suffix[1:]))
        totals = []
        for dump in dumps:
            found = _TOTALS.search(dump.read_text())
            if found is None:
                raise RuntimeError(f"callgrind wrote no totals in {dump.name}")
            totals.append(int(found.group(1)))
    if len(totals) < 3:
        raise RuntimeError("callgrind dumped fewer than three phases; is valgrind working?")
    return totals[1], totals[2]


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
            creates, updates = _instructions(store, events, warm, ops, tick)
            per[("create", events)] = creates / ops
            per[("update", events)] = updates / ops
        cells = []
        for operation in ("create", "update"):
            off, on = per[(operation, False)], per[(operation, True)]
            cells += [f"{off:,.0f}", f"{on:,.0f}", f"**{on / off:.3f}**"]
        print(f"| {store} | {' | '.join(cells)} |", flush=True)


def wal_growth(synchronous: Synchronous, events: bool, warm: int, ops: int) -> dict[str, float]:
    """WAL frames and bytes one create and one update append on SQLite at ``synchronous``,
    after ``warm`` creates (automatic checkpoints off: the file grows by what is written)."""
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "wal.db"
        store = SQLiteStore(path, synchronous=synchronous)
        service = CustomerService(store, events=events, seed=1)
        ids = [service.create(**params_for(n)).id for n in range(warm)]
        connection = store._connection  # the store's write connection: its checkpoints
        assert connection is not None
        connection.execute("PRAGMA wal_autocheckpoint = 0")
        page_size = connection.execute("PRAGMA page_size").fetchone()[0]
        wal = Path(f"{path}-wal")
        result: dict[str, float] = {}
        for operation in ("create", "update"):
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            before = wal.stat().st_size
            for n in range(ops):
                if operation == "create":
                    service.create(**params_for(warm + n))
                else:
                    service.update(ids[n], name=f"Renamed {n}", metadata={"plan": f"p{n}"})
            grown = wal.stat().st_size - before
            header = 32 if before == 0 else 0  # the WAL header, written with the first frame
            result[f"{operation} bytes"] = grown / ops
            result[f"{operation} frames"] = (grown - header) / (page_size + 24) / ops
        store.close()
    return result


def print_wal(warm: int, ops: int) -> None:
    """Print WAL frames and bytes per write, events off and on, for FULL and NORMAL."""
    print(f"# WAL appended per write (SQLite), {time.strftime('%Y-%m-%d %H:%M')}")
    print(f"# {warm} creates first; then {ops} creates, then {ops} updates, counted")
    print(
        "| synchronous | create frames off | on | create bytes off | on "
        "| update frames off | on | update bytes off | on |\n|---|---|---|---|---|---|---|---|---|"
    )
    for synchronous in ("FULL", "NORMAL"):
        off, on = (
            wal_growth(synchronous, False, warm, ops),
            wal_growth(synchronous, True, warm, ops),
        )
        cells = []
        for operation in ("create", "update"):
            cells += [f"{off[f'{operation} frames']:.2f}", f"{on[f'{operation} frames']:.2f}"]
            cells += [f"{off[f'{operation} bytes']:,.0f}", f"{on[f'{operation} bytes']:,.0f}"]
        print(f"| {synchronous} | {' | '.join(cells)} |", flush=True)


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
    parser.add_argument(
        "--wal",
        action="store_true",
        help="print the WAL frames and bytes a write appends on SQLite FULL and NORMAL",
    )
    parser.add_argument(
        "--control",
        action="store_true",
        help="a control run: both services have events off (the method's own bias)",
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
    if arguments.wal:
        print_wal(arguments.warm, arguments.ops)
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
        label = " (control: events off in both)" if arguments.control else ""
        for name in chosen:
            row = measure(
                STORES[name], Path(scratch), arguments.ops, arguments.rounds, arguments.control
            )
            _print_row(name + label, row)
        if arguments.postgres:
            with _postgres() as factory:
                row = measure(
                    factory, Path(scratch), arguments.ops, arguments.rounds, arguments.control
                )
            _print_row("postgres" + label, row)


def _print_row(name: str, row: dict[str, Any]) -> None:
    print(
        f"| {name} | {row['create off']:,.0f} | {row['create on']:,.0f} | "
        f"{row['create cost']:.2f} | {row['create cpu']:.2f} | {row['update off']:,.0f} | "
        f"{row['update on']:,.0f} | {row['update cost']:.2f} | {row['update cpu']:.2f} |",
        flush=True,
    )
    spread = "; ".join(
        f"{operation} cpu quartiles {low:.2f}-{high:.2f}"
        for operation in ("create", "update")
        if f"{operation} cpu quartiles" in row
        for low, high in [row[f"{operation} cpu quartiles"]]
    )
    print(f"# {name}: load {row['load'][0]:.2f} -> {row['load'][1]:.2f}; {spread}", flush=True)


if __name__ == "__main__":
    main()
