"""customer_core: Stripe's Customer resource, faithfully and fast, in-process.

>>> from customer_core import CustomerService, MemoryStore
>>> svc = CustomerService(MemoryStore())
>>> customer = svc.create(email="jenny@example.com", metadata={"order_id": "6735"})
>>> svc.retrieve(customer.id).metadata
{'order_id': '6735'}
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the real names for type checkers; at run time each is imported on first use
    from .errors import (
        APIError,
        CustomerCoreError,
        IdempotencyError,
        InvalidRequestError,
        StoreError,
    )
    from .events import Event, RetryPolicy
    from .models import Customer, DeletedCustomer, ListPage, SearchPage
    from .service import CustomerService
    from .store import MemoryStore, SQLiteStore, Store
    from .store.postgres import PostgresStore
    from .tax_ids import DeletedTaxId, TaxId, TaxIdList, TaxIdService
    from .transfer import TransferError, export_customers, import_customers, import_into_new_file

__version__ = "0.1.0"

_HOMES = {
    "APIError": "errors",
    "CustomerCoreError": "errors",
    "IdempotencyError": "errors",
    "InvalidRequestError": "errors",
    "StoreError": "errors",
    "Event": "events",
    "RetryPolicy": "events",
    "Customer": "models",
    "DeletedCustomer": "models",
    "ListPage": "models",
    "SearchPage": "models",
    "CustomerService": "service",
    "MemoryStore": "store",
    "PostgresStore": "store",  # needs the optional extra customer-core[postgres]
    "SQLiteStore": "store",
    "Store": "store",
    "DeletedTaxId": "tax_ids",
    "TaxId": "tax_ids",
    "TaxIdList": "tax_ids",
    "TaxIdService": "tax_ids",
    "TransferError": "transfer",
    "export_customers": "transfer",
    "import_customers": "transfer",
    "import_into_new_file": "transfer",
}
"""Where each public name lives. They are imported on first use (PEP 562), so importing a
light submodule (the pytest plugin, which pytest loads in every run of an environment
that has customer_core) does not pay for pydantic and the whole service (0.4 s)."""

__all__ = [
    "APIError",
    "Customer",
    "CustomerCoreError",
    "CustomerService",
    "DeletedCustomer",
    "DeletedTaxId",
    "Event",
    "IdempotencyError",
    "InvalidRequestError",
    "ListPage",
    "MemoryStore",
    "PostgresStore",
    "RetryPolicy",
    "SQLiteStore",
    "SearchPage",
    "Store",
    "StoreError",
    "TaxId",
    "TaxIdList",
    "TaxIdService",
    "TransferError",
    "__version__",
    "export_customers",
    "import_customers",
    "import_into_new_file",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{home}"), name)
    globals()[name] = value  # later lookups are plain module attributes
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_HOMES})
