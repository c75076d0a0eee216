"""The pytest plugin: fixtures for testing code that calls Stripe (docs/testing.md).

Installed with customer_core (the ``pytest11`` entry point ``customer_core``); turn it off
with ``-p no:customer_core``. Fixtures:

- ``customer_service``: a fresh in-memory CustomerService, frozen clock, fixed seed.
- ``customer_clock``: its FakeClock, to ``advance()``.
- ``stripe_client``: a ``stripe.StripeClient`` wired to that service in-process.
- ``stripe_mock``: ``mock_stripe()`` on that service around the test (a ``StripeMock``).
- ``customer_server``: a real ``customer-core serve`` on a free 127.0.0.1 port, started
  once per run and reset before each test (``CustomerServer``: ``base_url``, ``api_key``).

``--customer-core-store=sqlite`` runs them all on a temporary SQLite file instead.
"""

from __future__ import annotations

import http.client
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import pytest

from . import CONTRACT_MODULES

# Contract failures in a store's own test suite show the values compared.
pytest.register_assert_rewrite(*CONTRACT_MODULES)

# customer_core itself is imported by the fixtures, when a test asks for one: loading
# the plugin costs every pytest run in the environment next to nothing.
if TYPE_CHECKING:
    import stripe

    from ..service import CustomerService
    from .fakes import FakeClock
    from .mock import StripeMock

__all__ = [
    "API_KEY",
    "NOW",
    "SEED",
    "CustomerServer",
    "customer_clock",
    "customer_server",
    "customer_service",
    "stripe_client",
    "stripe_mock",
]

NOW = 1_700_000_000
"""Where the fixtures' clock stands: 2023-11-14 22:13:20 UTC."""
SEED = 42
"""The fixtures' seed: ids, invoice prefixes and request ids are the same every run."""
API_KEY = "sk_test_customer_core"
"""The key of ``stripe_client`` and ``customer_server``."""

_STORE_OPTION = "--customer-core-store"
_START_TIMEOUT = 30.0


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("customer_core", "customer_core fixtures")
    group.addoption(
        _STORE_OPTION,
        choices=("memory", "sqlite"),
        default="memory",
        help="store behind the customer_core fixtures: memory (default) or a temporary SQLite file",
    )


def _store_kind(config: pytest.Config) -> str:
    return str(config.getoption(_STORE_OPTION))


@pytest.fixture
def customer_clock() -> FakeClock:
    """The clock of ``customer_service``: stands at ``NOW`` until the test moves it."""
    from .fakes import FakeClock

    return FakeClock(NOW)


@pytest.fixture
def customer_service(
    request: pytest.FixtureRequest, customer_clock: FakeClock
) -> Iterator[CustomerService]:
    """A fresh CustomerService with a frozen clock and seed ``SEED``: the same calls give
    the same ids, prefixes and ``created`` values every run."""
    from ..service import CustomerService
    from ..store import MemoryStore, SQLiteStore, Store

    store: Store
    if _store_kind(request.config) == "sqlite":
        tmp_path: Path = request.getfixturevalue("tmp_path")
        template: Path = request.getfixturevalue("_sqlite_template")
        # A copy of an empty store file made once per run: making the schema (every
        # migration) costs ten to twenty times as much as copying it.
        path = tmp_path / "customers.db"
        shutil.copy(template, path)  # its mode too: the owner's alone
        store = SQLiteStore(path, synchronous="NORMAL")
    else:
        store = MemoryStore()
    with store:
        yield CustomerService(store, clock=customer_clock, seed=SEED)


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty store file of the current schema, closed (its WAL checkpointed and gone),
    which every SQLite ``customer_service`` starts as a copy of."""
    from ..store import SQLiteStore
    from ..store.sqlite import SIDE_FILE_SUFFIXES

    path = tmp_path_factory.mktemp("customer_core_template") / "empty.db"
    SQLiteStore(path, synchronous="NORMAL").close()
    left = [suffix for suffix in SIDE_FILE_SUFFIXES if os.path.exists(f"{path}{suffix}")]
    if left:  # a copy of the file alone would miss what they hold
        msg = f"customer_service: the template store left {left} files beside it"
        raise RuntimeError(msg)
    return path


@pytest.fixture
def _seeded_idempotency_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    """The SDK makes an Idempotency-Key for every POST from ``os.urandom``, and the store
    keeps it (the answer echoes it): draw them from ``SEED`` instead, for the test."""
    from stripe import _api_requestor

    if not hasattr(_api_requestor, "_generate_idempotency_key"):
        return  # another SDK version: its keys stay random
    keys = random.Random(f"idempotency keys {SEED}")
    monkeypatch.setattr(
        _api_requestor,
        "_generate_idempotency_key",
        lambda: str(uuid.UUID(int=keys.getrandbits(128), version=4)),
    )


@pytest.fixture
def stripe_client(
    customer_service: CustomerService, _seeded_idempotency_keys: None
) -> stripe.StripeClient:
    """The official SDK's ``StripeClient``, talking to ``customer_service`` in-process."""
    import stripe

    from .stripe_client import StripeHTTPClient

    return stripe.StripeClient(API_KEY, http_client=StripeHTTPClient(customer_service))


_STRIPE_SETTINGS = (
    "api_key",
    "client_id",
    "api_base",
    "connect_api_base",
    "upload_api_base",
    "meter_events_api_base",
    "api_version",
    "major_api_version",
    "stripe_account",
    "verify_ssl_certs",
    "proxy",
    "_default_proxy",
    "default_http_client",
    "app_info",
    "enable_telemetry",
    "max_network_retries",
    "ca_bundle_path",
    "log",
)
"""The stripe package's module settings (global style) that ``stripe_mock`` restores: every
one its ``__init__`` declares (``set_app_info`` writes ``app_info``; the default client
remembers the proxy it was made with in ``_default_proxy``)."""


@pytest.fixture
def stripe_mock(
    customer_service: CustomerService,
    _seeded_idempotency_keys: None,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[StripeMock]:
    """``mock_stripe(customer_service)`` around the test: every request of the stripe
    package (``stripe.Customer.create``, any ``StripeClient``) goes to the service. The
    package's own settings a test may set (``stripe.api_key`` and the like) are put back
    after it, so that no test sees another's."""
    import stripe

    from .mock import mock_stripe

    for name in _STRIPE_SETTINGS:
        if hasattr(stripe, name):
            monkeypatch.setattr(stripe, name, getattr(stripe, name))
    mock = mock_stripe(customer_service)
    with mock:
        yield mock


# --- customer_server ------------------------------------------------------------------------


@dataclass(frozen=True)
class CustomerServer:
    """A running ``customer-core serve``: point any Stripe SDK or HTTP client at it."""

    base_url: str
    """``http://127.0.0.1:PORT``: the SDK's ``api`` base address."""
    api_key: str
    """The key requests must carry (``Authorization: Bearer ...``)."""

    def stripe_client(self, **options: Any) -> stripe.StripeClient:
        """A ``StripeClient`` for this server (``options`` go to its constructor)."""
        import stripe

        return stripe.StripeClient(self.api_key, base_addresses={"api": self.base_url}, **options)

    def reset(self) -> None:
        """Put the server back as it started: no customers, ids from the beginning."""
        status, body = _post(self.base_url, "/_customer_core/reset", self.api_key)
        if status != 200:
            msg = f"customer_server: the reset failed with {status}: {body!r}"
            raise RuntimeError(msg)


def _post(base_url: str, path: str, api_key: str) -> tuple[int, bytes]:
    host, port = base_url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        connection.request("POST", path, headers={"Authorization": f"Bearer {api_key}"})
        answer = connection.getresponse()
        return answer.status, answer.read()
    finally:
        connection.close()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class _ServerProcess:
    """One ``customer-core serve`` subprocess for the test run."""

    def __init__(self, store_kind: str, directory: Path) -> None:
        self.port = _free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        data = ["--memory"] if store_kind == "memory" else ["--db", str(directory / "server.db")]
        command = [
            sys.executable,
            "-m",
            "customer_core",
            "serve",
            "--port",
            str(self.port),
            *data,
            "--synchronous",
            "NORMAL",
            "--seed",
            str(SEED),
            "--frozen-time",
            str(NOW),
            "--enable-reset",
            "--log-level",
            "warning",
            "--watch-stdin",  # our pipe closes when this process dies: so does the server
        ]
        self._log: IO[bytes] = tempfile.TemporaryFile()
        environment = {**os.environ, "CUSTOMER_CORE_API_KEY": API_KEY}
        self._process = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=environment,
        )
        try:
            self._wait_until_ready()
        except BaseException:
            self.stop()
            raise

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + _START_TIMEOUT
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                msg = f"customer_server: customer-core serve exited early:\n{self._output()}"
                raise RuntimeError(msg)
            try:
                status, _ = _post(self.base_url, "/_customer_core/reset", API_KEY)
            except OSError:
                time.sleep(0.05)
                continue
            if status == 200:
                return
        msg = f"customer_server: no answer within {_START_TIMEOUT} s:\n{self._output()}"
        raise RuntimeError(msg)

    def _output(self) -> str:
        self._log.seek(0)
        return self._log.read().decode(errors="replace")

    def stop(self) -> None:
        self._process.terminate()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait(timeout=10)
        if self._process.stdin is not None:
            self._process.stdin.close()
        self._log.close()


@pytest.fixture(scope="session")
def _customer_server_process(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[_ServerProcess]:
    process = _ServerProcess(
        _store_kind(request.config), tmp_path_factory.mktemp("customer_server")
    )
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture
def customer_server(_customer_server_process: _ServerProcess) -> CustomerServer:
    """The run's ``customer-core serve``, reset to empty (and its ids to their start)
    before this test, through its test-only ``POST /_customer_core/reset``."""
    server = CustomerServer(_customer_server_process.base_url, API_KEY)
    server.reset()
    return server
