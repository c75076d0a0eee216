"""Stores: where customer records live. ``Store`` is the port; the rest implement it."""

from .base import KeyRange, Record, SortKey, Store
from .memory import MemoryStore
from .sqlite import SQLiteStore

__all__ = ["KeyRange", "MemoryStore", "Record", "SQLiteStore", "SortKey", "Store"]
