"""Stores: where customer records live. ``Store`` is the port; the rest implement it.

``PostgresStore`` needs the optional extra ``customer-core[postgres]`` (psycopg); it is
imported on first use, so this package imports without it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .base import Checkpoint, KeyRange, Record, SortKey, Store
from .memory import MemoryStore
from .sqlite import SQLiteStore

if TYPE_CHECKING:
    from .postgres import PostgresStore

__all__ = [
    "Checkpoint",
    "KeyRange",
    "MemoryStore",
    "PostgresStore",
    "Record",
    "SQLiteStore",
    "SortKey",
    "Store",
]


def __getattr__(name: str) -> Any:
    if name == "PostgresStore":
        try:
            from .postgres import PostgresStore
        except ImportError as error:
            msg = (
                "PostgresStore needs psycopg 3 and psycopg_pool: "
                "pip install 'customer-core[postgres]'"
            )
            raise ImportError(msg) from error
        return PostgresStore
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
