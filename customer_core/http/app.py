"""The ASGI app: Starlette request and response objects around ``StripeAPI``.

It reads the body with a hard limit (1 MiB, also for chunked bodies without a
Content-Length), answers 413 beyond it, and runs searches in a worker thread (a search
may walk many customers); everything else is a few microseconds of work and runs inline.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.types import Receive, Scope, Send

from ..service import CustomerService
from .api import MAX_BODY_BYTES, StripeAPI

__all__ = ["CustomerCoreApp", "create_app"]


class _TooLarge(Exception):
    pass


class CustomerCoreApp:
    """An ASGI application serving Stripe's customer endpoints."""

    def __init__(self, api: StripeAPI, *, max_body_bytes: int = MAX_BODY_BYTES) -> None:
        self.api = api
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
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
        try:
            body = await self._read_body(Request(scope, receive), headers)
        except _TooLarge:
            answer = self.api.too_large(self.max_body_bytes, headers)
        else:
            arguments = (
                scope["method"],
                path,
                scope["query_string"].decode("latin-1"),
                headers,
                body,
            )
            if path == "/v1/customers/search":
                answer = await run_in_threadpool(self.api.handle, *arguments)
            else:
                answer = self.api.handle(*arguments)
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
        await send({"type": "http.response.body", "body": answer.body})

    async def _read_body(self, request: Request, headers: dict[str, str]) -> bytes:
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_body_bytes:
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
