"""A customer_core server with a chosen dispatch, for ``benchmarks.http_concurrency``.

``python -m benchmarks.dispatch_server PORT STORE DISPATCH STACK`` where STORE is
``memory`` or a SQLite file path, DISPATCH one of ``DISPATCHES`` and STACK one of
``STACKS``. ``pools`` on uvicorn with uvloop and httptools is what ``customer-core serve``
runs (worker pools for a store that may block, the event loop for the memory store);
``threads`` is the pools on every store (what ``serve`` ran before stores said whether
they block); the others are the alternatives docs/decisions.md weighs, built here so
that one run can compare them. ``granian`` (a Rust HTTP server, one worker, uvloop) needs
``pip install granian``.
"""

from __future__ import annotations

import asyncio
import os
import sys
from concurrent.futures import ThreadPoolExecutor

import uvicorn

from customer_core import CustomerService, MemoryStore, SQLiteStore, Store
from customer_core.http.api import Response, StripeAPI
from customer_core.http.app import READ_THREADS, WRITE_THREADS, CustomerCoreApp

API_KEY = "sk_test_benchmark_0123456789"


class InlineApp(CustomerCoreApp):
    """Every request on the event loop (the dispatch before issue 12)."""

    async def dispatch(
        self, method: str, path: str, query: str, headers: dict[str, str], body: bytes
    ) -> Response:
        return self.api.handle(method, path, query, headers, body)


class OnePoolApp(CustomerCoreApp):
    """Reads and writes share one pool of worker threads."""

    pool = ThreadPoolExecutor(READ_THREADS + WRITE_THREADS)

    async def dispatch(
        self, method: str, path: str, query: str, headers: dict[str, str], body: bytes
    ) -> Response:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            self.pool, self.api.handle, method, path, query, headers, body
        )


DISPATCHES = {
    "pools": lambda api: CustomerCoreApp(api),
    "threads": lambda api: CustomerCoreApp(api, inline=False),
    "one writer": lambda api: CustomerCoreApp(api, write_threads=1, inline=False),
    "one pool": OnePoolApp,
    "inline": InlineApp,
}
STACKS = {
    "uvloop+httptools": {"loop": "uvloop", "http": "httptools"},
    "asyncio+h11": {"loop": "asyncio", "http": "h11"},
    "granian": {},
}


def build(where: str, dispatch: str) -> CustomerCoreApp:
    store: Store = MemoryStore() if where == "memory" else SQLiteStore(where)
    app: CustomerCoreApp = DISPATCHES[dispatch](StripeAPI(CustomerService(store), [API_KEY]))
    return app


def from_environment() -> CustomerCoreApp:
    """granian's factory: the store and dispatch ``main`` left in the environment."""
    return build(os.environ["BENCHMARK_STORE"], os.environ["BENCHMARK_DISPATCH"])


def main() -> None:
    port, where, dispatch, stack = sys.argv[1:5]
    if stack == "granian":
        os.environ.update(BENCHMARK_STORE=where, BENCHMARK_DISPATCH=dispatch)
        # The same process (the caller stops it by its id), now granian's.
        os.execv(
            sys.executable,
            [
                sys.executable,
                "-m",
                "granian",
                "--interface",
                "asgi",
                "--factory",
                "--host",
                "127.0.0.1",
                "--port",
                port,
                "--loop",
                "uvloop",
                "--no-ws",
                "--log-level",
                "warning",
                "benchmarks.dispatch_server:from_environment",
            ],
        )
    uvicorn.run(
        build(where, dispatch),
        host="127.0.0.1",
        port=int(port),
        log_level="warning",
        access_log=False,
        lifespan="on",
        **STACKS[stack],  # type: ignore[arg-type]
    )


if __name__ == "__main__":
    main()
