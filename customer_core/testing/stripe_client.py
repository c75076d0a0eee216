"""An in-process transport for the official ``stripe`` SDK: no server, no socket.

>>> import stripe
>>> from customer_core import CustomerService, MemoryStore
>>> client = stripe.StripeClient("sk_test_123", http_client=StripeHTTPClient(CustomerService(MemoryStore())))
>>> client.v1.customers.create(params={"email": "jenny@example.com"}).email
'jenny@example.com'
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

import stripe

from ..http.api import StripeAPI
from ..service import CustomerService
from .headers import Headers

__all__ = ["StripeHTTPClient"]


@functools.lru_cache(maxsize=1024)
def _target(url: str) -> tuple[str, str]:
    """A URL's path and query string (cached: a test calls the same few URLs again and again)."""
    parts = urlsplit(url)
    return parts.path, parts.query


def _stripe_case(headers: Mapping[str, str]) -> Headers:
    """The answer's headers as the SDK gets them over HTTP: found whatever the case, named
    as Stripe writes them (``Request-Id``, ``Idempotent-Replayed``)."""
    return Headers((_display_name(name), value) for name, value in headers.items())


@functools.lru_cache(maxsize=64)
def _display_name(name: str) -> str:
    return "-".join(part.capitalize() for part in name.split("-"))


class StripeHTTPClient(stripe.HTTPClient):
    """Hands the SDK's requests to ``StripeAPI`` in this process, sync and async.

    ``api_keys`` None (the default) accepts whatever key the client was built with; a
    missing or empty key is refused (401), as Stripe refuses it.
    Async calls (``create_async``, ...) run the service inline: it does no I/O to wait on
    with the memory store, and a test gets the same order of effects as with sync calls.
    """

    name = "customer_core"

    def __init__(self, service: CustomerService, api_keys: Iterable[str] | None = None) -> None:
        super().__init__()
        self._api = StripeAPI(service, api_keys, require_key=True)

    def request(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str] | None,
        post_data: Any = None,
        *,
        _usage: list[str] | None = None,
    ) -> tuple[str, int, Mapping[str, str]]:
        path, query = _target(url)
        headers = headers or {}
        lowered = dict(zip(map(str.lower, headers), headers.values(), strict=True))
        body = post_data if isinstance(post_data, str) else bytes(post_data or b"")
        answer = self._api.handle(method, path, query, lowered, body)
        return answer.body.decode(), answer.status, _stripe_case(answer.headers)

    def request_stream(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str] | None,
        post_data: Any = None,
        *,
        _usage: list[str] | None = None,
    ) -> tuple[Any, int, Mapping[str, str]]:
        msg = "customer_core serves no streaming endpoints"
        raise NotImplementedError(msg)

    def close(self) -> None:
        """Nothing to release: no connection was opened."""

    async def request_async(
        self, method: str, url: str, headers: Mapping[str, str], post_data: Any = None
    ) -> tuple[Any, int, Mapping[str, str]]:
        return self.request(method, url, headers, post_data)

    async def request_stream_async(
        self, method: str, url: str, headers: Mapping[str, str], post_data: Any = None
    ) -> tuple[Any, int, Mapping[str, str]]:
        return self.request_stream(method, url, headers, post_data)

    async def close_async(self) -> None:
        """Nothing to release."""

    def sleep_async(self, secs: float) -> Any:
        """Wait between the SDK's retries (of a 409 or a 5xx) on the running event loop."""
        return asyncio.sleep(secs)
