"""Which index can answer a query: a store asks, then checks every candidate with ``matches``.

An AND query is narrowed by its ``created`` comparisons, which bound the key range, and
by one positive clause, which picks an index: metadata first (the most selective), then
the words of email, then of name or phone. An OR query is narrowed only when an index
answers each of its clauses (``index_hints``): its candidates are then the union of those
lookups; one clause no index holds (a negation, ``~``, ``created``, ``null``) means a scan.

>>> from .parser import parse
>>> index_hint(parse('metadata["plan"]:"Gold" name~"amy"'))
('metadata', 'plan', 'gold')
>>> index_hint(parse('name:"Ada Lovelace" email:"Ada@Example.com"'))
('words', 'email', ('ada@example.com',))
>>> index_hint(parse('name:"Augusta Ada King"'))
('words', 'name', ('augusta ada', 'ada king'))
>>> index_hints(parse('email:"a@x.io" OR metadata["plan"]:"Gold"'))
[('words', 'email', ('a@x.io',)), ('metadata', 'plan', 'gold')]
>>> index_hints(parse('email:"a@x.io" OR -name:"Amy"')) is None
True
>>> created_bounds(parse("created>10 created<=20"))
(11, 20)
>>> substring_hint(parse('name~"Rock" created>10'))
'rock'
"""

from __future__ import annotations

from typing import Union

from .ast import STRING_FIELDS, Clause, Query
from .evaluate import field_words, phrase_terms, value_key

__all__ = ["IndexHint", "created_bounds", "index_hint", "index_hints", "substring_hint"]

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


_PREFERENCE = ("metadata", "email", "name", "phone")
"""The indexed fields, the most selective first."""


def index_hint(query: Query) -> IndexHint:
    """The index that holds every match of an AND query, or None."""
    if query.conjunction != "AND":
        return None
    hints = [hint for hint in map(_clause_hint, query.clauses) if hint is not None]
    if not hints:
        return None
    return min(
        hints, key=lambda hint: _PREFERENCE.index(hint[0] if hint[0] == "metadata" else hint[1])
    )


def index_hints(query: Query) -> list[IndexHint] | None:
    """One index per clause of an OR query whose every clause an index answers (its
    matches are the union of their keys), else None."""
    if query.conjunction != "OR":
        return None
    hints = [_clause_hint(clause) for clause in query.clauses]
    return None if None in hints else hints


def _clause_hint(clause: Clause) -> IndexHint:
    """The index holding every record a positive ``:`` clause on an indexed field matches."""
    if clause.negated or clause.value is None or clause.operator != ":":
        return None
    if clause.field == "metadata" and clause.key is not None:
        return ("metadata", clause.key, value_key(str(clause.value)))
    if clause.field in STRING_FIELDS:
        words = field_words(clause.field, str(clause.value))
        return ("words", clause.field, tuple(phrase_terms(words)))
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
