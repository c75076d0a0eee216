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
"""

from __future__ import annotations

import argparse
import platform
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from customer_core import CustomerService, MemoryStore, SQLiteStore, Store

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
    arguments = parser.parse_args(argv)
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
        for name, factory in STORES.items():
            if arguments.store and name.lower().replace(" ", "-") not in arguments.store:
                continue
            _print_row(name, measure(factory, Path(scratch), arguments.ops, arguments.rounds))
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
