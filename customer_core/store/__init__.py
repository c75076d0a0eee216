"""Stores: where customer records live. ``Store`` is the port; the rest implement it."""

from .base import KeyRange, Record, SortKey, Store
from .memory import MemoryStore

__all__ = ["KeyRange", "MemoryStore", "Record", "SortKey", "Store"]
