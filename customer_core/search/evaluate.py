"""Evaluate a Query against a customer record: the semantics every store must share.

- ``:`` on a string field (email, name, phone) is a case-insensitive *phrase* match, as
  Stripe documents it ("returns any record where that record contains all of the words
  from the query in the same order"): the query's words must appear among the value's
  words as one contiguous run, in order, anywhere (``name:"ada"`` matches "Augusta Ada
  King", ``name:"king ada"`` does not). Words are whole words, never word prefixes
  (``name:"jen"`` misses "Jenny"; ``~`` finds parts of words). See ``field_words``.
- ``~`` is a case-insensitive substring match (at least 3 characters).
- ``metadata["k"]:"v"`` is a case-insensitive match of the whole value.
- ``created`` compares integers; ``:`` and ``=`` mean equality.
- ``field:null`` holds when the field is empty (null, ``""`` or an absent metadata key).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from itertools import pairwise
from typing import Any

from .ast import Clause, Query

__all__ = [
    "clause_matches",
    "contains_phrase",
    "field_words",
    "index_terms",
    "matches",
    "phrase_terms",
    "value_key",
]

_WORD = re.compile(r"[^\W_]+")


def field_words(field: str, text: str) -> list[str]:
    """The words of a string field's value, as ``:`` compares them, lowercased.

    An email address is one word, the whole address (so ``email:"bob@corp.com"`` finds
    that address in any letter case and nothing else); in names and phone numbers a word
    is a run of letters and digits (anything else separates words). A value or query
    with no words has none to match.

    >>> field_words("name", "Augusta Ada-King, Countess")
    ['augusta', 'ada', 'king', 'countess']
    >>> field_words("email", "Bob@Corp.com")
    ['bob@corp.com']
    """
    if field == "email":
        return [text.lower()] if text else []
    return _WORD.findall(text.lower())


def index_terms(field: str, text: str) -> set[str]:
    """What word indexes hold for a value: its distinct words and its distinct pairs of
    adjacent words (joined by one space, which no word contains), so that a phrase of
    common words finds its few customers through its pairs.

    >>> sorted(index_terms("name", "Ada Ada King"))
    ['ada', 'ada ada', 'ada king', 'king']
    """
    # field_words and phrase_terms inlined: every write of a customer computes these.
    if field == "email":
        return {text.lower()} if text else set()
    words = _WORD.findall(text.lower())
    if len(words) < 2:
        return set(words)
    return {*words, *[f"{first} {second}" for first, second in pairwise(words)]}


def phrase_terms(phrase: Sequence[str]) -> list[str]:
    """The index terms every value containing ``phrase`` holds: its one word, or the pairs
    of adjacent words of a longer phrase (they hold all its words).

    >>> phrase_terms(["ada", "king"]), phrase_terms(["ada"])
    (['ada king'], ['ada'])
    """
    if len(phrase) == 1:
        return [phrase[0]]
    return [f"{phrase[place]} {phrase[place + 1]}" for place in range(len(phrase) - 1)]


def contains_phrase(words: Sequence[str], phrase: Sequence[str]) -> bool:
    """Whether ``phrase`` (at least one word) appears in ``words`` as a contiguous run.

    >>> contains_phrase(["augusta", "ada", "king"], ["ada", "king"])
    True
    >>> contains_phrase(["augusta", "ada", "king"], ["king", "ada"])
    False
    """
    size = len(phrase)
    if size == 0:
        return False
    first = phrase[0]
    return any(
        word == first and list(words[start : start + size]) == list(phrase)
        for start, word in enumerate(words)
    )


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
        phrase = field_words(clause.field, str(wanted))
        result = contains_phrase(field_words(clause.field, str(value)), phrase)
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
