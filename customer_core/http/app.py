"""The ASGI app: Starlette request and response objects around ``StripeAPI``.

It reads the body with a hard limit (1 MiB, also for chunked bodies without a
Content-Length), answers 413 beyond it, and hands every request that reaches a store that
may block (``Store.may_block``) to a worker thread, so the event loop never waits for a
store: a durable write may wait for an fsync, or for another process's write lock for the
whole busy timeout. Reads (GET, HEAD, OPTIONS) and writes have pools of their own: writes
blocked on the database lock never take the threads reads need, and two writes (two
requests with one idempotency key, say) can be in flight at once. A store that never
blocks (the memory store) is called on the event loop itself: a thread hop would cost
more than its calls (docs/decisions.md, "HTTP dispatch"). Searches are the exception: one
that no index answers walks the customers, so it runs on a read thread, where it shares
the interpreter with the loop instead of holding up every other request.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import quote

from starlette.requests import ClientDisconnect, Request
from starlette.types import Receive, Scope, Send

from ..integers import is_digits
from ..service import CustomerService
from .api import MAX_BODY_BYTES, MAX_URL_BYTES, Response, StripeAPI

__all__ = ["READ_THREADS", "WRITE_THREADS", "CustomerCoreApp", "create_app"]

READ_THREADS = 16
"""Worker threads for reads: more readers than this queue for a thread."""
WRITE_THREADS = 8
"""Worker threads for writes; a durable store serializes them anyway, so threads beyond a
few only hold waiting writes."""

_READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_SEARCH_PATH_END = "/search"
"""A search's path (``/v1/customers/search``): it may walk the store, so never inline."""


class _TooLarge(Exception):
    pass


class CustomerCoreApp:
    """An ASGI application serving Stripe's customer endpoints."""

    def __init__(
        self,
        api: StripeAPI,
        *,
        max_body_bytes: int = MAX_BODY_BYTES,
        read_threads: int = READ_THREADS,
        write_threads: int = WRITE_THREADS,
        inline: bool | None = None,
    ) -> None:
        """``inline``: answer on the event loop (True) or on worker threads (False);
        None (the default) asks the service, request by request, whether its calls may
        block (``CustomerService.may_block``: a store that may, or subscribers)."""
        self.api = api
        self.max_body_bytes = max_body_bytes
        self._inline = inline
        self._thread_counts = (read_threads, write_threads)
        self._pools: tuple[ThreadPoolExecutor, ThreadPoolExecutor] | None = None

    @property
    def inline(self) -> bool:
        """Whether the next request is answered on the event loop."""
        if self._inline is None:
            return not self.api.service.may_block
        return self._inline

    def _worker_pools(self) -> tuple[ThreadPoolExecutor, ThreadPoolExecutor]:
        """The read and the write pools, made at first use (again after a shutdown)."""
        if self._pools is None:
            reads, writes = self._thread_counts
            self._pools = (
                ThreadPoolExecutor(reads, thread_name_prefix="customer-core-read"),
                ThreadPoolExecutor(writes, thread_name_prefix="customer-core-write"),
            )
        return self._pools

    def shutdown(self) -> None:
        """Let the worker threads end once the requests they run are answered."""
        pools, self._pools = self._pools, None
        for pool in pools or ():
            pool.shutdown(wait=False)

    async def dispatch(
        self, method: str, path: str, query: str | bytes, headers: dict[str, str], body: bytes
    ) -> Response:
        """Answer a request on the event loop (``inline``, searches excepted), else on a
        worker thread: a read pool thread for GET, HEAD and OPTIONS, a write pool thread
        for the others."""
        if self.inline and not path.endswith(_SEARCH_PATH_END):
            return self.api.handle(method, path, query, headers, body)
        readers, writers = self._worker_pools()
        pool = readers if method in _READ_METHODS else writers
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(pool, self.api.handle, method, path, query, headers, body)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    self.shutdown()
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        # Read the ASGI scope directly: building Starlette's URL and Headers objects costs
        # more than answering a retrieve.
        headers = {
            name.decode("latin-1").lower(): value.decode("latin-1")
            for name, value in scope["headers"]
        }
        # StripeAPI decodes the id itself: hand it the path as sent, not ASGI's decoded one.
        raw_path = scope.get("raw_path")
        path = raw_path.decode("latin-1") if raw_path else quote(scope["path"])
        query = scope["query_string"]  # bytes: forms.decode refuses what is not UTF-8
        try:
            if len(path) + len(query) > MAX_URL_BYTES:
                answer = self.api.url_too_long()
            else:
                body = await self._read_body(Request(scope, receive), headers)
                answer = await self.dispatch(scope["method"], path, query, headers, body)
        except _TooLarge:
            answer = self.api.too_large(self.max_body_bytes, headers)
        except ClientDisconnect:
            return  # the client left before its body was whole: nobody to answer, no change
        await send(
            {
                "type": "http.response.start",
                "status": answer.status,
                "headers": [
                    (name.encode(), value.encode("latin-1"))
                    for name, value in answer.headers.items()
                ]
                + [(b"content-length", str(len(answer.body)).encode())],
            }
        )
        # HEAD: the headers of the GET answer, Content-Length included, and no body.
        body = b"" if scope["method"] == "HEAD" else answer.body
        await send({"type": "http.response.body", "body": body})

    async def _read_body(self, request: Request, headers: dict[str, str]) -> bytes:
        declared = headers.get("content-length", "")
        if is_digits(declared) and int(declared) > self.max_body_bytes:
            raise _TooLarge
        chunks = []
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > self.max_body_bytes:
                raise _TooLarge
            chunks.append(chunk)
        return b"".join(chunks)


def create_app(
    service: CustomerService,
    api_keys: Iterable[str],
    *,
    max_body_bytes: int = MAX_BODY_BYTES,
) -> CustomerCoreApp:
    """Build the ASGI app for ``service``; clients must send one of ``api_keys``."""
    return CustomerCoreApp(StripeAPI(service, list(api_keys)), max_body_bytes=max_body_bytes)
