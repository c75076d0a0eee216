"""HTTP benchmark: ``python -m benchmarks.http_bench`` (needs the ``bench`` extra).

One keep-alive client (``http.client``) on 127.0.0.1 measures create, retrieve and a list
page of 100 against: the trivial JSON endpoint on the same stack (the floor),
customer_core's server on the memory store and on the SQLite file store
(``synchronous=FULL``), and localstripe, all in the same run, at 1k and 10k customers.
Every server runs in its own process, bound to 127.0.0.1 on a port picked here. The floor
server runs throughout: every round of creates or retrieves follows a round of floor
requests, and the ``/floor`` columns give the median of the per-round ratios, which a
shared, busy machine moves far less than the rates themselves.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlencode

from customer_core import CustomerService, MemoryStore
from customer_core.http.api import INDENT
from customer_core.http.forms import decode

from .run import rate

API_KEY = "sk_test_benchmark_0123456789"
ROUNDS = 3
HEADERS = {
    "Authorization": f"Bearer {API_KEY}",
    "Content-Type": "application/x-www-form-urlencoded",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start(command: list[str], port: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return process
        except OSError:
            time.sleep(0.05)
    process.kill()
    msg = f"server did not start: {command}"
    raise RuntimeError(msg)


def servers(directory: Path) -> dict[str, Callable[[int], list[str]]]:
    python = sys.executable
    return {
        "floor (trivial JSON, same stack)": lambda port: [
            python,
            "-m",
            "benchmarks.floor_app",
            str(port),
        ],
        "customer_core memory": lambda port: [
            python,
            "-m",
            "customer_core.cli",
            "serve",
            "--memory",
            "--port",
            str(port),
            "--api-key",
            API_KEY,
            "--log-level",
            "warning",
        ],
        "customer_core sqlite FULL": lambda port: [
            python,
            "-m",
            "customer_core.cli",
            "serve",
            "--db",
            str(directory / f"http-{port}.db"),
            "--port",
            str(port),
            "--api-key",
            API_KEY,
            "--log-level",
            "warning",
        ],
        "localstripe": lambda port: [
            python,
            "-c",
            "from aiohttp import web; from localstripe.resources import store; from localstripe.server import app; "
            f"store.try_load_from_disk(); web.run_app(app, host='127.0.0.1', port={port}, access_log=None, print=None)",
        ],
    }


LOCALSTRIPE_PICKLE = Path("/tmp/localstripe.pickle")  # where localstripe keeps its store


def prefill_localstripe(size: int) -> None:
    """Build localstripe's store file with ``size`` customers in one go.

    localstripe rewrites its whole store file on every write, so filling it through HTTP
    would take hours at 10k customers; its own objects are created here instead, with the
    file written once, and the server loads it at start.
    """
    # A plain dict, not localstripe's Store: unpickling a Store calls its __setitem__,
    # which rewrites the very file being read, so localstripe cannot reload a large one.
    script = (
        "import pickle\n"
        "from localstripe import resources as r\n"
        "r.Store.dump_to_disk = lambda self: None\n"
        f"for n in range({size}):\n"
        "    r.Customer(name='Jenny Rosen', email=f'customer{n}@example.com', description='A test customer',"
        " phone='+15555550123', metadata={'order_id': str(n), 'plan': 'gold'})\n"
        f"pickle.dump(dict(r.store), open({str(LOCALSTRIPE_PICKLE)!r}, 'wb'), protocol=pickle.HIGHEST_PROTOCOL)\n"
    )
    LOCALSTRIPE_PICKLE.unlink(missing_ok=True)
    subprocess.run([sys.executable, "-c", script], check=True)


def body_for(n: int) -> bytes:
    return urlencode(
        {
            "name": "Jenny Rosen",
            "email": f"customer{n}@example.com",
            "description": "A test customer",
            "phone": "+15555550123",
            "metadata[order_id]": str(n),
            "metadata[plan]": "gold",
        }
    ).encode()


class Client:
    def __init__(self, port: int) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def call(self, method: str, path: str, body: bytes | None = None) -> dict:
        self.connection.request(method, path, body=body, headers=HEADERS)
        response = self.connection.getresponse()
        payload = response.read()
        if response.status != 200:
            msg = f"{method} {path}: {response.status} {payload[:200]!r}"
            raise RuntimeError(msg)
        return json.loads(payload)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.http_bench", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--sizes", nargs="+", type=int, default=[1_000, 10_000])
    parser.add_argument("--ops", type=int, default=500, help="requests per round")
    args = parser.parse_args(argv)
    directory = Path(tempfile.mkdtemp())
    print(
        f"# HTTP benchmark, {time.strftime('%Y-%m-%d %H:%M')}, Python {sys.version.split()[0]}, {os.cpu_count()} cores"
    )
    print(
        "# requests/s with one keep-alive client, median of 3 rounds; list = GET /v1/customers?limit=100"
    )
    print(
        "| server | customers | create/s | create/floor | retrieve/s | retrieve/floor "
        "| list 100/s | list ms |"
    )
    print("|---|---|---|---|---|---|---|---|")
    commands = servers(directory)
    floor_name = next(name for name in commands if name.startswith("floor"))
    floor_port = free_port()
    floor_process = start(commands.pop(floor_name)(floor_port), floor_port)
    try:
        floor = Client(floor_port)
        ping = rate(lambda n: floor.call("GET", "/ping"), args.ops * 4, ROUNDS)
        floor.connection.close()
        print(
            f"| {floor_name} | - | {ping:,.0f} | 1.00 | {ping:,.0f} | 1.00 | {ping:,.0f} "
            f"| {1000 / ping:.3f} |",
            flush=True,
        )
        run_servers(commands, floor_port, args.sizes, args.ops)
    finally:
        floor_process.terminate()
        floor_process.wait(10)


def run_servers(
    commands: dict[str, Callable[[int], list[str]]], floor_port: int, sizes: list[int], ops: int
) -> None:
    """Measure each server in turn, beside the running floor."""
    for name, command in commands.items():
        if name == "localstripe":
            for size in sorted(sizes):
                prefill_localstripe(size)
                port = free_port()
                process = start(command(port), port)
                try:
                    client = Client(port)
                    ids = [c["id"] for c in client.call("GET", "/v1/customers?limit=100")["data"]]
                    measure(name, client, floor_port, size, ids, ops, slow=True)
                finally:
                    process.terminate()
                    process.wait(10)
            LOCALSTRIPE_PICKLE.unlink(missing_ok=True)
            continue
        port = free_port()
        process = start(command(port), port)
        try:
            client = Client(port)
            stored, ids = 0, []
            for size in sorted(sizes):
                while stored < size:
                    ids.append(client.call("POST", "/v1/customers", body_for(stored))["id"])
                    stored += 1
                added, retrieves, lists = measure(
                    name, client, floor_port, size, ids, ops, slow=False
                )
                stored += added
            if name == "customer_core memory":
                formatting = (retrieves, lists)
        finally:
            process.terminate()
            process.wait(10)
    print_formatting_cost(*formatting)


def print_formatting_cost(retrieves: float, lists: float) -> None:
    """Print what pretty-printing a body (as the server does) costs beside compact JSON, as a
    share of one retrieve and one list page over HTTP on the memory store in this run."""
    service = CustomerService(MemoryStore())
    customer = service.create(**decode(body_for(0)))
    for n in range(1, 100):
        service.create(**decode(body_for(n)))
    page = service.list(limit=100)
    print()
    print(f"# pretty-printed bodies (indent={INDENT}) vs compact JSON, per response")
    print("| body | compact µs | pretty µs | added µs | share of one HTTP request |")
    print("|---|---|---|---|---|")
    for label, result, per_second in (("retrieve", customer, retrieves), ("list 100", page, lists)):
        ops = 20_000 if label == "retrieve" else 500
        compact = 1e6 / rate(lambda n, result=result: result.to_json(), ops, ROUNDS)
        pretty = 1e6 / rate(lambda n, result=result: result.to_json(indent=INDENT), ops, ROUNDS)
        share = (pretty - compact) / (1e6 / per_second)
        print(
            f"| {label} | {compact:.1f} | {pretty:.1f} | {pretty - compact:.1f} | {share:.1%} |",
            flush=True,
        )


def paired(operation: Callable[[int], object], count: int, floor_port: int) -> tuple[float, float]:
    """The median rate of ``operation`` over ROUNDS rounds of ``count`` calls, each right
    after a round of floor requests, and the median of the per-round ratios to the floor."""
    rates, ratios = [], []
    for round_number in range(ROUNDS):
        # A new connection each round: uvicorn closes one idle for 5 s (while a store fills).
        floor = Client(floor_port)
        floor_rate = rate(lambda n, floor=floor: floor.call("GET", "/ping"), count, 1)
        floor.connection.close()
        offset = round_number * count
        measured = rate(lambda n, offset=offset: operation(offset + n), count, 1)
        rates.append(measured)
        ratios.append(measured / floor_rate)
    return statistics.median(rates), statistics.median(ratios)


def measure(
    name: str, client: Client, floor_port: int, size: int, ids: list[str], ops: int, *, slow: bool
) -> tuple[int, float, float]:
    """Print one row; return how many customers the measured creates added, and the
    retrieves and list pages per second."""
    create_ops = max(ops // (100 if slow else 1), 3)
    creates, creates_ratio = paired(
        lambda n: client.call("POST", "/v1/customers", body_for(10_000_000 + n)),
        create_ops,
        floor_port,
    )
    retrieves, retrieves_ratio = paired(
        lambda n: client.call("GET", f"/v1/customers/{ids[n % len(ids)]}"),
        ops // (5 if slow else 1),
        floor_port,
    )
    lists = rate(
        lambda n: client.call("GET", "/v1/customers?limit=100"),
        max(ops // (50 if slow else 10), 5),
        ROUNDS,
    )
    print(
        f"| {name} | {size:,} | {creates:,.0f} | {creates_ratio:.2f} | {retrieves:,.0f} "
        f"| {retrieves_ratio:.2f} | {lists:,.1f} | {1000 / lists:.2f} |",
        flush=True,
    )
    return 3 * create_ops, retrieves, lists


if __name__ == "__main__":
    main()
