"""A Stripe-compatible HTTP server for customers (install the ``server`` extra).

``StripeAPI`` (api.py) answers requests given as plain values; ``create_app`` (app.py)
wraps it as an ASGI app; ``build_server`` runs it on uvicorn, bound to 127.0.0.1 by default.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .api import API_VERSION, StripeAPI, mask_key
from .forms import decode
from .timeouts import RequestTimeouts

if TYPE_CHECKING:
    from .app import CustomerCoreApp, create_app
    from .server import build_server

__all__ = [
    "API_VERSION",
    "CustomerCoreApp",
    "RequestTimeouts",
    "StripeAPI",
    "build_server",
    "create_app",
    "decode",
    "mask_key",
]

_EXTRA = 'the HTTP server needs the "server" extra: pip install "customer-core[server]"'


def __getattr__(name: str) -> Any:
    # Starlette and uvicorn are optional: import them only when the server is used.
    try:
        if name in ("CustomerCoreApp", "create_app"):
            from . import app

            return getattr(app, name)
        if name == "build_server":
            from .server import build_server

            return build_server
    except ImportError as error:
        raise ImportError(f"{_EXTRA} ({error})") from error
    raise AttributeError(name)
