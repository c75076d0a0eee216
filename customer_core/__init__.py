"""customer_core: Stripe's Customer resource, faithfully and fast, in-process.

>>> from customer_core import CustomerService, MemoryStore
>>> svc = CustomerService(MemoryStore())
>>> customer = svc.create(email="jenny@example.com", metadata={"order_id": "6735"})
>>> svc.retrieve(customer.id).metadata
{'order_id': '6735'}
"""

from typing import TYPE_CHECKING, Any

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
from .tax_ids import DeletedTaxId, TaxId, TaxIdList, TaxIdService
from .transfer import TransferError, export_customers, import_customers, import_into_new_file

if TYPE_CHECKING:
    from .store.postgres import PostgresStore

__version__ = "0.1.0"

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
    # PostgresStore needs the optional extra customer-core[postgres]: imported on first use.
    if name == "PostgresStore":
        from . import store

        return store.PostgresStore
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
