"""Webhook delivery throughput, and what delivering costs the API, on each store.

``python -m benchmarks.webhook_delivery [--events 2000] [--pairs 20] [--seconds 0.5]
[--backlog 2000] [--postgres] [--only STORE] [--dir DIR] [--control] [--before DIR]``

Deliveries are made as ``customer-core serve`` makes them: for SQLite (and PostgreSQL) by
a delivery process of its own (``customer-core deliver``'s worker, options and lower CPU
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
- API rate: ``--pairs`` pairs of rounds, each round ``--seconds`` of creates on a service
  with an endpoint (so every create writes a delivery), one with the worker paused and
  one with it running, back to back, the order alternating (stopped first, then running
  first, ...). The worker is started once and paused between rounds (a process start
  does not sit between a pair's rounds). Before each pair the outbox is topped up
  (untimed) to ``--backlog`` due deliveries, or three times what a running round used,
  and a running round starts once the worker has made a delivery, so the worker is
  saturated the whole round (checked: deliveries are still due when it ends). Per pair:
  the ratio of creates per wall second, running / stopped (the issue's measure), and of
  the API process's CPU per create. Reported: the median ratio, its quartiles and range,
  and how many pairs reached 0.80. Goal: ratio >= 0.80 (a drop of at most 20%).
- ``--before DIR``: also the delivery code of another checkout (a plain export of an
  older commit, ``git archive COMMIT | tar -x -C DIR``), its pairs interleaved with the
  others': the memory store's worker class loaded from a copy of ``DIR/customer_core``
  renamed ``customer_core_before``, a durable store's delivery process run from ``DIR``.
  The API (the store, the creates) is this checkout's in both.
"""

from __future__ import annotations

import argparse
import ast
import atexit
import importlib
import math
import os
import platform
import shutil
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
from typing import Any

from customer_core import CustomerService, MemoryStore, SQLiteStore, Store, cli
from customer_core.events.delivery import DeliveryWorker
from customer_core.events.outbox import Webhooks
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
    server_pid: Callable[[], int | None] = lambda: None
    """The database server's main process (PostgreSQL's postmaster): its CPU and its
    children's is a delivery's cost too."""


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
    """The delivery worker of a target, as ``serve`` runs it, paused and resumed between
    rounds: for the memory store, worker threads of this process; for a durable store, a
    delivery process started once (``customer-core deliver``'s worker, options and nice,
    in ``--deliverer`` mode: it stops and starts its worker when told, so a round does not
    wait for a process to start)."""

    arguments: tuple[str, ...] = ()
    """More ``customer-core deliver`` options (``--deliver-option``)."""

    def __init__(
        self,
        target: Target,
        service: CustomerService,
        options: dict[str, Any] | None = None,
        code: Path | None = None,
        arguments: tuple[str, ...] = (),
    ) -> None:
        self._target = target
        self._service = service
        self.thread_options = options or {}
        """``start_delivery`` options of the in-process worker (``--worker-option``)."""
        self._worker_class: Any = DeliveryWorker if code is None else _worker_class(code)
        self._worker: Any = None
        self._process: subprocess.Popen[str] | None = None
        if target.location is not None:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "benchmarks.webhook_delivery", "--deliverer"]
                + ["--db", target.location, *self.arguments, *arguments],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
                cwd=ROOT if code is None else code,
            )
            self._tell("ready")

    def _tell(self, expected: str, command: str | None = None) -> None:
        process = self._process
        assert process is not None and process.stdin is not None and process.stdout is not None
        if command is not None:
            process.stdin.write(command + "\n")
            process.stdin.flush()
        answer = process.stdout.readline().strip()
        if answer != expected:
            raise RuntimeError(f"the delivery process said {answer!r}, not {expected!r}")

    @property
    def pid(self) -> int | None:
        """The delivery process (None: the memory store's threads in this process)."""
        return None if self._process is None else self._process.pid

    @property
    def sender_pid(self) -> int | None:
        """The in-process worker's sender process, while it has one."""
        return None if self._worker is None else self._worker.sender_pid

    def start(self) -> None:
        """Start delivering; return once the worker is ready to take deliveries."""
        if self._process is not None:
            self._tell("running", "run")
        else:
            worker = self._worker_class(self._service.webhooks, **self.thread_options)
            self._worker = worker.start()

    def pause(self) -> None:
        """Stop delivering at once: requests in flight are aborted and put back with the rest
        (``stop(timeout=0)``: a stop's grace would deliver more of the backlog after the
        round, counted as the round's)."""
        if self._process is not None:
            self._tell("paused", "pause")
        elif self._worker is not None:
            self._worker.stop(timeout=0)
            self._worker = None

    def close(self) -> None:
        self.pause()
        if self._process is not None:
            assert self._process.stdin is not None
            self._process.stdin.close()
            self._process.wait(timeout=60)
            self._process = None


_OLD_PACKAGES: dict[Path, Any] = {}


def _worker_class(code: Path) -> Any:
    """The ``DeliveryWorker`` class of the checkout at ``code``: its ``customer_core``
    copied under another name (every import inside the package is relative), imported."""
    module = _OLD_PACKAGES.get(code)
    if module is None:
        name = f"customer_core_before{len(_OLD_PACKAGES) or ''}"
        home = Path(tempfile.mkdtemp(prefix="webhook-bench-"))
        # Removed when the process ends: the copy may still import modules until then.
        atexit.register(shutil.rmtree, home, ignore_errors=True)
        shutil.copytree(code / "customer_core", home / name)
        sys.path.insert(0, str(home))
        module = _OLD_PACKAGES[code] = importlib.import_module(f"{name}.events.delivery")
    return module.DeliveryWorker


def serve_deliverer(argv: list[str]) -> None:
    """The ``--deliverer`` process: ``customer-core deliver``'s worker (its options, its
    nice, no CPU limit), started by a ``run`` line on stdin and stopped by ``pause``."""
    arguments = cli._parser().parse_args(["deliver", *argv])
    if arguments.nice > 0:
        os.nice(arguments.nice)
    options = cli.worker_options(arguments)
    with cli._open_store(arguments.db, "deliver", arguments.synchronous) as store:
        webhooks = Webhooks(store)
        worker: DeliveryWorker | None = None
        print("ready", flush=True)
        for line in sys.stdin:
            if worker is not None:
                worker.stop(timeout=0)  # as Deliverer.pause: no grace after the round
                worker = None
            if line.strip() == "run":
                worker = DeliveryWorker(webhooks, cpu_share=None, **options).start()
            print("running" if worker is not None else "paused", flush=True)


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


def tree_cpu(roots: list[int]) -> float:
    """CPU seconds used so far by the processes ``roots`` and all their descendants (with
    their waited-for children's), read from Linux's /proc; nan elsewhere."""
    if not os.path.isdir("/proc"):
        return math.nan
    tick = os.sysconf("SC_CLK_TCK")
    parents: dict[int, int] = {}
    times: dict[int, float] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rpartition(")")[2].split()
        except OSError:
            continue  # ended meanwhile
        parents[int(entry)] = int(fields[1])
        times[int(entry)] = sum(int(value) for value in fields[11:15]) / tick
    total = 0.0
    for pid, seconds in times.items():
        ancestor: int | None = pid
        while ancestor is not None and ancestor not in roots:
            ancestor = parents.get(ancestor)
        if ancestor is not None:
            total += seconds
    return total


def throughput(
    target: Target,
    service: CustomerService,
    events: int,
    options: dict[str, Any],
    first: int = 0,
    code: Path | None = None,
    arguments: tuple[str, ...] = (),
) -> tuple[float, float]:
    """Events delivered per second, from a backlog of ``events``, and the CPU each delivery
    cost the delivering side (the worker's process, its sender process, and the database
    server's processes), in microseconds; the receiver stands for another machine and is
    not counted."""
    record(service, first, events)
    deliverer = Deliverer(target, service, options, code, arguments)
    try:
        roots = [pid for pid in (deliverer.pid, target.server_pid()) if pid is not None]

        def measure() -> float:
            if deliverer.pid is None:  # this process (the receiver is its child), and the
                # in-process worker's sender process, if it has one
                sender = deliverer.sender_pid
                return time.process_time() + (0.0 if sender is None else tree_cpu([sender]))
            return tree_cpu(roots)

        deliverer.start()
        cpu_began = measure()
        began = time.perf_counter()
        wait_for(lambda: service.store.outbox_next_due() is None, "the backlog to be delivered")
        elapsed = time.perf_counter() - began
        cpu = measure() - cpu_began
    finally:
        deliverer.close()
    return events / elapsed, cpu / events * 1e6


def newest_attempt(store: Store) -> str | None:
    newest = store.delivery_attempt_scan(limit=1)
    return newest[0]["id"] if newest else None


@dataclass
class Round:
    """One timed round: creates per wall second, and the API process's CPU per create, and
    its creating thread's."""

    rate: float
    cpu: float
    thread_cpu: float


def timed_round(service: CustomerService, seconds: float, first: int) -> tuple[Round, int]:
    """Create customers for ``seconds`` of wall time; the round and how many were made."""
    n = first
    cpu_began = time.process_time()
    thread_began = time.thread_time()
    began = time.perf_counter()
    deadline = began + seconds
    while True:
        service.create(**params_for(n))
        n += 1
        now = time.perf_counter()
        if now >= deadline:
            break
    made = n - first
    cpu = (time.process_time() - cpu_began) / made
    return Round(made / (now - began), cpu, (time.thread_time() - thread_began) / made), made


@dataclass
class Pairs:
    """Per-pair ratios, running over stopped: of the create rate, and of the CPU per create."""

    rates: list[float]
    cpu: list[float]
    thread_cpu: list[float]
    """The creating thread's own CPU per create, running / stopped: what the worker's
    threads cost the API's work beyond their own CPU (lock hand-overs, caches)."""
    stopped: list[float]
    running: list[float]
    delivered: list[float]
    """Deliveries made per second in each running round (with the API saturated)."""
    unsaturated: int
    loads: list[float]
    """The machine's 1-minute load average after each pair."""


@dataclass(frozen=True)
class Setting:
    """A way to deliver whose pairs are measured: a label, and the in-process worker's
    options (memory store), or None for a control (the worker never started); ``code``:
    another checkout whose delivery code is measured (``--before``)."""

    label: str
    options: dict[str, Any] | None
    code: Path | None = None
    arguments: tuple[str, ...] = ()
    """More ``customer-core deliver`` options of a durable store's delivery process
    (``--deliver-setting``)."""


def api_rates(
    target: Target,
    service: CustomerService,
    settings: list[Setting],
    pairs: int,
    seconds: float,
    backlog: int,
    start: int,
) -> dict[str, Pairs]:
    """For each setting, ``pairs`` pairs of rounds of ``seconds`` each, one with the worker
    paused and one with it running (saturated: a backlog of due deliveries is there at the
    start and the end), back to back, in alternating order (stopped first, then running
    first, ...). The settings' pairs are interleaved (a pair of each in turn, the order
    rotating), so the machine's drift reaches every setting alike. A control (no worker)
    runs both rounds of its pairs stopped: the spread of its ratios is the method's own on
    this machine."""
    store = service.store
    results = {setting.label: Pairs([], [], [], [], [], [], 0, []) for setting in settings}
    n = start
    needed = backlog
    deliverers = {
        setting.label: Deliverer(target, service, setting.options, setting.code, setting.arguments)
        for setting in settings
        if setting.options is not None
    }
    try:
        for pair in range(pairs):
            turn = pair % len(settings)
            for setting in settings[turn:] + settings[:turn]:
                result = results[setting.label]
                deliverer = deliverers.get(setting.label)
                due = len(store.outbox_event_ids())
                if due < needed:
                    record(service, n, needed - due)  # untimed, before the pair
                    n += needed - due
                rounds: dict[str, Round] = {}
                for mode in ("running", "stopped") if pair % 2 else ("stopped", "running"):
                    if mode == "running" and deliverer is not None:
                        before = newest_attempt(store)
                        deliverer.start()
                        wait_for(
                            lambda before=before: newest_attempt(store) != before,
                            "a first delivery",
                        )
                        attempts_before = len(store.outbox_event_ids())
                    rounds[mode], made = timed_round(service, seconds, n)
                    n += made
                    if mode == "running" and deliverer is not None:
                        due_at_end = store.outbox_next_due()
                        result.unsaturated += due_at_end is None or due_at_end > time.time()
                        deliverer.pause()
                        # Deliveries the round used up (its own creates added as many).
                        used = attempts_before + made - len(store.outbox_event_ids())
                        needed = max(needed, 3 * used)
                        result.delivered.append(used / seconds)
                result.rates.append(rounds["running"].rate / rounds["stopped"].rate)
                result.cpu.append(rounds["running"].cpu / rounds["stopped"].cpu)
                result.thread_cpu.append(
                    rounds["running"].thread_cpu / rounds["stopped"].thread_cpu
                )
                result.stopped.append(rounds["stopped"].rate)
                result.running.append(rounds["running"].rate)
                result.loads.append(os.getloadavg()[0])
    finally:
        for deliverer in deliverers.values():
            deliverer.close()
    return results


def quartiles(values: list[float]) -> tuple[float, float, float]:
    low, median, high = statistics.quantiles(values, n=4, method="inclusive")
    return low, median, high


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

        def postmaster() -> int:
            with open(os.path.join(server.data, "postmaster.pid")) as pid_file:
                return int(pid_file.readline())

        yield [*found, Target("postgres", lambda: PostgresStore(dsn), dsn, postmaster)]


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--deliverer"]:
        serve_deliverer(argv[1:])
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=2000, help="backlog delivered (default 2000)")
    parser.add_argument(
        "--pairs", type=int, default=20, help="pairs of rounds, stopped and running (default 20)"
    )
    parser.add_argument(
        "--seconds", type=float, default=0.5, help="seconds of creates per round (default 0.5)"
    )
    parser.add_argument(
        "--backlog",
        type=int,
        default=2000,
        help="deliveries due before each pair at least (more once a round used more; "
        "default 2000), so the worker stays busy",
    )
    parser.add_argument("--postgres", action="store_true", help="also a throwaway PostgreSQL")
    parser.add_argument(
        "--control",
        action="store_true",
        help="also a control row per store: the same pairs with the worker never started "
        "(the method's own spread on this machine)",
    )
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
    parser.add_argument(
        "--worker-option",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="an option of the memory store's in-process worker (start_delivery), as "
        "--worker-option concurrency=4 (a Python literal)",
    )
    parser.add_argument(
        "--setting",
        action="append",
        default=[],
        metavar="LABEL:NAME=VALUE,...",
        help="a setting of the memory store's in-process worker measured beside the others, "
        "pairs interleaved, as --setting threads:sender_process=False (repeatable; the "
        "default: one setting, the --worker-option ones)",
    )
    parser.add_argument(
        "--deliver-setting",
        action="append",
        default=[],
        metavar="LABEL:OPTION,...",
        help="a setting of the durable stores' delivery process (customer-core deliver "
        "options) measured beside the others, pairs interleaved, as --deliver-setting "
        "unpaced:--busy-rate=0 (repeatable; the default: one setting, the --deliver-option "
        "ones)",
    )
    parser.add_argument(
        "--before",
        type=Path,
        metavar="DIR",
        help="also measure the delivery code of the checkout in DIR (a plain export of an "
        "older commit), pairs interleaved with the others' (rows labelled 'before')",
    )
    parser.add_argument("--receiver", action="store_true", help=argparse.SUPPRESS)
    arguments = parser.parse_args(argv)
    if arguments.receiver:
        serve_receiver(arguments.receiver_nice, arguments.receiver_kind)
        return
    Deliverer.arguments = tuple(arguments.deliver_option)
    worker_options = _options(arguments.worker_option)
    memory_settings = [
        Setting(label, {**worker_options, **_options(options.split(",") if options else [])})
        for label, _, options in (setting.partition(":") for setting in arguments.setting)
    ] or [Setting("", worker_options)]
    deliver_settings = [
        Setting(label, {}, arguments=tuple(options.split(",")) if options else ())
        for label, _, options in (setting.partition(":") for setting in arguments.deliver_setting)
    ] or [Setting("", {})]
    print(f"# customer_core webhook delivery, {time.strftime('%Y-%m-%d %H:%M')}, load {load()}")
    print(
        f"# CPython {platform.python_version()}, {platform.machine()}, {os.cpu_count()} CPUs, "
        f"SQLite {sqlite3.sqlite_version}; backlog {arguments.events} events; "
        f"{arguments.pairs} pairs of {arguments.seconds:g} s rounds, alternating; "
        f"receiver {arguments.receiver_kind} at nice +{arguments.receiver_nice}; deliver options "
        f"{' '.join(arguments.deliver_option) or '(defaults)'}; in-process worker options "
        f"{' '.join(arguments.worker_option) or '(defaults)'}; settings "
        f"{' '.join(arguments.setting) or '(one)'}; delivery process settings "
        f"{' '.join(arguments.deliver_setting) or '(one)'}; before: {arguments.before or '-'}"
    )
    print(
        "# delivered/s: a backlog POSTed to a local receiver process and settled (goal >= 500); "
        "us/delivery: CPU microseconds each of those deliveries took in the delivering "
        "process and the database server's processes (not the receiver's); "
        "while running: deliveries a second in the running rounds, median (the API saturated), "
        "and >= 500/s how many running rounds reached 500. "
        "Pairs of rounds back to back, the worker paused in one and running (saturated) in "
        "the other, order alternating; per pair, ratio = creates per wall second running / "
        "stopped (goal >= 0.80): median, quartiles, range, pairs at 0.80 or more; stopped and "
        "running: median creates/s; cpu = median per pair of the API process's CPU per create "
        "running / stopped (with threads, the worker's CPU is in it); thread cpu: the same for "
        "the creating thread alone (what in-process worker threads cost the API's own work: "
        "interpreter lock hand-overs, caches); worker: a process of "
        "its own, or in the API's process (its requests made by a sender process, or by "
        "threads); load: the 1-minute load average over the row's pairs (min-max); the "
        "rows of a store (its settings, its control) ran their pairs interleaved"
    )
    print(
        "| store | worker | delivered/s | us/delivery | while running | >= 500/s | stopped | "
        "running | ratio | quartiles | range | >= 0.80 | cpu | thread cpu | load |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    process, url = start_receiver(arguments.receiver_nice, arguments.receiver_kind)
    try:
        with (
            tempfile.TemporaryDirectory(dir=arguments.dir) as scratch,
            targets(Path(scratch), arguments.postgres) as found,
        ):
            for target in found:
                if arguments.only and target.name not in arguments.only:
                    continue
                settings = memory_settings if target.location is None else deliver_settings
                if arguments.before is not None:
                    before_options = settings[0].options if target.location is None else {}
                    settings = [*settings, Setting("before", before_options, arguments.before)]
                if arguments.control:
                    settings = [*settings, Setting("control", None)]
                with target.open() as store:
                    service = CustomerService(store)
                    service.webhook_endpoints.create(url=url, enabled_events=["*"])
                    delivered: dict[str, tuple[float, float]] = {}
                    for number, setting in enumerate(settings):
                        if setting.options is not None:
                            delivered[setting.label] = throughput(
                                target,
                                service,
                                arguments.events,
                                setting.options,
                                arguments.events * number,
                                setting.code,
                                setting.arguments,
                            )
                    measured = api_rates(
                        target,
                        service,
                        settings,
                        arguments.pairs,
                        arguments.seconds,
                        arguments.backlog,
                        arguments.events * len(settings),
                    )
                    for setting in settings:
                        print_row(
                            ", ".join(filter(None, [target.name, setting.label])),
                            _worker_kind(target, setting),
                            delivered.get(setting.label),
                            measured[setting.label],
                        )
    finally:
        assert process.stdin is not None
        process.stdin.close()
        process.wait(timeout=30)
    print(f"# load at the end: {load()}")


def _options(pairs: list[str]) -> dict[str, Any]:
    """``NAME=VALUE`` options (values Python literals) as a dict."""
    return {
        name: ast.literal_eval(value) for name, _, value in (pair.partition("=") for pair in pairs)
    }


def _worker_kind(target: Target, setting: Setting) -> str:
    if setting.options is None:
        return "none"
    if target.location is not None:
        return "process"
    if setting.options.get("sender_process", True):
        return "in-process, sender process"
    return "in-process, threads"


def print_row(name: str, mode: str, delivered: tuple[float, float] | None, pairs: Pairs) -> None:
    note = f" ({pairs.unsaturated} rounds ran dry)" if pairs.unsaturated else ""
    low, median, high = quartiles(pairs.rates)
    met = sum(ratio >= 0.8 for ratio in pairs.rates)
    during = statistics.median(pairs.delivered) if pairs.delivered else None
    fast = f"{sum(rate >= 500 for rate in pairs.delivered)}/{len(pairs.delivered)}"
    print(
        f"| {name} | {mode} | "
        f"{'- | -' if delivered is None else f'{delivered[0]:,.0f} | {delivered[1]:,.0f}'} | "
        f"{'-' if during is None else f'{during:,.0f}'} | {fast if pairs.delivered else '-'} | "
        f"{statistics.median(pairs.stopped):,.0f} | {statistics.median(pairs.running):,.0f} | "
        f"{median:.2f}{note} | {low:.2f}-{high:.2f} | "
        f"{min(pairs.rates):.2f}-{max(pairs.rates):.2f} | {met}/{len(pairs.rates)} | "
        f"{statistics.median(pairs.cpu):.2f} | {statistics.median(pairs.thread_cpu):.2f} | "
        f"{min(pairs.loads):.1f}-{max(pairs.loads):.1f} |",
        flush=True,
    )


def load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


if __name__ == "__main__":
    main()
