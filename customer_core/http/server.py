"""Run the app on uvicorn: 127.0.0.1 by default, an API key required, keys never logged."""

from __future__ import annotations

import logging
import os
import re
import socket
import threading
from collections.abc import Iterable
from urllib.parse import quote, quote_plus

import uvicorn

from ..service import CustomerService, Snapshot
from ..store.base import Store
from .app import CustomerCoreApp, create_app
from .protocols import HTTP, RequestTimeouts, http_protocol
from .reset import ResettableAPI

__all__ = ["DEFAULT_HOST", "DEFAULT_PORT", "bound_socket", "build_server", "stop_when_stdin_ends"]

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 12111


_SECRET = re.compile(
    # a query parameter whose name speaks of a key, secret, token, password or auth ...
    r"((?:^|[?&;])[^=&;\s]*(?:key|secret|token|pass|auth)[^=&;\s]*=)[^&;\s]*"
    # ... an Authorization header's credentials (in a traceback's message, a repr) ...
    r"|(\b(?-i:Basic|Bearer)\s+)[^\s'\",;]{8,}"
    # ... a URL's password (a webhook endpoint's https://user:pass@host/) ...
    r"|(://[^/?#@\s:]*:)[^/?#@\s]*(?=@)"
    # ... and anything shaped like a Stripe secret key or signing secret, anywhere
    r"|(?:sk|rk)_(?:test|live)_[^&;/\s'\",]+|whsec_[^&;/\s'\",]+",
    re.IGNORECASE,
)
_KEY_BOUNDS = "/?&=;:#\\s'\",\\\\"
"""What may stand before and after a server's own key for it to be masked: the delimiters
of a request target, and of words in a traceback's text (spaces, quotes, escaped quotes,
commas)."""
_TRACEBACKS = logging.Formatter()
"""Formats a record's traceback (as every ``logging.Formatter`` would) to mask it."""


class _SecretsHidden(logging.Filter):
    """Log lines with secrets in their arguments (the request target) and in their traceback
    masked: a client that wrongly puts a key in the URL (``?api_key=sk_test_...``, or a
    server's own key under any name) must not find it in the server's log (the access log
    of ``--log-level debug``, the API's error lines), nor may a bug's exception message that
    quotes a key or a header (the traceback a 500 logs)."""

    def __init__(self) -> None:
        super().__init__()
        self._forms: set[str] = set()
        self._keys: re.Pattern[str] | None = None

    def add_keys(self, keys: Iterable[str]) -> None:
        """Mask ``keys`` (a server's API keys, as given or percent-encoded) wherever one is a
        whole path segment, query value or word: a short key is not masked inside other
        words."""
        self._forms.update(
            form for key in keys if key for form in (key, quote(key, safe=""), quote_plus(key))
        )
        if self._forms:
            longest_first = sorted(self._forms, key=len, reverse=True)
            alternatives = "|".join(map(re.escape, longest_first))
            self._keys = re.compile(f"(?<![^{_KEY_BOUNDS}])(?:{alternatives})(?![^{_KEY_BOUNDS}])")

    def _hidden(self, text: str) -> str:
        text = _SECRET.sub(lambda found: (found[1] or found[2] or found[3] or "") + "***", text)
        return text if self._keys is None else self._keys.sub("***", text)

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple):
            record.args = tuple(self._hidden(arg) if isinstance(arg, str) else arg for arg in args)
        if record.exc_info and record.exc_info[0] is not None and not record.exc_text:
            # Formatters print exc_text when it is set (formatting the traceback once).
            record.exc_text = _TRACEBACKS.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self._hidden(record.exc_text)
        if record.stack_info:
            record.stack_info = self._hidden(record.stack_info)
        return True


_SECRETS_HIDDEN = _SecretsHidden()
# The access log's request target, the path in the API's error lines (a store failure, a
# bug) and a bug's traceback there or in uvicorn's own error lines (an app that raised):
# a client may have put a key in any of them.
for _name in ("uvicorn.access", "uvicorn.error", "customer_core.http"):
    logging.getLogger(_name).addFilter(_SECRETS_HIDDEN)


class _Server(uvicorn.Server):
    """uvicorn's server, whose shutdown tells the store to stop waiting for locks held
    elsewhere: a write still waiting for another process's write lock was never
    acknowledged, so it is answered 503 at once instead of holding the exit up for the
    whole busy timeout; writes already under way finish and are answered first."""

    def __init__(self, config: uvicorn.Config, store: Store) -> None:
        super().__init__(config)
        self.store = store

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        with self.store.waits_abandoned():
            await super().shutdown(sockets=sockets)


def build_server(
    service: CustomerService,
    api_keys: Iterable[str],
    *,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    log_level: str = "info",
    reset_to: Snapshot | None = None,
    http: HTTP = "auto",
    timeouts: RequestTimeouts | None = None,
) -> uvicorn.Server:
    """A uvicorn server for ``service``: ``run()`` serves until interrupted
    (``run(sockets=[...])`` on sockets the caller bound). ``reset_to`` adds the test-only
    ``POST /_customer_core/reset`` route, which restores that snapshot. ``http`` picks the
    HTTP parser (``auto``: httptools when installed, else h11); ``timeouts`` how long a
    request's head and body may take to arrive and an idle connection is kept (default
    ``RequestTimeouts()``)."""
    timeouts = timeouts or RequestTimeouts()
    api_keys = list(api_keys)
    _SECRETS_HIDDEN.add_keys(api_keys)
    app = (
        create_app(service, api_keys)
        if reset_to is None
        else CustomerCoreApp(ResettableAPI(service, list(api_keys), reset_to))
    )
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level=log_level,
        # Access logs name the method, path and status; never headers, so never keys.
        access_log=log_level == "debug",
        lifespan="on",
        http=http_protocol(http, timeouts),
        timeout_keep_alive=timeouts.keep_alive,
    )
    return _Server(config, service.store)


def bound_socket(host: str = DEFAULT_HOST, port: int = 0) -> socket.socket:
    """A socket bound to ``host`` (IPv4 or IPv6); port 0 picks a free one (read it back
    with getsockname). Binding fails here, with an OSError, when the port is in use."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except BaseException:
        sock.close()
        raise
    return sock


def stop_when_stdin_ends(server: uvicorn.Server) -> None:
    """Stop ``server`` as SIGTERM would once its process's stdin ends (``serve
    --watch-stdin``): a parent that keeps a pipe to it open (the pytest plugin's
    ``customer_server``) takes the server along when it dies, even by SIGKILL, which no
    handler sees. The delivery child watches serve's pipe the same way
    (``customer_core.events.process``)."""

    def watch() -> None:
        try:
            while os.read(0, 4096):
                pass  # a byte means nothing here: only the end does
        except OSError:
            pass  # stdin closed or unreadable: the parent's side is gone as well
        server.should_exit = True

    threading.Thread(target=watch, name="customer_core stdin watch", daemon=True).start()
