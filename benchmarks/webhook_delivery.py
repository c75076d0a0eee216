"""Webhook delivery throughput, and what delivering costs the API, on each store.

``python -m benchmarks.webhook_delivery [--events 2000] [--ops 1000] [--rounds 5] [--dir DIR]``

- Throughput: ``--events`` events are recorded with an endpoint registered and no worker
  running; then a worker (``svc.webhooks.start_delivery()``, default options) delivers them
  to a local receiver in another process, and the time until the outbox is empty (every
  delivery POSTed, answered 200 and settled) gives events per second. Goal: >= 500.
- API rate: rounds of ``--ops`` creates on a service with an endpoint, with the worker
  stopped and with it running (delivering what the rounds before left and what this one
  records), alternating; plus a service without endpoints for reference. The ratio is the
  median of the per-round rates running/stopped. Goal: >= 0.80 (a drop of at most 20%).

The receiver is a separate process (``--receiver``: ``customer_core.testing.receiver``'s
server answering 200), so its work does not share this process's interpreter lock.
"""

from __future__ import annotations

import argparse
import os
import platform
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from customer_core import CustomerService, MemoryStore, SQLiteStore, Store
from customer_core.testing.receiver import WebhookReceiver

from .run import params_for

StoreFactory = Callable[[Path, str], Store]

STORES: dict[str, StoreFactory] = {
    "memory": lambda directory, name: MemoryStore(),
    "sqlite FULL": lambda directory, name: SQLiteStore(directory / f"{name}-full.db"),
    "sqlite NORMAL": lambda directory, name: SQLiteStore(
        directory / f"{name}-normal.db", synchronous="NORMAL"
    ),
}


def serve_receiver() -> None:
    """The receiver process: print the URL, answer 200 until stdin closes."""
    with WebhookReceiver(keep_requests=False) as receiver:
        print(receiver.url, flush=True)
        sys.stdin.read()


def start_receiver() -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.webhook_delivery", "--receiver"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parent.parent,
    )
    assert process.stdout is not None
    return process, process.stdout.readline().strip()


def wait_empty(store: Store, timeout: float = 600.0) -> None:
    """Wait until no delivery is pending (all made and settled)."""
    deadline = time.monotonic() + timeout
    while store.outbox_next_due() is not None:
        if time.monotonic() > deadline:
            raise RuntimeError(f"deliveries still pending after {timeout:g} s")
        time.sleep(0.002)


def throughput(service: CustomerService, events: int) -> float:
    """Events delivered per second, from a backlog of ``events``."""
    for low in range(0, events, 500):
        with service.batch():
            for n in range(low, min(low + 500, events)):
                service.create(**params_for(n))
    began = time.perf_counter()
    worker = service.webhooks.start_delivery()
    wait_empty(service.store)
    elapsed = time.perf_counter() - began
    worker.stop()
    return events / elapsed


def api_rates(
    plain: CustomerService, hooked: CustomerService, ops: int, rounds: int, start: int
) -> dict[str, float]:
    """Create rates: without endpoints, with one and no worker, with the worker running."""
    rates: dict[str, list[float]] = {"plain": [], "stopped": [], "running": []}
    n = start
    for round_number in range(rounds):
        modes = ["plain", "stopped", "running"]
        if round_number % 2:
            modes.reverse()
        for mode in modes:
            service = plain if mode == "plain" else hooked
            worker = service.webhooks.start_delivery() if mode == "running" else None
            began = time.perf_counter()
            for _ in range(ops):
                service.create(**params_for(n))
                n += 1
            rates[mode].append(ops / (time.perf_counter() - began))
            if worker is not None:
                worker.stop()
    result = {mode: statistics.median(values) for mode, values in rates.items()}
    result["ratio"] = statistics.median(
        running / stopped
        for running, stopped in zip(rates["running"], rates["stopped"], strict=True)
    )
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=2000, help="backlog delivered (default 2000)")
    parser.add_argument("--ops", type=int, default=1000, help="creates per round (default 1000)")
    parser.add_argument("--rounds", type=int, default=5, help="rounds per mode (default 5)")
    parser.add_argument("--dir", type=Path, help="where SQLite files go (default: a temp dir)")
    parser.add_argument("--receiver", action="store_true", help=argparse.SUPPRESS)
    arguments = parser.parse_args(argv)
    if arguments.receiver:
        serve_receiver()
        return
    print(f"# customer_core webhook delivery, {time.strftime('%Y-%m-%d %H:%M')}")
    print(
        f"# CPython {platform.python_version()}, {platform.machine()}, {os.cpu_count()} CPUs, "
        f"SQLite {sqlite3.sqlite_version}; backlog {arguments.events} events; "
        f"{arguments.ops} creates per round, {arguments.rounds} rounds per mode, alternating"
    )
    print(
        "# delivered/s: a backlog POSTed to a local receiver process and settled (goal >= 500); "
        "creates/s with no endpoint, with an endpoint and the worker stopped, and running; "
        "ratio = median per-round running/stopped (goal >= 0.80)"
    )
    print("| store | delivered/s | creates/s no endpoint | stopped | running | ratio |")
    print("|---|---|---|---|---|---|")
    process, url = start_receiver()
    try:
        with tempfile.TemporaryDirectory(dir=arguments.dir) as scratch:
            for name, factory in STORES.items():
                directory = Path(scratch)
                with factory(directory, "hooked") as store, factory(directory, "plain") as other:
                    hooked = CustomerService(store)
                    hooked.webhook_endpoints.create(url=url, enabled_events=["*"])
                    plain = CustomerService(other)
                    delivered = throughput(hooked, arguments.events)
                    row = api_rates(
                        plain, hooked, arguments.ops, arguments.rounds, arguments.events
                    )
                print(
                    f"| {name} | {delivered:,.0f} | {row['plain']:,.0f} | {row['stopped']:,.0f} | "
                    f"{row['running']:,.0f} | {row['ratio']:.2f} |",
                    flush=True,
                )
    finally:
        assert process.stdin is not None
        process.stdin.close()
        process.wait(timeout=30)


if __name__ == "__main__":
    main()
