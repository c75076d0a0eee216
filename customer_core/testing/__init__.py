"""Tools for testing code that uses customer_core, and for proving a new store.

``StoreContract`` is the store contract suite (needs pytest): subclass it, implement
``make_store`` and pytest runs every contract test against your store. ``FakeClock``
is a settable clock for deterministic ``created`` values. ``StripeHTTPClient`` plugs a
CustomerService into the official ``stripe`` SDK with no server, and ``mock_stripe()``
sends every request of the ``stripe`` package to one (both need ``stripe``).
"""

import pkgutil
from typing import TYPE_CHECKING

from .fakes import FakeClock

if TYPE_CHECKING:  # the real types for a type checker; at run time imported on first use
    from .mock import StripeMock, mock_stripe
    from .store_contract import StoreContract
    from .stripe_client import StripeHTTPClient

__all__ = [
    "CONTRACT_MODULES",
    "FakeClock",
    "StoreContract",
    "StripeHTTPClient",
    "StripeMock",
    "mock_stripe",
]

CONTRACT_MODULES: tuple[str, ...] = tuple(
    sorted(
        f"{__name__}.{module.name}"
        for module in pkgutil.iter_modules(__path__)
        if module.name == "store_contract" or module.name.startswith("contract_")
    )
)
"""The modules of the store contract suite (``store_contract`` and its ``contract_*``
mixins), for ``pytest.register_assert_rewrite(*CONTRACT_MODULES)`` before they are imported;
the customer_core pytest plugin registers them itself."""


def __getattr__(name: str) -> object:
    # Imported lazily so that FakeClock works without pytest or stripe installed.
    if name == "StoreContract":
        from .store_contract import StoreContract

        return StoreContract
    if name == "StripeHTTPClient":
        from .stripe_client import StripeHTTPClient

        return StripeHTTPClient
    if name in ("StripeMock", "mock_stripe"):
        from . import mock

        return getattr(mock, name)
    raise AttributeError(name)
