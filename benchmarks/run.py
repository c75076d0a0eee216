"""Measure service operations on each store at growing sizes, beside the pydantic floor.

``python -m benchmarks`` fills each store to 10k, 100k and 1M customers and, at each size,
times create, retrieve, update and a list page of 100 (``to_dict()`` included) through
``CustomerService``, and the floor: ``Customer.model_validate`` + ``model_dump(mode="json")``
of the same record, measured in the same run. The machine is shared and noisy, so each
figure is the median of several rounds and the ratios are what to compare.
``--search-only`` fills the stores and times the search queries alone.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from customer_core import Customer, CustomerService, MemoryStore, SQLiteStore, Store
from customer_core.errors import DuplicateKeyError

RECORD_PARAMS: dict[str, Any] = {
    "name": "Jenny Rosen",
    "email": "jenny.rosen@example.com",
    "description": "A test customer",
    "phone": "+15555550123",
    "address": {
        "city": "Paris",
        "country": "FR",
        "line1": "1 rue de Rivoli",
        "postal_code": "75001",
    },
    "metadata": {"order_id": "6735", "plan": "gold"},
    "preferred_locales": ["fr", "en"],
}

ROUNDS = 5


_SYLLABLES = ("ka", "lo", "mi", "ra", "ne", "to", "sa", "vi", "de", "an", "el", "or")


def _made_up_word(number: int, syllables: int) -> str:
    """A pronounceable word, one per number below 12 ** syllables."""
    parts = []
    for _ in range(syllables):
        number, rest = divmod(number, len(_SYLLABLES))
        parts.append(_SYLLABLES[rest])
    return "".join(parts).capitalize()


def person_name(n: int) -> tuple[str, str]:
    """Customer n's first and last name: 97 first names, 1,009 last names (so at 1M a last
    name is shared by ~1,000 customers, a full name by ~10), as the name words of real
    customers spread over the word index."""
    return _made_up_word(n % 97, 2), _made_up_word((n // 97) % 1009, 3)


def params_for(n: int) -> dict[str, Any]:
    """A realistic create body; email and name vary so the word index has many keys."""
    return {
        **RECORD_PARAMS,
        "name": " ".join(person_name(n)),
        "email": f"customer{n}@example.com",
        "metadata": {"order_id": str(n), "plan": "gold"},
    }


def rss_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def rate(operation: Callable[[int], object], count: int, rounds: int = ROUNDS) -> float:
    """Median operations per second over ``rounds`` rounds of ``count`` calls."""
    results = []
    for round_number in range(rounds):
        start = time.perf_counter()
        for n in range(count):
            operation(round_number * count + n)
        results.append(count / (time.perf_counter() - start))
    return statistics.median(results)


def fill(service: CustomerService, start: int, stop: int, batch: int = 1000) -> None:
    """Create customers ``start..stop`` in batches (one transaction per batch)."""
    for low in range(start, stop, batch):
        with service.batch():
            for n in range(low, min(low + batch, stop)):
                service.create(**params_for(n))


def prepared_records(count: int) -> list[dict[str, Any]]:
    """Records exactly as the service stores them, made beforehand by a scratch service, so
    that a store's own cost of ``insert`` can be timed without the service's work."""
    scratch = MemoryStore()
    service = CustomerService(scratch)
    records = []
    for n in range(count):
        record = scratch.get(service.create(**params_for(30_000_000 + n)).id)
        assert record is not None
        records.append(record)
    return records


def insert_alone(store: Store, record: dict[str, Any]) -> None:
    """``store.insert`` of a prepared record; a prefix the store already holds (its
    prefixes came from another generator) is replaced, as the service would."""
    while True:
        try:
            store.insert(record)
            return
        except DuplicateKeyError as error:
            if error.key != "invoice_prefix":
                raise
            record["invoice_prefix"] = f"{random.getrandbits(32):08X}"


class InBatches:
    """An operation run 100 calls to a transaction: every 100th call commits the open
    transaction (from ``open_batch``) and opens the next; ``close`` commits the last."""

    def __init__(
        self,
        open_batch: Callable[[], AbstractContextManager[object]],
        step: Callable[[int], object],
    ) -> None:
        self._open_batch = open_batch
        self._step = step
        self._batch: AbstractContextManager[object] | None = None

    def __call__(self, n: int) -> object:
        if n % 100 == 0:
            self.close()
            self._batch = self._open_batch()
            self._batch.__enter__()
        return self._step(n)

    def close(self) -> None:
        if self._batch is not None:
            self._batch.__exit__(None, None, None)
            self._batch = None


def measure(
    service: CustomerService,
    ids: list[str],
    size: int,
    ops: int,
    raw_insert: Callable[[int], object] | None = None,
) -> dict[str, float]:
    """Operations per second at the current size (the creates add customers).
    With ``raw_insert``, durable creates are also paired with rounds of the raw peer.
    ``insert alone`` rows time ``store.insert`` of prepared records: the store's share of
    a create, a bound on what any service on top of it can reach."""
    store = service.store
    rng = random.Random(size)
    body = service.retrieve(ids[0]).to_dict()
    sample = [rng.choice(ids) for _ in range(ops * ROUNDS)]
    list_count = max(ops // 20, 50)
    cursors = [rng.choice(ids) for _ in range(list_count * ROUNDS)]
    fresh = iter(range(size + 10_000_000, size + 20_000_000))

    def floor(n: int) -> object:
        return Customer.model_validate(body).model_dump(mode="json")

    def create(n: int) -> object:
        return service.create(**params_for(next(fresh)))

    create_batched = InBatches(service.batch, create)
    durable_count = ops // 4
    prepared = prepared_records(ops * ROUNDS + (durable_count * ROUNDS if raw_insert else 0))
    alone_batched, alone_durable = prepared[: ops * ROUNDS], prepared[ops * ROUNDS :]

    def insert_durable(n: int) -> object:
        insert_alone(store, alone_durable[n])
        return None

    insert_batched = InBatches(store.transaction, lambda n: insert_alone(store, alone_batched[n]))

    def retrieve(n: int) -> object:
        return service.retrieve(sample[n])

    def update(n: int) -> object:
        return service.update(sample[n], metadata={"plan": "platinum" if n % 2 else "gold"})

    def list_page(n: int) -> object:
        return service.list(limit=100, starting_after=cursors[n]).to_dict()

    def paired(
        operation: Callable[[int], object],
        count: int,
        baseline: Callable[[int], object] = floor,
        base_count: int = ops,
    ) -> tuple[float, float, float]:
        """Alternate a round of the baseline (the floor unless said) and a round of
        ``operation``: the machine is shared, so a ratio is only fair between neighbouring
        rounds. Returns the median rate, the median of the per-round ratios to the
        baseline, and the median baseline rate."""
        rates, ratios, floors = [], [], []
        for round_number in range(ROUNDS):
            floor_rate = rate(baseline, base_count, rounds=1)
            start = time.perf_counter()
            for n in range(count):
                operation(round_number * count + n)
            op_rate = count / (time.perf_counter() - start)
            rates.append(op_rate)
            floors.append(floor_rate)
            ratios.append(op_rate / floor_rate)
        return statistics.median(rates), statistics.median(ratios), statistics.median(floors)

    row: dict[str, float] = {}
    row["create"], row["create/floor"], floor_a = paired(create, ops)
    if raw_insert is not None:
        # Durable creates beside raw durable inserts, both fsync-bound: fewer calls per round.
        _, row["create/raw"], row["raw"] = paired(create, durable_count, raw_insert, durable_count)
        _, row["alone/raw"], _ = paired(insert_durable, durable_count, raw_insert, durable_count)
    row["create_batched"], row["batched/floor"], floor_b = paired(create_batched, ops)
    create_batched.close()
    _, row["alone batched/floor"], _ = paired(insert_batched, ops)
    insert_batched.close()
    row["retrieve"], row["retrieve/floor"], floor_c = paired(retrieve, ops)
    row["update"], _, _ = paired(update, ops)
    row["list100"], row["list/floor"], floor_d = paired(list_page, list_count)
    row["floor"] = statistics.median([floor_a, floor_b, floor_c, floor_d])
    return row


def search_queries(size: int) -> dict[str, str]:
    """One query of each kind; the targets exist at every size (customer n has order_id n)."""
    target = size // 2
    first, last = person_name(target)
    return {
        "metadata exact (1 match)": f'metadata["order_id"]:"{target}"',
        "metadata, many matches (page 10)": 'metadata["plan"]:"gold"',
        "email exact (1 match)": f'email:"customer{target}@example.com"',
        "created range (page 10)": "created>=0 created<4000000000",
        "name word (page 10)": f'name:"{last}"',
        "name phrase (few matches)": f'name:"{first} {last}"',
        "name phrase reversed (no match)": f'name:"{last} {first}"',
        "name word, no match": 'name:"lovelace"',
        "substring (page 10)": 'email~"example"',
        "substring, no match (full scan)": 'name~"zzz"',
    }


def measure_search(service: CustomerService, size: int) -> dict[str, float]:
    """Milliseconds per search call (limit 10, to_dict() included), median of 5 rounds."""
    results = {}
    for kind, query in search_queries(size).items():
        calls = 3 if "full scan" in kind else 50

        def search(n: int, query: str = query) -> object:
            return service.search(query).to_dict()

        results[kind] = 1000 / rate(search, calls)
    return results


def raw_sqlite_insert(
    directory: Path, record: dict[str, Any], synchronous: str
) -> Callable[[int], object]:
    """The peer: a plain sqlite3 insert of the same JSON, one per transaction, same settings,
    into a fresh file beside the store's."""
    path = directory / "raw-sqlite-bench.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute(f"PRAGMA synchronous={synchronous}")
    connection.execute(
        "CREATE TABLE customers (id TEXT PRIMARY KEY, body TEXT NOT NULL) WITHOUT ROWID"
    )
    body = json.dumps(record, separators=(",", ":"))
    fresh = iter(range(10**12))

    def insert(n: int) -> object:
        connection.execute("BEGIN IMMEDIATE")
        connection.execute("INSERT INTO customers VALUES (?, ?)", (f"cus_{next(fresh):026d}", body))
        return connection.execute("COMMIT")

    return insert


def open_cost(path: Path, customer_id: str) -> tuple[float, float]:
    """Seconds to open a store file and read one customer, and the process's RSS in MiB,
    measured in a fresh interpreter so nothing is cached in this one."""
    script = (
        "import time, os; from customer_core import SQLiteStore, CustomerService; start = time.perf_counter(); "
        f"service = CustomerService(SQLiteStore({str(path)!r})); service.retrieve({customer_id!r}); "
        "service.list(limit=100).to_dict(); elapsed = time.perf_counter() - start; "
        "rss = int(open('/proc/self/statm').read().split()[1]) * os.sysconf('SC_PAGE_SIZE'); "
        "print(elapsed, rss / 2**20)"
    )
    output = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout
    seconds, rss = (float(value) for value in output.split())
    return seconds, rss


def sqlite_store(directory: Path) -> Store:
    path = directory / "customers-bench.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return SQLiteStore(path)


STORES: dict[str, Callable[[Path], Store]] = {
    "memory": lambda directory: MemoryStore(),
    "sqlite": sqlite_store,
}


def ratio(value: float) -> str:
    """A ratio with two decimals, or two significant digits below 0.05: a durable create on
    a busy disk can run at under 0.005 of the floor, and "0.00" would say nothing."""
    return f"{value:.2f}" if value >= 0.05 else f"{value:.2g}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--stores", nargs="+", default=sorted(STORES), choices=sorted(STORES))
    parser.add_argument("--sizes", nargs="+", type=int, default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--ops", type=int, default=2000, help="calls per round and operation")
    parser.add_argument(
        "--dir", type=Path, default=Path(tempfile.gettempdir()), help="where file stores live"
    )
    parser.add_argument(
        "--search-only", action="store_true", help="fill the stores and time search alone"
    )
    args = parser.parse_args(argv)

    print(f"# customer_core benchmarks, {time.strftime('%Y-%m-%d %H:%M')}")
    print(
        f"# {platform.python_implementation()} {platform.python_version()}, {platform.machine()}, "
        f"{os.cpu_count()} cores, SQLite {sqlite3.sqlite_version}; gc thresholds {gc.get_threshold()} "
        "(defaults, untouched)"
    )
    print(
        "# ops/s, median of 5 rounds. floor = pydantic model_validate + model_dump of the same record."
    )
    print(
        "# create = one per transaction (durable for sqlite: synchronous=FULL); batched = 100 per svc.batch()."
    )
    print(
        "# raw = plain sqlite3 INSERT of the same JSON, one per transaction, same pragmas; create/raw is"
    )
    print("#   the median per-round ratio of durable-create rounds each right after a raw round.")
    print(
        "# insert alone = store.insert of records the service made beforehand (no service work): the"
    )
    print("#   store's own share of a create, durable (vs raw) and batched (vs the floor).")
    print(
        "# list = one page of 100 via starting_after, to_dict() included; 'floor-ops' = list time x floor rate."
    )
    print(
        "# ratios to the floor are medians of per-round ratios, each op round right after a floor round."
    )
    search_rows: list[tuple[str, int, dict[str, float]]] = []
    header = (
        "| store | customers | floor | create | create/floor | batched (/floor) | raw sqlite3 | create/raw | "
        "insert alone/raw | insert alone batched/floor | retrieve | retrieve/floor | update | list 100 ms | list floor-ops | list vs 10k | memory |"
    )
    if not args.search_only:
        print(header)
        print("|" + "---|" * (header.count("|") - 1))
    for store_name in args.stores:
        store = STORES[store_name](args.dir)
        service = CustomerService(store, seed=1)
        stored = 0
        gc.collect()
        rss_before = rss_bytes()
        first_list_ms = None
        for size in sorted(args.sizes):
            fill(service, stored, size)
            if args.search_only:
                stored = store.count()
                search_rows.append((store_name, size, measure_search(service, size)))
                print(f"# {store_name} {size:,} searched: {search_rows[-1][2]}", flush=True)
                continue
            ids = [record["id"] for record in store.scan(limit=20_000)]
            gc.collect()
            per_customer = (rss_bytes() - rss_before) / size
            raw_insert = None
            if isinstance(store, SQLiteStore):
                raw_insert = raw_sqlite_insert(
                    args.dir, service.retrieve(ids[0]).to_dict(), store.synchronous
                )
            row = measure(service, ids, size, args.ops, raw_insert)
            stored = store.count()
            raw = "-"
            create_vs_raw = alone_vs_raw = "-"
            memory = f"{per_customer:,.0f} B/customer"
            if isinstance(store, SQLiteStore):
                raw, create_vs_raw = f"{row['raw']:,.0f}", ratio(row["create/raw"])
                alone_vs_raw = ratio(row["alone/raw"])
                seconds, rss = open_cost(Path(store.path), ids[-1])
                memory = f"open {seconds * 1000:.0f} ms, RSS {rss:.0f} MiB"
            search_rows.append((store_name, size, measure_search(service, size)))
            floor = row["floor"]
            list_ms = 1000 / row["list100"]
            first_list_ms = first_list_ms or list_ms
            print(
                f"| {store_name} | {size:,} | {floor:,.0f} | {row['create']:,.0f} | "
                f"{ratio(row['create/floor'])} | {row['create_batched']:,.0f} ({ratio(row['batched/floor'])}) | "
                f"{raw} | {create_vs_raw} | {alone_vs_raw} | {ratio(row['alone batched/floor'])} | {row['retrieve']:,.0f} | {ratio(row['retrieve/floor'])} | "
                f"{row['update']:,.0f} | {list_ms:.3f} | {1 / row['list/floor']:.0f} | "
                f"{list_ms / first_list_ms:.2f}x | {memory} |",
                flush=True,
            )
        store.close()
    kinds = list(search_queries(0))
    print("\n# search: ms per call (limit 10, to_dict() included), median of 5 rounds")
    print("| store | customers | " + " | ".join(kinds) + " |")
    print("|" + "---|" * (len(kinds) + 2))
    for store_name, size, timings in search_rows:
        print(
            f"| {store_name} | {size:,} | "
            + " | ".join(f"{timings[kind]:.3f}" for kind in kinds)
            + " |"
        )


if __name__ == "__main__":
    main()
