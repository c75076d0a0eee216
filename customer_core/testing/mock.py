"""``mock_stripe()``: every request of the ``stripe`` package goes to a CustomerService in
this process, for code that uses Stripe's global style or builds its own ``StripeClient``.

>>> import stripe
>>> stripe.api_key = "sk_test_123"
>>> with mock_stripe() as service:
...     jenny = stripe.Customer.create(email="jenny@example.com")
...     service.retrieve(jenny.id).email
'jenny@example.com'
>>> stripe.api_key = None

How: the SDK asks ``_APIRequestor._get_http_client()`` for its HTTP client before every
request, whatever the style (global, ``StripeClient``, async, raw requests). While a mock
is active that method answers with the mock's in-process ``StripeHTTPClient``, unless the
client was built with a customer_core ``StripeHTTPClient``, which keeps its own service, or
its API address is on this machine (``http://127.0.0.1:...``, ``localhost``, ``[::1]``): a
client pointed at a local server, such as ``customer_server.stripe_client()``, talks to it.
It is the one attribute of the ``stripe`` package the mock changes; it is put back when
the last active mock stops. Clients built while a mock was active use the network again
once no mock is active, as they would have without it.

A request that the caller's own HTTP client (given to ``StripeClient(http_client=...)`` or
set as ``stripe.default_http_client``) would refuse is refused with the SDK's own error, as
without the mock: a sync call through ``HTTPXClient()`` without ``allow_sync_methods=True``
or through ``AIOHTTPClient``, an async call through a client with no async support and no
fallback (``RequestsClient()``, ``UrllibClient()``). The SDK's default clients are not
checked: whether their async fallback works depends on the packages installed, not on the
code under test.
"""

from __future__ import annotations

import functools
import inspect
import threading
from collections.abc import Awaitable, Callable, Iterable
from types import TracebackType
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit

import stripe
from stripe import _api_requestor

from ..service import CustomerService
from ..settings import check_api_keys
from ..store import MemoryStore
from .stripe_client import StripeHTTPClient

__all__ = ["StripeMock", "mock_stripe"]

Function = TypeVar("Function", bound=Callable[..., Any])

_Requestor = _api_requestor._APIRequestor
_PATCHED = "_get_http_client"


class _Routing:
    """The mocks active in this process, innermost last, and the method they replace."""

    lock = threading.Lock()
    active: list[StripeMock] = []
    original: Any = None

    @classmethod
    def push(cls, mock: StripeMock) -> None:
        with cls.lock:
            if not cls.active:
                original = _Requestor.__dict__.get(_PATCHED)
                if original is None:
                    msg = (
                        "mock_stripe does not know this version of the stripe package: "
                        f"stripe._api_requestor._APIRequestor has no {_PATCHED}()."
                    )
                    raise RuntimeError(msg)
                cls.original = original
                setattr(_Requestor, _PATCHED, _routed_http_client)
            cls.active.append(mock)

    @classmethod
    def remove(cls, mock: StripeMock) -> None:
        with cls.lock:
            # The latest activation of this mock, wherever it is: stops need not be nested.
            index = max(i for i, active in enumerate(cls.active) if active is mock)
            del cls.active[index]
            if not cls.active:
                setattr(_Requestor, _PATCHED, cls.original)
                cls.original = None

    @classmethod
    def innermost(cls) -> StripeMock | None:
        with cls.lock:
            return cls.active[-1] if cls.active else None


def _routed_http_client(requestor: Any) -> Any:
    """``_APIRequestor._get_http_client`` while a mock is active."""
    own = requestor._client
    mock = _Routing.innermost()
    if (
        mock is None
        or mock._http_client is None  # stopped by another thread meanwhile
        or isinstance(own, StripeHTTPClient)
        or _is_local(requestor.base_addresses.get("api"))
    ):
        return _Routing.original(requestor) if _Routing.original else own
    chosen = own if own is not None else stripe.default_http_client
    if chosen is None:
        return mock._http_client
    return _AsTheClientWould(mock._http_client, chosen)


def _refuse_sync(client: Any, method: str, url: str, headers: Any, post_data: Any) -> None:
    """Raise what ``client`` raises for a synchronous request it cannot make: its own
    ``request`` is called where that is one of the SDK's methods that refuse before any
    I/O (``HTTPXClient``'s without a sync client, ``AIOHTTPClient``'s, the base class's),
    so the error is the SDK's own, word for word. A subclass's ``request`` is its own
    business: never called."""
    request = type(client).request
    if (
        (request is stripe.HTTPXClient.request and client._client is None)
        or request is stripe.AIOHTTPClient.request
        or request is stripe.HTTPClient.request
    ):
        client.request(method, url, headers, post_data)
        msg = f"{type(client).__name__}.request was expected to refuse a synchronous request."
        raise AssertionError(msg)


def _refuse_async(client: Any) -> None:
    """Raise what ``client`` raises for an asynchronous request it cannot make: one whose
    class has no ``request_async`` and no async fallback client to hand it to."""
    while type(client).request_async is stripe.HTTPClient.request_async:
        client = getattr(client, "_async_fallback_client", None)
        if client is None:
            raise NotImplementedError("HTTPClient subclasses must implement `request_async`")


class _AsTheClientWould:
    """The mock's client in place of the caller's own ``chosen`` one: a request ``chosen``
    could not make is refused as it would refuse it; any other goes to the mock."""

    __slots__ = ("_chosen", "_mock")

    def __init__(self, mock: StripeHTTPClient, chosen: Any) -> None:
        self._mock = mock
        self._chosen = chosen

    def __getattr__(self, name: str) -> Any:
        return getattr(self._mock, name)

    def request_with_retries(
        self, method: str, url: str, headers: Any, post_data: Any = None, *args: Any, **kwargs: Any
    ) -> Any:
        _refuse_sync(self._chosen, method, url, headers, post_data)
        return self._mock.request_with_retries(method, url, headers, post_data, *args, **kwargs)

    def request_stream_with_retries(
        self, method: str, url: str, headers: Any, post_data: Any = None, *args: Any, **kwargs: Any
    ) -> Any:
        _refuse_sync(self._chosen, method, url, headers, post_data)
        return self._mock.request_stream_with_retries(
            method, url, headers, post_data, *args, **kwargs
        )

    def request_with_retries_async(self, *args: Any, **kwargs: Any) -> Awaitable[Any]:
        return self._checked_async(self._mock.request_with_retries_async, args, kwargs)

    def request_stream_with_retries_async(self, *args: Any, **kwargs: Any) -> Awaitable[Any]:
        return self._checked_async(self._mock.request_stream_with_retries_async, args, kwargs)

    async def _checked_async(
        self, send: Callable[..., Awaitable[Any]], args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Any:
        _refuse_async(self._chosen)
        return await send(*args, **kwargs)


@functools.lru_cache(maxsize=64)
def _is_local(address: object) -> bool:
    """Whether an API address names this machine: a server the caller chose on purpose."""
    if not isinstance(address, str):
        return False
    try:
        host = urlsplit(address).hostname
    except ValueError:
        return False
    return host in ("localhost", "::1") or bool(host and host.startswith("127."))


class _MockHTTPClient(StripeHTTPClient):
    name = "customer_core mock_stripe"


class StripeMock:
    """One mock: a context manager, a decorator (of sync and async functions) and a
    ``start()``/``stop()`` pair. Build it with ``mock_stripe()``."""

    def __init__(
        self, service: CustomerService | None = None, *, api_keys: Iterable[str] | None = None
    ) -> None:
        if service is not None and not isinstance(service, CustomerService):
            msg = f"service must be a CustomerService or None, not {service!r}."
            raise TypeError(msg)
        self._given = service
        self._api_keys = check_api_keys(api_keys)
        self._service = service
        self._http_client: StripeHTTPClient | None = None

    @property
    def service(self) -> CustomerService:
        """The service requests go to: the one given, else the fresh one of the last start
        (it stays after ``stop()``); before a start without one given, a RuntimeError."""
        if self._service is None:
            msg = (
                "This mock_stripe is not started, so it has no service yet: start it first "
                "(with mock_stripe() as service: ...), or give it one (mock_stripe(service))."
            )
            raise RuntimeError(msg)
        return self._service

    @property
    def active(self) -> bool:
        """Whether this mock is started and not stopped yet."""
        return self._http_client is not None

    def start(self) -> CustomerService:
        """Route the stripe package's requests here until ``stop()``; return the service.

        Without a service given, each start makes a fresh in-memory one, so a decorated
        test begins empty every time it runs.
        """
        if self._http_client is not None:
            msg = "This mock_stripe is already started; stop it first or use another one."
            raise RuntimeError(msg)
        service = self._given if self._given is not None else CustomerService(MemoryStore())
        self._http_client = _MockHTTPClient(service, self._api_keys)
        self._service = service
        try:
            _Routing.push(self)
        except BaseException:
            self._http_client = None
            raise
        return service

    def stop(self) -> None:
        """Stop routing here; the stripe package is as before once no mock is active."""
        if self._http_client is None:
            msg = "This mock_stripe is not started."
            raise RuntimeError(msg)
        _Routing.remove(self)
        self._http_client = None

    def __enter__(self) -> CustomerService:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def __call__(self, function: Function) -> Function:
        """Decorate a test function: every call runs inside a fresh activation."""

        def fresh() -> StripeMock:
            return StripeMock(self._given, api_keys=self._api_keys)

        if inspect.iscoroutinefunction(function):

            @functools.wraps(function)
            async def run_async(*args: Any, **kwargs: Any) -> Any:
                with fresh():
                    return await function(*args, **kwargs)

            return cast(Function, run_async)

        @functools.wraps(function)
        def run(*args: Any, **kwargs: Any) -> Any:
            with fresh():
                return function(*args, **kwargs)

        return cast(Function, run)


def mock_stripe(
    service: CustomerService | None = None, *, api_keys: Iterable[str] | None = None
) -> StripeMock:
    """Send every request the ``stripe`` package makes to ``service`` (default: a fresh
    in-memory CustomerService per start), in this process; nothing reaches the network.

    Use it as ``with mock_stripe() as service:``, as ``@mock_stripe()`` on a test
    function (sync or async), or ``mock = mock_stripe(); mock.start() ... mock.stop()``.
    Mocks nest: the innermost active one answers. ``api_keys`` are the keys requests
    must carry (default: any key). A path customer_core does not emulate, such as
    ``/v1/charges``, is answered with a 404 ``invalid_request_error`` that says so.
    """
    return StripeMock(service, api_keys=api_keys)
