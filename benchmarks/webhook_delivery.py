"""Webhook delivery throughput, and what delivering costs the API, on each store.

``python -m benchmarks.webhook_delivery [--events 2000] [--ops 1000] [--rounds 5]
[--backlog 4000] [--postgres] [--dir DIR]``

Deliveries are made as ``customer-core serve`` makes them: for SQLite (and PostgreSQL) by
a delivery process of its own (``customer-core deliver``, at its default lower CPU
priority), for the memory store by the worker threads of the API's process
(``svc.webhooks.start_delivery()``), since a memory store cannot be shared.

- The receiver: a lean socket receiver in another process, at nice 19 by default: it
  stands in for another machine, whose CPU a real API never competes with
  (``--receiver-kind http.server --receiver-nice 0``: the test suite's receiver at the
  API's priority, the setting before 2026-12-02 21:00).
- Throughput: ``--events`` events are recorded with an endpoint registered and no worker
  running; then the worker delivers them to a local receiver in another process, and the
  time until the outbox is empty (every delivery POSTed, answered 200 and settled) gives
  events per second. Goal: >= 500.
- API rate: rounds of ``--ops`` creates on a service with an endpoint, with the worker
  stopped and with it running, alternating (stopped, running; running, stopped; ...). A
  running round first tops the outbox up by ``--backlog`` deliveries (untimed) and waits
  until the worker has delivered one, so the worker is saturated the whole round (checked:
  deliveries are still due when it ends). ``ratio``: the median of per-round rates
  running/stopped; ``cpu``: the API process's CPU time per create, running/stopped.
  Goal: ratio >= 0.80 (a drop of at most 20%).
"""

from __future__ import annotations

import argparse
import os
import platform
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from customer_core import CustomerService, MemoryStore, SQLiteStore, Store
from customer_core.events.delivery import DeliveryWorker
from customer_core.testing.receiver import WebhookReceiver

from .run import params_for

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Target:
    """A store to measure: how to open it, and where a delivery process finds it (None:
    the memory store, delivered by threads of this process)."""

    name: str
    open: Callable[[], Store]
    location: str | None = None
    synchronous: str = "FULL"


RECEIVER_NICE = 19
"""The receiver's CPU priority (nice): a real receiver is another machine, whose CPU the
API never competes with; at nice 19 the stand-in takes only what the API leaves."""


def serve_receiver(nice: int, kind: str) -> None:
    """The receiver process: print the URL, answer 200 until stdin closes. ``kind``:
    ``socket``, a lean one (reads each request to its length, answers ``200`` with no
    body: about what any receiver costs), or ``http.server``, the test receiver
    (``customer_core.testing.receiver``: the standard library's server, which parses
    every header with the email package)."""
    if nice > 0:
        os.nice(nice)
    if kind == "http.server":
        with WebhookReceiver(keep_requests=False) as receiver:
            print(receiver.url, flush=True)
            sys.stdin.read()
        return
    listener = socket.create_server(("127.0.0.1", 0))
    threading.Thread(target=_accept, args=(listener,), daemon=True).start()
    print(f"http://127.0.0.1:{listener.getsockname()[1]}/webhooks", flush=True)
    sys.stdin.read()


def _accept(listener: socket.socket) -> None:
    while True:
        connection, _ = listener.accept()
        threading.Thread(target=_answer, args=(connection,), daemon=True).start()


_OK = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"


def _answer(connection: socket.socket) -> None:
    """Answer each request of a kept-alive connection with 200, once its body is read."""
    pending = b""
    with connection:
        while True:
            while (end := pending.find(b"\r\n\r\n")) < 0:
                chunk = connection.recv(65536)
                if not chunk:
                    return
                pending += chunk
            head = pending[:end].lower()
            length = int(head.split(b"content-length:", 1)[1].split(b"\r\n", 1)[0])
            pending = pending[end + 4 :]
            while len(pending) < length:
                chunk = connection.recv(65536)
                if not chunk:
                    return
                pending += chunk
            pending = pending[length:]
            connection.sendall(_OK)


def start_receiver(
    nice: int = RECEIVER_NICE, kind: str = "socket"
) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.webhook_delivery", "--receiver"]
        + ["--receiver-nice", str(nice), "--receiver-kind", kind],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    assert process.stdout is not None
    return process, process.stdout.readline().strip()


class Deliverer:
    """The delivery worker of a target, started and stopped as ``serve`` would."""

    def __init__(self, target: Target, service: CustomerService) -> None:
        self._target = target
        self._service = service
        self._worker: DeliveryWorker | None = None
        self._process: subprocess.Popen[bytes] | None = None

    arguments: tuple[str, ...] = ()
    """More ``customer-core deliver`` options (``--deliver-option``)."""

    def start(self) -> None:
        """Start delivering; return once the worker is ready to take deliveries."""
        target = self._target
        if target.location is None:
            self._worker = self._service.webhooks.start_delivery()
            return
        self._process = subprocess.Popen(
            [sys.executable, "-m", "customer_core", "deliver", "--db", target.location]
            + ["--synchronous", target.synchronous, *self.arguments],
            stderr=subprocess.PIPE,
            cwd=ROOT,
        )
        assert self._process.stderr is not None
        ready = self._process.stderr.readline()
        if b"delivering webhooks" not in ready:
            raise RuntimeError(f"the delivery process did not start: {ready!r}")

    def stop(self) -> None:
        if self._worker is not None:
            self._worker.stop()
            self._worker = None
        if self._process is not None:
            self._process.send_signal(signal.SIGTERM)
            self._process.wait(timeout=60)
            assert self._process.stderr is not None
            self._process.stderr.close()
            self._process = None


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 600.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError(f"waited {timeout:g} s for {what}")
        time.sleep(0.005)


def record(service: CustomerService, first: int, count: int) -> None:
    """Create ``count`` customers (so as many events and deliveries), untimed."""
    for low in range(first, first + count, 500):
        with service.batch():
            for n in range(low, min(low + 500, first + count)):
                service.create(**params_for(n))


def throughput(target: Target, service: CustomerService, events: int) -> float:
    """Events delivered per second, from a backlog of ``events``."""
    record(service, 0, events)
    deliverer = Deliverer(target, service)
    deliverer.start()
    began = time.perf_counter()
    wait_for(lambda: service.store.outbox_next_due() is None, "the backlog to be delivered")
    elapsed = time.perf_counter() - began
    deliverer.stop()
    return events / elapsed


def delivering_since(store: Store, moment: float) -> bool:
    """Whether an attempt was recorded at or after ``moment`` (Unix seconds)."""
    newest = store.delivery_attempt_scan(limit=1)
    return bool(newest) and newest[0]["created"] >= int(moment)


def api_rates(
    target: Target, service: CustomerService, ops: int, rounds: int, backlog: int, start: int
) -> dict[str, float]:
    """Create rates with the worker stopped and running (saturated), alternating."""
    rates: dict[str, list[float]] = {"stopped": [], "running": []}
    cpu: dict[str, list[float]] = {"stopped": [], "running": []}
    n = start
    unsaturated = 0
    for round_number in range(rounds):
        modes = ["stopped", "running"]
        if round_number % 2:
            modes.reverse()
        for mode in modes:
            deliverer = Deliverer(target, service)
            if mode == "running":
                record(service, n, backlog)
                n += backlog
                began_at = time.time()
                deliverer.start()
                wait_for(
                    lambda moment=began_at: delivering_since(service.store, moment),
                    "a first delivery",
                )
            cpu_began = time.process_time()
            began = time.perf_counter()
            for _ in range(ops):
                service.create(**params_for(n))
                n += 1
            elapsed = time.perf_counter() - began
            cpu_ended = time.process_time()
            if mode == "running":
                due = service.store.outbox_next_due()
                unsaturated += due is None or due > time.time()
                deliverer.stop()
            rates[mode].append(ops / elapsed)
            cpu[mode].append((cpu_ended - cpu_began) / ops)
    result = {mode: statistics.median(values) for mode, values in rates.items()}
    result["ratio"] = statistics.median(
        running / stopped
        for running, stopped in zip(rates["running"], rates["stopped"], strict=True)
    )
    result["cpu"] = statistics.median(cpu["running"]) / statistics.median(cpu["stopped"])
    result["min"] = min(
        running / stopped
        for running, stopped in zip(rates["running"], rates["stopped"], strict=True)
    )
    result["unsaturated"] = unsaturated
    return result


@contextmanager
def targets(directory: Path, postgres: bool) -> Iterator[list[Target]]:
    found = [
        Target("memory", MemoryStore),
        Target(
            "sqlite FULL",
            lambda: SQLiteStore(directory / "full.db"),
            str(directory / "full.db"),
        ),
        Target(
            "sqlite NORMAL",
            lambda: SQLiteStore(directory / "normal.db", synchronous="NORMAL"),
            str(directory / "normal.db"),
            "NORMAL",
        ),
    ]
    if not postgres:
        yield found
        return
    import psycopg

    from customer_core.store.postgres import PostgresStore
    from customer_core.testing.postgres_server import PostgresServer

    with PostgresServer() as server:
        with psycopg.connect(server.dsn(), autocommit=True) as connection:
            connection.execute("CREATE DATABASE webhooks")
        dsn = server.dsn("webhooks")
        yield [*found, Target("postgres", lambda: PostgresStore(dsn), dsn)]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=2000, help="backlog delivered (default 2000)")
    parser.add_argument("--ops", type=int, default=1000, help="creates per round (default 1000)")
    parser.add_argument("--rounds", type=int, default=5, help="rounds per mode (default 5)")
    parser.add_argument(
        "--backlog",
        type=int,
        default=4000,
        help="deliveries added before each running round, so the worker stays busy (default 4000)",
    )
    parser.add_argument("--postgres", action="store_true", help="also a throwaway PostgreSQL")
    parser.add_argument(
        "--only", action="append", metavar="STORE", help="measure only this store (repeatable)"
    )
    parser.add_argument("--dir", type=Path, help="where SQLite files go (default: a temp dir)")
    parser.add_argument(
        "--receiver-nice",
        type=int,
        default=RECEIVER_NICE,
        metavar="N",
        help=f"run the receiver process N nice levels lower (default {RECEIVER_NICE}: it "
        "stands in for another machine; 0: competes with the API as an equal)",
    )
    parser.add_argument(
        "--receiver-kind",
        choices=["socket", "http.server"],
        default="socket",
        help="socket: a lean receiver (default); http.server: the test suite's receiver",
    )
    parser.add_argument(
        "--deliver-option",
        action="append",
        default=[],
        metavar="OPTION",
        help="pass an option to customer-core deliver, as --deliver-option=--nice=19",
    )
    parser.add_argument("--receiver", action="store_true", help=argparse.SUPPRESS)
    arguments = parser.parse_args(argv)
    if arguments.receiver:
        serve_receiver(arguments.receiver_nice, arguments.receiver_kind)
        return
    Deliverer.arguments = tuple(arguments.deliver_option)
    print(f"# customer_core webhook delivery, {time.strftime('%Y-%m-%d %H:%M')}, load {load()}")
    print(
        f"# CPython {platform.python_version()}, {platform.machine()}, {os.cpu_count()} CPUs, "
        f"SQLite {sqlite3.sqlite_version}; backlog {arguments.events} events; "
        f"{arguments.ops} creates per round, {arguments.rounds} rounds per mode, alternating; "
        f"receiver {arguments.receiver_kind} at nice +{arguments.receiver_nice}; deliver options "
        f"{' '.join(arguments.deliver_option) or '(defaults)'}"
    )
    print(
        "# delivered/s: a backlog POSTed to a local receiver process and settled (goal >= 500); "
        "creates/s with the worker stopped and running (saturated); ratio = median per-round "
        "running/stopped (goal >= 0.80), min = the worst round; cpu = CPU of the API's "
        "process per create running/stopped (with threads, the worker's CPU is in it); worker: a process of its own or threads of the API's"
    )
    print("| store | worker | delivered/s | stopped | running | ratio | min | cpu |")
    print("|---|---|---|---|---|---|---|---|")
    process, url = start_receiver(arguments.receiver_nice, arguments.receiver_kind)
    try:
        with (
            tempfile.TemporaryDirectory(dir=arguments.dir) as scratch,
            targets(Path(scratch), arguments.postgres) as found,
        ):
            for target in found:
                if arguments.only and target.name not in arguments.only:
                    continue
                with target.open() as store:
                    service = CustomerService(store)
                    service.webhook_endpoints.create(url=url, enabled_events=["*"])
                    delivered = throughput(target, service, arguments.events)
                    row = api_rates(
                        target,
                        service,
                        arguments.ops,
                        arguments.rounds,
                        arguments.backlog,
                        arguments.events,
                    )
                mode = "threads" if target.location is None else "process"
                note = f" ({row['unsaturated']:.0f} rounds ran dry)" if row["unsaturated"] else ""
                print(
                    f"| {target.name} | {mode} | {delivered:,.0f} | {row['stopped']:,.0f} | "
                    f"{row['running']:,.0f} | {row['ratio']:.2f}{note} | {row['min']:.2f} | "
                    f"{row['cpu']:.2f} |",
                    flush=True,
                )
    finally:
        assert process.stdin is not None
        process.stdin.close()
        process.wait(timeout=30)
    print(f"# load at the end: {load()}")


def load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


if __name__ == "__main__":
    main()
