"""What a backlog of expired events costs the write that purges it: before bounded purges
one create removed them all inside its own write; now it removes ``PURGE_LIMIT`` and the
next writes go on, one bite each.

``python -m benchmarks.purge_bench [--events 30000] [--creates 40] [--rounds 5]
[--before DIR] [--dir DIR] [--store memory|sqlite ...]``
builds, per store, a store holding ``--events`` customers (and their events) created 31
days ago, and times on a copy of it (SQLite: a copy of the file) the create whose event is
the one that purges (the event log's counter set just below ``PURGE_EVERY``), then
``--creates`` creates after it: the purging create's time and the events it removed; the
creates after it that purged too (a bite each), their median and slowest time; the median
of those that purged nothing (the control); and the expired events left at the end. With
``--before DIR`` (a copy of an older tree of this repository, with its ``customer_core``
package) each round runs that tree too, in a process of its own, the two in turn (the
order flips every round), on copies of the same file: the older tree opens the file this
one wrote (same schema); ``--after DIR`` likewise runs the tree in DIR as "after" (else
this one). Prints a table of medians over the rounds, with the load average
before and after.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

DAY = 24 * 60 * 60
NOW = 1_800_000_000
OLD = NOW - 31 * DAY


def _store(kind: str, path: Path) -> Any:
    from customer_core import MemoryStore, SQLiteStore

    return MemoryStore() if kind == "memory" else SQLiteStore(path)


def _fill(service: Any, store: Any, events: int) -> None:
    """``events`` creates, a thousand a transaction."""
    for start in range(0, events, 1000):
        with store.transaction():
            for number in range(start, min(events, start + 1000)):
                service.create(name=f"old {number}", email=f"old{number}@example.com")


def build(path: Path, events: int) -> None:
    """A SQLite file holding ``events`` customers created 31 days before NOW."""
    from customer_core import CustomerService, SQLiteStore

    with SQLiteStore(path) as store:
        _fill(CustomerService(store, clock=lambda: OLD, seed=1), store, events)


def measure(kind: str, path: Path, events: int, creates: int) -> dict[str, Any]:
    """Time the purging create and ``creates`` more on the store (built here if memory)."""
    import customer_core
    from customer_core import CustomerService
    from customer_core.events import recording

    with _store(kind, path) as store:
        if kind == "memory":
            _fill(CustomerService(store, clock=lambda: OLD, seed=1), store, events)
        clock = [float(NOW)]
        service = CustomerService(store, clock=lambda: clock[0], seed=2)
        service.events._since_purge = 0  # the warm-up's event must not purge (a first one does)
        service.create(name="warm")  # its first write purges idempotency keys (none)
        service.events._since_purge = recording.PURGE_EVERY - 1
        purge = store.event_purge
        removed = [0]

        def counted(*args: Any, **kwargs: Any) -> int:
            count: int = purge(*args, **kwargs)
            removed[0] += count
            return count

        store.event_purge = counted
        times, purged = [], []
        for number in range(creates + 1):
            clock[0] += 1
            removed[0] = 0
            started = time.perf_counter()
            service.create(name=f"new {number}")
            times.append((time.perf_counter() - started) * 1000)
            purged.append(removed[0])
        left = sum(1 for event in store.event_scan() if event["created"] < NOW - 30 * DAY)
    package = str(Path(customer_core.__file__).parent)
    return {"package": package, "ms": times, "purged": purged, "left": left}


def _child(tree: Path | None, kind: str, path: Path, events: int, creates: int) -> dict[str, Any]:
    environment = dict(os.environ)
    if tree is not None:
        environment["PYTHONPATH"] = str(tree)
    # Run as a file, away from this tree's root: its customer_core must not shadow the
    # older tree's.
    command = [sys.executable, str(Path(__file__).resolve()), "--child", kind, str(path)]
    command += ["--events", str(events), "--creates", str(creates)]
    completed = subprocess.run(
        command, cwd=path.parent, env=environment, capture_output=True, text=True, check=True
    )
    result: dict[str, Any] = json.loads(completed.stdout)
    return result


def _row(kind: str, name: str, runs: list[dict[str, Any]]) -> str:
    """A table row: medians over the rounds."""
    first = statistics.median(run["ms"][0] for run in runs)
    pairs = [list(zip(run["ms"][1:], run["purged"][1:], strict=True)) for run in runs]
    bites = [[ms for ms, count in run if count] for run in pairs]
    plain = [[ms for ms, count in run if not count] for run in pairs]
    biting = "0 | - | -"
    if all(bites):
        median = statistics.median(map(statistics.median, bites))
        biting = f"{len(bites[0])} | {median:.1f} | {statistics.median(map(max, bites)):.1f}"
    return (
        f"| {kind} | {name} | {first:.1f} ({runs[0]['purged'][0]}) | {biting} "
        f"| {statistics.median(map(statistics.median, plain)):.2f} | {runs[-1]['left']} |"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=30_000)
    parser.add_argument("--creates", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--before", type=Path)
    parser.add_argument("--after", type=Path)
    parser.add_argument("--dir", type=Path)
    parser.add_argument("--store", action="append", choices=["memory", "sqlite"])
    parser.add_argument("--child", nargs=2, metavar=("STORE", "PATH"), help=argparse.SUPPRESS)
    options = parser.parse_args(argv)
    if options.child:
        result = measure(options.child[0], Path(options.child[1]), options.events, options.creates)
        print(json.dumps(result))
        return
    after = None if options.after is None else options.after.resolve()
    trees: dict[str, Path | None] = {"after": after}
    if options.before is not None:
        trees = {"before": options.before.resolve(), "after": after}
    directory = Path(tempfile.mkdtemp(dir=options.dir, prefix="purge_bench_"))
    try:
        built = directory / "built.db"
        build(built, options.events)
        print(
            f"{platform.machine()}, {os.cpu_count()} cores, SQLite {sqlite3.sqlite_version}, "
            f"Python {platform.python_version()}; {options.events} expired events, "
            f"{options.creates} creates after the purging one, {options.rounds} rounds"
        )
        print()
        print(
            "| store | tree | first purging create: ms (events removed) "
            "| creates purging after it | their median ms | their slowest ms "
            "| creates purging nothing: median ms | expired left |"
        )
        print("|---|---|---|---|---|---|---|---|")
        for kind in options.store or ["memory", "sqlite"]:
            results: dict[str, list[dict[str, Any]]] = {name: [] for name in trees}
            load = os.getloadavg()
            for round_number in range(options.rounds):
                names = list(trees) if round_number % 2 == 0 else list(trees)[::-1]
                for name in names:
                    path = directory / f"{name}.db"
                    shutil.copyfile(built, path)
                    results[name].append(
                        _child(trees[name], kind, path, options.events, options.creates)
                    )
            for name, runs in results.items():
                print(_row(kind, name, runs))
            load_after = os.getloadavg()
            packages = ", ".join(f"{name}: {runs[0]['package']}" for name, runs in results.items())
            print(f"# load average {load[0]:.2f} before, {load_after[0]:.2f} after; {packages}")
    finally:
        shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    main()
