"""A customer's search index entries, as every store's indexes hold them: the words of its
string fields and its metadata values, each with the customer's ``created`` and id.

One function appends them to lists for a batch of customers, written as plain loops
(no generator, no set per field): an import computes them for a million customers, and
the memory store's writes and the SQLite store's bulk insert share it.
"""

from __future__ import annotations

import sys
from typing import Any

from ..search.ast import STRING_FIELDS
from ..search.evaluate import index_terms, value_key
from .base import Record

__all__ = ["add_index_entries"]

_WORD_FIELDS = tuple(field for field in STRING_FIELDS if field != "email")
"""The string fields whose words and pairs of words are indexed (an email is one word)."""


def add_index_entries(
    record: Record, words: list[tuple[Any, ...]], metadata: list[tuple[Any, ...]]
) -> None:
    """Append the record's word entries ``(field, term, created, id)`` to ``words``
    (``index_terms`` of email, name and phone; terms interned, since names repeat) and its
    metadata entries ``(key, value_key(value), created, id)`` to ``metadata``."""
    created, customer_id = record["created"], record["id"]
    add_word, intern = words.append, sys.intern
    email = record.get("email")
    if email:  # index_terms("email", email), without the call and the set
        add_word(("email", email.lower(), created, customer_id))
    for field in _WORD_FIELDS:
        text = record.get(field)
        if text:
            for term in index_terms(field, text):
                add_word((field, intern(term), created, customer_id))
    found = record.get("metadata")
    if found:
        add_metadata = metadata.append
        for key, value in found.items():
            add_metadata((key, value_key(value), created, customer_id))
