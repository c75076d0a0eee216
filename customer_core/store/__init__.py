"""Stores: where customer records live. ``Store`` is the port; the rest implement it."""

from .base import Checkpoint, KeyRange, Record, SortKey, Store
from .memory import MemoryStore
from .sqlite import SQLiteStore

__all__ = ["Checkpoint", "KeyRange", "MemoryStore", "Record", "SQLiteStore", "SortKey", "Store"]
