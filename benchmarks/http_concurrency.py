"""HTTP under concurrency: ``python -m benchmarks.http_concurrency`` (needs the ``server`` extra).

Keep-alive clients (raw HTTP/1.1 on asyncio sockets, all in this process) against a
customer_core server in its own process, for each store (memory; SQLite file,
``synchronous=FULL``) and each way of dispatching requests to the store (see
``benchmarks.dispatch_server``):

- throughput: requests/s of retrieves, then of creates, with 1, 4 and 16 clients;
- mixed: 12 clients retrieving while 4 create and update, with the retrieves' median and
  p99 latency;
- held lock (SQLite): the slowest retrieve of 4 clients while another connection holds
  the database's write lock for a second and 32 clients' writes wait for it (more
  writes than the server has worker threads).

A last table compares the HTTP stacks under the same app: uvicorn with uvloop and
httptools (what ``customer-core serve`` runs), uvicorn with asyncio and h11, and granian
where it is installed.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import os
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlencode

from .dispatch_server import API_KEY, DISPATCHES, STACKS
from .http_bench import free_port, start

Request = Callable[[int], bytes]


def get(path: str) -> bytes:
    return (
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {API_KEY}\r\n\r\n"
    ).encode()


def post(path: str, params: dict[str, str]) -> bytes:
    body = urlencode(params).encode()
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {API_KEY}\r\n"
        f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def client(port: int, request: Request, stop: float, latencies: list[float]) -> None:
    """Send ``request(n)`` back to back on one connection until ``stop``."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    n = 0
    try:
        while time.perf_counter() < stop:
            started = time.perf_counter()
            writer.write(request(n))
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            body = await reader.readexactly(length)
            if head[9:12] != b"200":
                msg = f"HTTP {head[9:12].decode()}: {body[:200]!r}"
                raise RuntimeError(msg)
            latencies.append(time.perf_counter() - started)
            n += 1
    finally:
        writer.close()


async def load(port: int, groups: list[tuple[int, Request]], seconds: float) -> list[list[float]]:
    """Run each group's clients at once for ``seconds``; the latencies of each group."""
    stop = time.perf_counter() + seconds
    latencies: list[list[float]] = [[] for _ in groups]
    await asyncio.gather(
        *(
            client(port, request, stop, latencies[index])
            for index, (count, request) in enumerate(groups)
            for _ in range(count)
        )
    )
    return latencies


def run(port: int, groups: list[tuple[int, Request]], seconds: float) -> list[list[float]]:
    return asyncio.run(load(port, groups, seconds))


def customer_params(n: int) -> dict[str, str]:
    return {
        "name": "Jenny Rosen",
        "email": f"customer{n}@example.com",
        "metadata[order_id]": str(n),
    }


def fill(port: int, count: int) -> list[str]:
    """Create ``count`` customers; return their ids."""

    async def go() -> list[str]:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        ids = []
        for n in range(count):
            writer.write(post("/v1/customers", customer_params(n)))
            head = await reader.readuntil(b"\r\n\r\n")
            length = next(
                int(line[15:])
                for line in head.split(b"\r\n")
                if line[:15].lower() == b"content-length:"
            )
            body = await reader.readexactly(length)
            ids.append(json.loads(body)["id"])
        writer.close()
        return ids

    return asyncio.run(go())


def p(latencies: list[float], quantile: float) -> float:
    """The latency (ms) below which ``quantile`` of the requests fell."""
    ordered = sorted(latencies)
    return 1000 * ordered[min(len(ordered) - 1, int(quantile * len(ordered)))]


def hold_write_lock(path: str, seconds: float) -> threading.Thread:
    """Another connection takes the database's write lock for ``seconds``."""

    def hold() -> None:
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        time.sleep(seconds)
        other.execute("ROLLBACK")
        other.close()

    thread = threading.Thread(target=hold)
    thread.start()
    return thread


def requests_for(ids: list[str]) -> tuple[Request, Request]:
    """A retrieve of a stored customer, and a write (creates and updates in turn)."""
    counter = iter(range(10**9))

    def retrieve(n: int) -> bytes:
        return get(f"/v1/customers/{ids[n % len(ids)]}")

    def write(n: int) -> bytes:
        number = next(counter)
        if number % 2:
            return post(f"/v1/customers/{ids[number % len(ids)]}", {"metadata[n]": str(number)})
        return post("/v1/customers", customer_params(10**6 + number))

    return retrieve, write


HELD_LOCK_WRITERS = 32
"""Writers waiting for the held lock: more than all the worker threads of the server."""

CELLS = ["retrieve 1", "retrieve 4", "retrieve 16", "write 1", "write 4", "write 16", "mixed"]


def cell(
    name: str, port: int, requests: tuple[Request, Request], seconds: float, database: str | None
) -> list[float]:
    """One measurement: requests/s, or for ``mixed`` (retrieves/s, p50 ms, p99 ms,
    writes/s, slowest retrieve ms while the write lock is held)."""
    retrieve, write = requests
    if name != "mixed":
        kind, clients = name.split()
        (latencies,) = run(
            port, [(int(clients), retrieve if kind == "retrieve" else write)], seconds
        )
        return [len(latencies) / seconds]
    reads, writes = run(port, [(12, retrieve), (4, write)], seconds)
    figures = [len(reads) / seconds, p(reads, 0.5), p(reads, 0.99), len(writes) / seconds]
    if database is None:
        return [*figures, float("nan")]
    holder = hold_write_lock(database, 1.0)
    time.sleep(0.05)
    held, _ = run(port, [(4, retrieve), (HELD_LOCK_WRITERS, write)], 1.2)
    holder.join()
    return [*figures, 1000 * max(held)]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.http_concurrency", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--seconds", type=float, default=1.5, help="per cell and round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--customers", type=int, default=1000)
    parser.add_argument("--dispatch", nargs="+", default=list(DISPATCHES), choices=DISPATCHES)
    parser.add_argument(
        "--stacks", nargs="+", choices=STACKS, help="for the pools dispatch (default: all)"
    )
    parser.add_argument(
        "--stores", nargs="+", default=["memory", "sqlite"], choices=["memory", "sqlite"]
    )
    args = parser.parse_args(argv)
    if sys.platform != "win32":
        try:
            import uvloop
        except ImportError:
            pass
        else:
            uvloop.install()
    directory = Path(tempfile.mkdtemp())
    print(
        f"# HTTP under concurrency, {time.strftime('%Y-%m-%d %H:%M')}, Python "
        f"{sys.version.split()[0]}, {os.cpu_count()} cores, {args.customers:,} customers; "
        f"median of {args.rounds} rounds of {args.seconds:g} s per cell, the servers of a "
        "store measured in turn within each round; the clients run in one process"
    )
    stacks = args.stacks or [
        # granian is measured where it is installed (it is in no extra).
        s
        for s in STACKS
        if s != "granian" or importlib.util.find_spec("granian")
    ]
    configurations = [
        (dispatch, stack)
        for dispatch in args.dispatch
        for stack in (stacks if dispatch == "pools" else ["uvloop+httptools"])
    ]
    results: dict[tuple[str, str, str], dict[str, list[float]]] = {}
    requests_of: dict[tuple[str, str, str], tuple[Request, Request]] = {}
    for store in args.stores:
        servers = []
        try:
            for dispatch, stack in configurations:
                port = free_port()
                database = None if store == "memory" else str(directory / f"{port}.db")
                command = [
                    sys.executable,
                    "-m",
                    "benchmarks.dispatch_server",
                    str(port),
                    database or "memory",
                    dispatch,
                    stack,
                ]
                process = start(command, port)
                servers.append((dispatch, stack, port, database, process))
                requests = requests_for(fill(port, args.customers))
                requests_of[store, dispatch, stack] = requests
                results[store, dispatch, stack] = {}
            for name in CELLS:
                rounds: dict[tuple[str, str], list[list[float]]] = {}
                for _ in range(args.rounds):
                    for dispatch, stack, port, database, _process in servers:
                        requests = requests_of[store, dispatch, stack]
                        rounds.setdefault((dispatch, stack), []).append(
                            cell(name, port, requests, args.seconds, database)
                        )
                for key, measured in rounds.items():
                    results[(store, *key)][name] = [
                        statistics.median(column) for column in zip(*measured, strict=True)
                    ]
                print(f"# done: {store} {name}", file=sys.stderr, flush=True)
        finally:
            for *_, process in servers:
                process.terminate()
                process.wait(10)
    print_tables(results)


def print_tables(results: dict[tuple[str, str, str], dict[str, list[float]]]) -> None:
    main_stack = "uvloop+httptools"
    print("\n## Throughput (requests/s; writes are creates and updates in turn)\n")
    print("| store | dispatch | " + " | ".join(CELLS[:-1]) + " |")
    print("|---|---|" + "---|" * (len(CELLS) - 1))
    for (store, dispatch, stack), row in results.items():
        if stack == main_stack:
            cells = " | ".join(f"{row[name][0]:,.0f}" for name in CELLS[:-1])
            print(f"| {store} | {dispatch} | {cells} |")
    print("\n## Mixed: 12 clients retrieve while 4 write\n")
    print(
        "| store | dispatch | retrieves/s | retrieve p50 ms | retrieve p99 ms | writes/s "
        "| slowest retrieve ms, write lock held 1 s, 32 writers waiting |"
    )
    print("|---|---|---|---|---|---|---|")
    for (store, dispatch, stack), row in results.items():
        if stack == main_stack:
            reads, p50, p99, writes, held = row["mixed"]
            held_cell = "-" if held != held else f"{held:,.0f}"
            print(
                f"| {store} | {dispatch} | {reads:,.0f} | {p50:.1f} | {p99:.1f} | {writes:,.0f} "
                f"| {held_cell} |"
            )
    print("\n## HTTP stacks (dispatch: pools)\n")
    print("| store | stack | " + " | ".join(CELLS[:-1]) + " | mixed retrieve p99 ms |")
    print("|---|---|" + "---|" * len(CELLS))
    for (store, dispatch, stack), row in results.items():
        if dispatch == "pools":
            cells = " | ".join(f"{row[name][0]:,.0f}" for name in CELLS[:-1])
            print(f"| {store} | {stack} | {cells} | {row['mixed'][2]:.1f} |")


if __name__ == "__main__":
    main()
