"""Tools for testing code that uses customer_core, and for proving a new store.

``StoreContract`` is the store contract suite (needs pytest): subclass it, implement
``make_store`` and pytest runs every contract test against your store. ``FakeClock``
is a settable clock for deterministic ``created`` values. ``StripeHTTPClient`` plugs a
CustomerService into the official ``stripe`` SDK with no server, and ``mock_stripe()``
sends every request of the ``stripe`` package to one (both need ``stripe``).
"""

from .fakes import FakeClock

__all__ = ["FakeClock", "StoreContract", "StripeHTTPClient", "StripeMock", "mock_stripe"]


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
