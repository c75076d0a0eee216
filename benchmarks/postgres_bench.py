"""PostgresStore beside the memory and SQLite stores, in one run: ``python -m
benchmarks.postgres_bench [--sizes 10000 100000] [--ops 300] [--rounds 5]``.

Starts a throwaway PostgreSQL cluster (durable defaults: fsync and synchronous_commit on),
fills each store with the same customers, and prints per store and size: create and
retrieve rates, a list page of 100 and an exact-email search. For PostgreSQL also:

- retrieve against a bare psycopg fetch of the same JSON by primary key (the floor), the
  two taking turns call by call so that both see the same load on a shared machine; the
  ratio is the median of the rounds' ratios;
- metadata search by postings (the store's ``customer_metadata`` table) against a GIN
  index on a jsonb copy of the metadata, both built over the same customers;
- the total create throughput of 1, 2 and 4 client processes with a store (and pool)
  each, in alternating rounds (1, 2, 4, 1, 2, 4, ...); each ratio is taken within a round.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import platform
import random
import statistics
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import pydantic_core

from customer_core import CustomerService, MemoryStore, SQLiteStore, Store
from customer_core.store.postgres import PostgresStore
from customer_core.testing.postgres_server import PostgresServer

from .run import params_for, prepared_records, rate


def milliseconds(operation: Callable[[int], object], count: int) -> float:
    return 1000 / rate(operation, count)


def measure(store: Store, records: list[dict[str, Any]], ops: int) -> dict[str, float]:
    for low in range(0, len(records), 1000):
        store.insert_many(records[low : low + 1000])
    service = CustomerService(store, seed=1)
    ids = [record["id"] for record in records]
    emails = [record["email"] for record in records]
    pick = random.Random(7)
    return {
        "retrieve/s": rate(lambda n: service.retrieve(pick.choice(ids)), ops),
        "create/s": rate(lambda n: service.create(**params_for(50_000_000 + n)), ops),
        "list 100 ms": milliseconds(lambda n: service.list(limit=100), max(ops // 10, 5)),
        "email search ms": milliseconds(
            lambda n: service.search(f'email:"{pick.choice(emails)}"'), ops
        ),
    }


def interleaved(
    operations: dict[str, Callable[[int], object]], count: int, rounds: int
) -> dict[str, list[float]]:
    """Rates of each operation per round, the operations taking turns call by call (n-th
    call of each, then the n+1-th of each, ...), so that all meet the same moments of a
    shared machine's load; each call is timed on its own."""
    results: dict[str, list[float]] = {name: [] for name in operations}
    for _ in range(rounds):
        spent = dict.fromkeys(operations, 0.0)
        for n in range(count):
            for name, operation in operations.items():
                began = time.perf_counter()
                operation(n)
                spent[name] += time.perf_counter() - began
        for name, seconds in spent.items():
            results[name].append(count / seconds)
    return results


def retrieve_against_floor(
    store: PostgresStore, dsn: str, ids: list[str], ops: int, rounds: int
) -> dict[str, float]:
    """Retrieve through CustomerService (and the store's ``get`` alone) against a bare
    psycopg fetch of the same row (the store's statement, prepared as the store's are, and
    a JSON decode), the same ids in the same order, taking turns call by call."""
    service = CustomerService(store)
    order = random.Random(7)
    picks = [order.choice(ids) for _ in range(ops)]
    query = "SELECT body FROM customers WHERE id = %s AND NOT deleted"
    with psycopg.connect(dsn, autocommit=True) as connection:

        def fetch(n: int) -> object:
            row = connection.execute(query, (picks[n],)).fetchone()
            assert row is not None
            return pydantic_core.from_json(row[0])

        results = interleaved(
            {
                "store": lambda n: service.retrieve(picks[n]),
                "get": lambda n: store.get(picks[n]),
                "floor": fetch,
            },
            ops,
            rounds + 1,
        )
    # The first round of each warms caches and prepares statements: left out.
    store_rates, floor_rates = results["store"][1:], results["floor"][1:]
    ratios = [s / f for s, f in zip(store_rates, floor_rates, strict=True)]
    get_ratios = [g / f for g, f in zip(results["get"][1:], floor_rates, strict=True)]
    return {
        "retrieve/s": statistics.median(store_rates),
        "get/floor": statistics.median(get_ratios),
        "bare fetch/s": statistics.median(floor_rates),
        "bare fetch/s min": min(floor_rates),
        "bare fetch/s max": max(floor_rates),
        "retrieve/floor min": min(ratios),
        "retrieve/floor max": max(ratios),
        "retrieve/floor": statistics.median(ratios),
    }


# --- metadata search: postings against a GIN index on jsonb ------------------------------

_COHORT = "(abs(hashtext(id)) % 100)::text"
"""A metadata value one customer in 100 has (key ``cohort``), added to both variants."""
_COHORT_POSTINGS = f"""INSERT INTO customer_metadata (key, value, created, customer_id)
    SELECT 'cohort', {_COHORT}, created, id FROM customers WHERE NOT deleted"""
_GIN_TABLE = f"""CREATE TABLE gin_customers AS
    SELECT id, created,
        ((body::jsonb) -> 'metadata') || jsonb_build_object('cohort', {_COHORT}) AS metadata
    FROM customers WHERE NOT deleted"""
_GIN_INDEX = (
    "CREATE INDEX gin_customers_metadata ON gin_customers USING gin (metadata jsonb_path_ops)"
)
_GIN_ORDER = "CREATE INDEX gin_customers_order ON gin_customers (created, id)"
_POSTINGS_QUERY = (
    "SELECT created, customer_id FROM customer_metadata WHERE key = %s AND value = %s "
    "ORDER BY created DESC, customer_id DESC LIMIT %s"
)
_GIN_QUERY = (
    "SELECT created, id FROM gin_customers WHERE metadata @> %s::jsonb "
    "ORDER BY created DESC, id DESC LIMIT %s"
)


def metadata_search(
    dsn: str, records: list[dict[str, Any]], ops: int, rounds: int
) -> list[tuple[str, float, float]]:
    """Milliseconds per metadata query by postings and by GIN (``@>``), for a value one
    customer has, a value every customer has (newest 100 of them) and a value nobody has;
    then each variant's index size (MiB) and the cost of adding one customer's metadata
    (ms, one transaction of 1,000 rows); as (figure, postings, gin) rows. A key one
    customer in 100 shares a value of is added to both for the time of the measure."""
    pick = random.Random(11)
    owned = [record["metadata"] for record in records]
    with psycopg.connect(dsn, autocommit=True) as connection:
        connection.execute("DROP TABLE IF EXISTS gin_customers")
        connection.execute(_COHORT_POSTINGS)
        began = time.perf_counter()
        connection.execute(_GIN_TABLE)
        connection.execute(_GIN_INDEX)
        connection.execute(_GIN_ORDER)
        gin_build = time.perf_counter() - began
        connection.execute("VACUUM ANALYZE gin_customers")
        connection.execute("VACUUM ANALYZE customer_metadata")

        def postings(key: str, value: str, limit: int) -> Callable[[int], object]:
            return lambda n: connection.execute(_POSTINGS_QUERY, (key, value, limit)).fetchall()

        def gin(key: str, value: str, limit: int) -> Callable[[int], object]:
            document = pydantic_core.to_json({key: value}).decode()
            return lambda n: connection.execute(_GIN_QUERY, (document, limit)).fetchall()

        unique = owned[pick.randrange(len(owned))]
        cases = {
            "one customer has the value, limit 10": ("order_id", unique["order_id"], 10),
            "one customer in 100 has it, limit 10": ("cohort", "42", 10),
            "every customer has it, newest 100": ("plan", "gold", 100),
            "nobody has it, limit 10": ("plan", "platinum", 10),
        }
        rows: list[tuple[str, float, float]] = []
        for label, (key, value, limit) in cases.items():
            results = interleaved(
                {"postings": postings(key, value, limit), "gin": gin(key, value, limit)},
                max(ops // 10, 5),
                rounds,
            )
            rows.append(
                (
                    f"query ms: {label}",
                    1000 / statistics.median(results["postings"]),
                    1000 / statistics.median(results["gin"]),
                )
            )
        size = "SELECT pg_total_relation_size(%s) / 1048576.0"
        postings_size = connection.execute(size, ("customer_metadata",)).fetchone()
        gin_size = connection.execute(size, ("gin_customers_metadata",)).fetchone()
        assert postings_size is not None and gin_size is not None
        rows.append(
            (
                "MiB on disk (posting table with its key; GIN index)",
                float(postings_size[0]),
                float(gin_size[0]),
            )
        )
        # Writes: 1,000 new customers' metadata (two keys each) in one transaction.
        added = [(f"cus_bench{n:06d}", 2_000_000_000 + n, str(n)) for n in range(1000)]
        with connection.transaction():
            began = time.perf_counter()
            with connection.cursor() as cursor:
                cursor.executemany(
                    "INSERT INTO customer_metadata (key, value, created, customer_id) "
                    "VALUES ('order_id', %s, %s, %s), ('plan', 'gold', %s, %s)",
                    [(order, created, id_, created, id_) for id_, created, order in added],
                )
            postings_write = time.perf_counter() - began
            began = time.perf_counter()
            with connection.cursor() as cursor:
                cursor.executemany(
                    "INSERT INTO gin_customers (id, created, metadata) VALUES (%s, %s, %s::jsonb)",
                    [
                        (id_, created, f'{{"order_id":"{order}","plan":"gold"}}')
                        for id_, created, order in added
                    ],
                )
            gin_write = time.perf_counter() - began
            raise psycopg.Rollback()  # the next sizes' runs start from the same rows
        # Seconds for 1,000 customers are milliseconds per customer.
        rows.append(("write ms per customer (1,000 in one transaction)", postings_write, gin_write))
        connection.execute("DROP TABLE gin_customers")
        connection.execute("DELETE FROM customer_metadata WHERE key = 'cohort'")
    print(f"# GIN variant at {len(records):,} customers built in {gin_build:.1f} s")
    return rows


# --- throughput of several client processes ----------------------------------------------


def _client(dsn: str, schema: str, count: int, base: int, ready: Any, start: Any, out: Any) -> None:
    with PostgresStore(dsn, schema=schema, max_size=2) as store:
        service = CustomerService(store)
        service.create(**params_for(base))  # connect, prepare, first-write purges
        ready.put(os.getpid())
        start.wait()
        began, cpu = time.perf_counter(), time.process_time()
        for n in range(1, count + 1):
            service.create(**params_for(base + n))
        out.put((time.perf_counter() - began, time.process_time() - cpu))


_CLIENT_NAME = "customer_core_bench_client"
_STATES = {
    "idle": "client between transactions",
    "idle in transaction": "client inside a transaction",
}
_WAITS = """SELECT coalesce(wait_event_type || ':' || wait_event, 'running'), state
    FROM pg_stat_activity WHERE application_name = %s"""


def _sample_waits(dsn: str, stop: threading.Event, waits: Counter[str]) -> None:
    """Count what the client processes' server sessions are doing, every 5 ms until
    ``stop``: waiting for their client (between or inside transactions), for the WAL
    flush of a commit (``IO:WALSync``, ``LWLock:WALWrite``), for a lock another writer
    holds (``Lock:...``), or running."""
    with psycopg.connect(dsn, autocommit=True) as connection:
        while not stop.is_set():
            for event, state in connection.execute(_WAITS, (_CLIENT_NAME,)):
                waits[_STATES.get(state) or str(event)] += 1
            time.sleep(0.005)


def client_throughput(
    dsn: str, schema: str, clients: int, count: int, base: int, waits: Counter[str]
) -> tuple[float, float]:
    """Total creates per second of ``clients`` processes doing ``count`` creates each,
    timed from a common start (every process connected and warmed up) to the last
    process's end; and the client processes' CPU milliseconds per create. What their
    server sessions wait for is counted into ``waits``."""
    context = multiprocessing.get_context("spawn")
    client_dsn = f"{dsn}?application_name={_CLIENT_NAME}"
    ready, start, out = context.Queue(), context.Event(), context.Queue()
    workers = [
        context.Process(
            target=_client,
            args=(client_dsn, schema, count, base + number * 1_000_000, ready, start, out),
        )
        for number in range(clients)
    ]
    for worker in workers:
        worker.start()
    for _ in workers:
        ready.get(timeout=300)
    stop = threading.Event()
    sampler = threading.Thread(target=_sample_waits, args=(dsn, stop, waits))
    sampler.start()
    began = time.perf_counter()
    start.set()
    cpu = sum(out.get(timeout=600)[1] for _ in workers)
    elapsed = time.perf_counter() - began
    stop.set()
    sampler.join(60)
    for worker in workers:
        worker.join(60)
    return clients * count / elapsed, 1000 * cpu / (clients * count)


Throughput = dict[int, list[tuple[float, float]]]


def throughput_rounds(
    dsn: str, count: int, rounds: int
) -> tuple[Throughput, dict[int, Counter[str]]]:
    """Creates per second of 1, 2 and 4 client processes, and client CPU ms per create,
    in alternating rounds (1, 2, 4, then 4, 2, 1, ...: a trend in the machine's load
    favours no count); and what their server sessions waited for, by count."""
    PostgresStore(dsn, schema="clients").close()
    results: Throughput = {1: [], 2: [], 4: []}
    waits: dict[int, Counter[str]] = {clients: Counter() for clients in results}
    for round_number in range(rounds):
        order = list(results) if round_number % 2 == 0 else list(reversed(results))
        for clients in order:
            base = (round_number * 10 + clients) * 10_000_000
            results[clients].append(
                client_throughput(dsn, "clients", clients, count, base, waits[clients])
            )
    return results, waits


def _rate(per_second: float) -> str:
    """A rate with three significant digits at least: a tiny run under load shows 2.4, not 0."""
    return f"{per_second:,.0f}" if per_second >= 100 else f"{per_second:.3g}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", nargs="+", type=int, default=[10_000, 100_000])
    parser.add_argument("--ops", type=int, default=300, help="calls per round and operation")
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds")
    parser.add_argument("--clients-creates", type=int, default=300, help="creates per client")
    arguments = parser.parse_args(argv)
    print(
        f"# {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}, Python {platform.python_version()}"
    )
    rows = []
    metadata_rows: dict[int, list[tuple[str, float, float]]] = {}
    with PostgresServer() as server, tempfile.TemporaryDirectory() as directory:
        dsn = server.dsn()
        for size in arguments.sizes:
            records = prepared_records(size)
            stores: dict[str, Store] = {
                "memory": MemoryStore(),
                "sqlite": SQLiteStore(Path(directory) / f"bench{size}.db"),
                "postgres": PostgresStore(dsn, schema=f"bench{size}"),
            }
            for name, store in stores.items():
                with store:
                    figures = measure(store, [dict(record) for record in records], arguments.ops)
                    if isinstance(store, PostgresStore):
                        schema_dsn = dsn + f"?options=-csearch_path%3Dbench{size}"
                        figures.update(
                            retrieve_against_floor(
                                store,
                                schema_dsn,
                                [record["id"] for record in records],
                                arguments.ops,
                                arguments.rounds,
                            )
                        )
                        metadata_rows[size] = metadata_search(
                            schema_dsn, records, arguments.ops, arguments.rounds
                        )
                rows.append((name, size, figures))
                print(name, size, {key: round(value, 3) for key, value in figures.items()})
        throughput, waits = throughput_rounds(dsn, arguments.clients_creates, arguments.rounds)
    columns = ["create/s", "retrieve/s", "list 100 ms", "email search ms"]
    print("\n| store | customers | " + " | ".join(columns) + " | retrieve / bare psycopg |")
    print("|---|---:|" + "---:|" * (len(columns) + 1))
    for name, size, figures in rows:
        cells = [f"{figures[column]:,.2f}" for column in columns]
        floor = f"{figures['retrieve/floor']:.2f}x" if "retrieve/floor" in figures else ""
        print(f"| {name} | {size:,} | " + " | ".join(cells) + f" | {floor} |")
    print(
        "\n| customers | bare psycopg fetch/s (rounds' range) | store retrieve/s "
        "| retrieve / bare: median of rounds (range) | store.get / bare |"
    )
    print("|---:|---:|---:|---:|---:|")
    for _, size, figures in rows:
        if "retrieve/floor" in figures:
            print(
                f"| {size:,} | {figures['bare fetch/s']:,.0f} ({figures['bare fetch/s min']:,.0f}"
                f"–{figures['bare fetch/s max']:,.0f}) | {figures['retrieve/s']:,.0f} "
                f"| {figures['retrieve/floor']:.2f}x ({figures['retrieve/floor min']:.2f}"
                f"–{figures['retrieve/floor max']:.2f}) | {figures['get/floor']:.2f}x |"
            )
    for size, table in metadata_rows.items():
        print(f"\n| metadata search, {size:,} customers | postings | GIN jsonb_path_ops |")
        print("|---|---:|---:|")
        for label, by_postings, by_gin in table:
            print(f"| {label} | {by_postings:,.3f} | {by_gin:,.3f} |")
    print(
        "\n| client processes | creates/s in total | vs one | vs one, each round "
        "| client CPU ms per create |"
    )
    print("|---:|---:|---:|---|---:|")
    for clients, results in throughput.items():
        values = [value for value, _ in results]
        ratios = [value / one for value, (one, _) in zip(values, throughput[1], strict=True)]
        cpu = statistics.median(milliseconds for _, milliseconds in results)
        print(
            f"| {clients} | {_rate(statistics.median(values))} | {statistics.median(ratios):.2f}x "
            f"| {', '.join(f'{ratio:.2f}' for ratio in ratios)} | {cpu:.2f} |"
        )

    events = sorted({event for counter in waits.values() for event in counter})
    print("\n| client processes | " + " | ".join(events) + " |")
    print("|---:|" + "---:|" * len(events))
    for clients, counter in waits.items():
        total = sum(counter.values()) or 1
        cells = [f"{100 * counter[event] / total:.0f}%" for event in events]
        print(f"| {clients} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
