"""Evaluate a Query against a customer record: the semantics every store must share.

- ``:`` on a string field (email, name, phone) is a case-insensitive *word prefix* match:
  the query's words must be the first words of the value, in order
  (``name:"one two"`` matches "One Two" and "one two three", not "zero one two").
  Words are runs of letters and digits, so ``email:"amy@x.io"`` matches "AMY@x.io".
- ``~`` is a case-insensitive substring match (at least 3 characters).
- ``metadata["k"]:"v"`` is a case-insensitive match of the whole value.
- ``created`` compares integers; ``:`` and ``=`` mean equality.
- ``field:null`` holds when the field is empty (null, ``""`` or an absent metadata key).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from .ast import Clause, Query

__all__ = ["clause_matches", "matches", "value_key", "word_key", "words"]

_WORD = re.compile(r"[^\W_]+")


def words(text: str) -> list[str]:
    """The lowercase words of ``text``: runs of letters and digits."""
    return _WORD.findall(text.lower())


def word_key(text: str) -> str:
    """The words of ``text`` joined by single spaces: what word-prefix indexes store.

    >>> word_key("Amy.Rocket@Rides.io")
    'amy rocket rides io'
    """
    return " ".join(words(text))


def value_key(value: str) -> str:
    """A metadata value as metadata indexes store it: search compares values case-insensitively.

    >>> value_key("Gold")
    'gold'
    """
    return value.lower()


def _field_value(clause: Clause, record: Mapping[str, Any]) -> Any:
    if clause.field == "metadata":
        return (record.get("metadata") or {}).get(clause.key)
    return record.get(clause.field)


def clause_matches(clause: Clause, record: Mapping[str, Any]) -> bool:
    """Whether one clause (negation included) holds for ``record``."""
    value = _field_value(clause, record)
    wanted = clause.value
    if wanted is None:
        result = value is None or value == ""
    elif clause.field == "created":
        result = _compare(value, clause.operator, int(wanted))
    elif value is None:
        result = False
    elif clause.field == "metadata":
        result = value_key(str(value)) == value_key(str(wanted))
    elif clause.operator == "~":
        result = str(wanted).lower() in str(value).lower()
    else:
        prefix = word_key(str(wanted))
        key = word_key(str(value))
        result = key == prefix or (prefix != "" and key.startswith(prefix + " "))
    return result != clause.negated


def _compare(value: int, operator: str, wanted: int) -> bool:
    if operator in (":", "="):
        return value == wanted
    if operator == ">":
        return value > wanted
    if operator == "<":
        return value < wanted
    if operator == ">=":
        return value >= wanted
    return value <= wanted


def matches(query: Query, record: Mapping[str, Any]) -> bool:
    """Whether ``record`` satisfies the whole query."""
    results = (clause_matches(clause, record) for clause in query.clauses)
    return all(results) if query.conjunction == "AND" else any(results)
