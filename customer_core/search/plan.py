"""Which index can answer a query: a store asks, then checks every candidate with ``matches``.

Only AND queries are narrowed (an OR query may match records no single index holds):
``created`` comparisons bound the key range, and one positive clause picks an index,
metadata first (the most selective), then the words of email, then of name or phone.

>>> from .parser import parse
>>> index_hint(parse('metadata["plan"]:"Gold" name~"amy"'))
('metadata', 'plan', 'gold')
>>> index_hint(parse('name:"Ada Lovelace" email:"Ada@Example.com"'))
('words', 'email', ('ada@example.com',))
>>> index_hint(parse('name:"Augusta Ada King"'))
('words', 'name', ('augusta ada', 'ada king'))
>>> created_bounds(parse("created>10 created<=20"))
(11, 20)
>>> substring_hint(parse('name~"Rock" created>10'))
'rock'
"""

from __future__ import annotations

from typing import Union

from .ast import Query
from .evaluate import field_words, phrase_terms, value_key

__all__ = ["IndexHint", "created_bounds", "index_hint", "substring_hint"]

IndexHint = Union[tuple[str, str, str], tuple[str, str, tuple[str, ...]], None]  # noqa: UP007 (a runtime alias on 3.10)
"""``("metadata", key, lowercase value)``, ``("words", field, the phrase's index terms)``
or None (scan). A phrase without words matches nothing, so its hint finds no candidates."""


def created_bounds(query: Query) -> tuple[int | None, int | None]:
    """Inclusive ``(lowest, highest)`` created values an AND query allows (None: open)."""
    lowest: int | None = None
    highest: int | None = None
    if query.conjunction != "AND":
        return lowest, highest
    for clause in query.clauses:
        if clause.field != "created" or clause.negated or clause.value is None:
            continue
        value = int(clause.value)
        low = {":": value, "=": value, ">": value + 1, ">=": value}.get(clause.operator)
        high = {":": value, "=": value, "<": value - 1, "<=": value}.get(clause.operator)
        if low is not None:
            lowest = low if lowest is None else max(lowest, low)
        if high is not None:
            highest = high if highest is None else min(highest, high)
    return lowest, highest


def index_hint(query: Query) -> IndexHint:
    """The index that holds every match of an AND query, or None."""
    if query.conjunction != "AND":
        return None
    positive = [
        c for c in query.clauses if not c.negated and c.value is not None and c.operator == ":"
    ]
    for clause in positive:
        if clause.field == "metadata" and clause.key is not None:
            return ("metadata", clause.key, value_key(str(clause.value)))
    for field in ("email", "name", "phone"):
        for clause in positive:
            if clause.field == field:
                words = field_words(field, str(clause.value))
                return ("words", field, tuple(phrase_terms(words)))
    return None


def substring_hint(query: Query) -> str | None:
    """The lowercase text of a positive ``~`` clause of an AND query (every match contains
    it, case-insensitively, in some field), or None: a store may skip records without it."""
    if query.conjunction != "AND":
        return None
    for clause in query.clauses:
        if clause.operator == "~" and not clause.negated and clause.value is not None:
            return str(clause.value).lower()
    return None
