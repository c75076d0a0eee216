"""Measure service operations on each store at growing sizes, beside the pydantic floor.

``python -m benchmarks`` fills each store to 10k, 100k and 1M customers and, at each size,
times create, retrieve, update and a list page of 100 (``to_dict()`` included) through
``CustomerService``, and the floor: ``Customer.model_validate`` + ``model_dump(mode="json")``
of the same record, measured in the same run. The machine is shared and noisy, so each
figure is the median of several rounds and the ratios are what to compare.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import random
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from customer_core import Customer, CustomerService, MemoryStore, Store

RECORD_PARAMS: dict[str, Any] = {
    "name": "Jenny Rosen",
    "email": "jenny.rosen@example.com",
    "description": "A test customer",
    "phone": "+15555550123",
    "address": {"city": "Paris", "country": "FR", "line1": "1 rue de Rivoli", "postal_code": "75001"},
    "metadata": {"order_id": "6735", "plan": "gold"},
    "preferred_locales": ["fr", "en"],
}

ROUNDS = 5


def params_for(n: int) -> dict[str, Any]:
    """A realistic create body; the email varies so the email index has many keys."""
    return {**RECORD_PARAMS, "email": f"customer{n}@example.com", "metadata": {"order_id": str(n), "plan": "gold"}}


def rss_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def rate(operation: Callable[[int], object], count: int) -> float:
    """Median operations per second over ROUNDS rounds of ``count`` calls."""
    results = []
    for round_number in range(ROUNDS):
        start = time.perf_counter()
        for n in range(count):
            operation(round_number * count + n)
        results.append(count / (time.perf_counter() - start))
    return statistics.median(results)


@contextmanager
def no_batch() -> Iterator[None]:
    yield


def fill(service: CustomerService, start: int, stop: int, batch: int = 1000) -> None:
    """Create customers ``start..stop`` in batches (one transaction per batch)."""
    for low in range(start, stop, batch):
        with service.batch():
            for n in range(low, min(low + batch, stop)):
                service.create(**params_for(n))


def measure(name: str, service: CustomerService, ids: list[str], size: int, ops: int) -> dict[str, float]:
    rng = random.Random(size)
    body = service.retrieve(ids[0]).to_dict()
    sample = [rng.choice(ids) for _ in range(ops * ROUNDS)]
    cursors = [rng.choice(ids) for _ in range(ops * ROUNDS)]

    def floor(n: int) -> object:
        return Customer.model_validate(body).model_dump(mode="json")

    def create(n: int) -> object:
        return service.create(**params_for(size + 10_000_000 + n))

    def retrieve(n: int) -> object:
        return service.retrieve(sample[n])

    def update(n: int) -> object:
        return service.update(sample[n], metadata={"plan": "platinum" if n % 2 else "gold"})

    def list_page(n: int) -> object:
        return service.list(limit=100, starting_after=cursors[n]).to_dict()

    row = {"floor": rate(floor, ops)}
    row["create"] = rate(create, ops)
    row["retrieve"] = rate(retrieve, ops)
    row["update"] = rate(update, ops)
    row["list100"] = rate(list_page, max(ops // 20, 50))
    row["floor_after"] = rate(floor, ops)
    return row


STORES: dict[str, Callable[[Path], Store]] = {
    "memory": lambda directory: MemoryStore(),
}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.split("\n\n")[0])
    parser.add_argument("--stores", nargs="+", default=sorted(STORES), choices=sorted(STORES))
    parser.add_argument("--sizes", nargs="+", type=int, default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--ops", type=int, default=4000, help="calls per round and operation")
    parser.add_argument("--dir", type=Path, default=Path("/tmp"), help="where file stores live")
    args = parser.parse_args(argv)

    print(f"# customer_core benchmarks, {time.strftime('%Y-%m-%d %H:%M')}")
    print(f"# {platform.python_implementation()} {platform.python_version()}, {platform.machine()}, "
          f"{os.cpu_count()} cores; gc thresholds {gc.get_threshold()} (defaults, untouched)")
    print("# ops/s (median of 5 rounds); floor = pydantic model_validate + model_dump of the same record")
    header = (f"| store | customers | floor | create | create/floor | retrieve | update | "
              f"list 100 (ms) | list vs 10k | bytes/customer |")
    print(header)
    print("|" + "---|" * (header.count("|") - 1))
    for store_name in args.stores:
        store = STORES[store_name](args.dir)
        service = CustomerService(store, seed=1)
        ids: list[str] = []
        stored = 0
        gc.collect()
        rss_before = rss_bytes()
        first_list_ms = None
        for size in sorted(args.sizes):
            fill(service, stored, size)
            stored = size
            ids = [record["id"] for record in store.scan(limit=20_000)]
            gc.collect()
            per_customer = (rss_bytes() - rss_before) / size
            row = measure(store_name, service, ids, size, args.ops)
            stored += args.ops * ROUNDS  # the creates measured above
            floor = (row["floor"] + row["floor_after"]) / 2
            list_ms = 1000 / row["list100"]
            first_list_ms = first_list_ms or list_ms
            print(f"| {store_name} | {size:,} | {floor:,.0f} | {row['create']:,.0f} | "
                  f"{row['create'] / floor:.2f} | {row['retrieve']:,.0f} | {row['update']:,.0f} | "
                  f"{list_ms:.3f} | {list_ms / first_list_ms:.2f}x | {per_customer:,.0f} |", flush=True)
        store.close()


if __name__ == "__main__":
    main()
