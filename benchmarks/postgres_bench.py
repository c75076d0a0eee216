"""PostgresStore beside the memory and SQLite stores, in one run: ``python -m
benchmarks.postgres_bench [--sizes 10000 100000] [--ops 300]``.

Starts a throwaway PostgreSQL cluster (durable defaults: fsync and synchronous_commit on),
fills each store with the same customers, and prints per store and size: create and
retrieve rates, a list page of 100 and an exact-email search; for PostgreSQL also a bare
psycopg fetch of the same JSON by primary key (the floor of retrieve), and the total create
throughput of 1, 2 and 4 client processes with a store (and pool) each.
"""

from __future__ import annotations

import argparse
import multiprocessing
import random
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg

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


def bare_fetch(dsn: str, ids: list[str], ops: int) -> float:
    """Rows per second of ``SELECT body ... WHERE id = %s`` and a JSON decode: the floor."""
    import pydantic_core

    pick = random.Random(7)
    with psycopg.connect(dsn, autocommit=True) as connection:
        query = "SELECT body FROM customers WHERE id = %s"

        def fetch(n: int) -> object:
            row = connection.execute(query, (pick.choice(ids),)).fetchone()
            assert row is not None
            return pydantic_core.from_json(row[0])

        return rate(fetch, ops)


def _client(dsn: str, schema: str, count: int, start: Any, seconds: Any) -> None:
    with PostgresStore(dsn, schema=schema, max_size=2) as store:
        service = CustomerService(store)
        start.wait()
        began = time.perf_counter()
        for n in range(count):
            service.create(**params_for(n))
        seconds.put(time.perf_counter() - began)


def client_throughput(dsn: str, schema: str, clients: int, count: int) -> float:
    """Total creates per second of ``clients`` processes doing ``count`` creates each."""
    context = multiprocessing.get_context("spawn")
    start = context.Event()
    seconds = context.Queue()
    workers = [
        context.Process(target=_client, args=(dsn, schema, count, start, seconds))
        for _ in range(clients)
    ]
    for worker in workers:
        worker.start()
    time.sleep(2.0)  # the children import and connect
    began = time.perf_counter()
    start.set()
    for worker in workers:
        worker.join(600)
    elapsed = time.perf_counter() - began
    return clients * count / elapsed


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", nargs="+", type=int, default=[10_000, 100_000])
    parser.add_argument("--ops", type=int, default=300, help="calls per round and operation")
    parser.add_argument("--clients-creates", type=int, default=300, help="creates per client")
    arguments = parser.parse_args(argv)
    rows = []
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
                if name == "postgres":
                    floor = bare_fetch(
                        dsn + f"?options=-csearch_path%3Dbench{size}",
                        [record["id"] for record in records],
                        arguments.ops,
                    )
                    figures["bare fetch/s"] = floor
                    figures["retrieve/floor"] = figures["retrieve/s"] / floor
                rows.append((name, size, figures))
                print(name, size, {key: round(value, 3) for key, value in figures.items()})
        throughput = {
            clients: client_throughput(dsn, f"clients{clients}", clients, arguments.clients_creates)
            for clients in (1, 2, 4)
            if PostgresStore(dsn, schema=f"clients{clients}").close() is None
        }
    columns = ["create/s", "retrieve/s", "list 100 ms", "email search ms"]
    print("\n| store | customers | " + " | ".join(columns) + " | retrieve / bare psycopg |")
    print("|---|---:|" + "---:|" * (len(columns) + 1))
    for name, size, figures in rows:
        cells = [f"{figures[column]:,.2f}" for column in columns]
        floor = f"{figures['retrieve/floor']:.2f}x" if "retrieve/floor" in figures else ""
        print(f"| {name} | {size:,} | " + " | ".join(cells) + f" | {floor} |")
    print("\n| client processes | creates/s in total | vs one |")
    print("|---:|---:|---:|")
    for clients, value in throughput.items():
        print(f"| {clients} | {value:,.0f} | {value / throughput[1]:.2f}x |")


if __name__ == "__main__":
    main()
