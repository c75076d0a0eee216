"""Parse Stripe's search query language into a Query; malformed input gets a clear error.

Grammar (Stripe's docs, "Search query language")::

    query   := clause ((" " | " AND " | " OR ") clause)*      AND and OR never mixed
    clause  := ["-"] field operator value
    field   := created | email | name | phone | metadata["key"]
    operator:= ":" | "~" | ">" | "<" | "=" | ">=" | "<="
    value   := "quoted" | 'quoted' (backslash escapes) | integer | null

>>> parse('email:"amy@x.io" AND metadata["plan"]:"gold"').clauses[1]
Clause(field='metadata', operator=':', value='gold', key='plan', negated=False)
"""

from __future__ import annotations

import re

from ..errors import InvalidRequestError
from ..integers import parse_int64
from .ast import FIELD_TYPES, Clause, Query

__all__ = ["QueryError", "parse"]

_OPERATORS = (">=", "<=", ":", "~", ">", "<", "=")
_FIELD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_BARE = re.compile(r"[^\s]+")
_ALLOWED = {
    "numeric": {":", "=", ">", "<", ">=", "<="},
    "string": {":", "~"},
    "token": {":"},
}
MIN_SUBSTRING = 3
MAX_CLAUSES = 10
"""Stripe's search docs: "You can combine up to 10 query clauses in a search"."""


class QueryError(InvalidRequestError):
    """The search query is malformed; the message says what and where."""

    def __init__(self, message: str) -> None:
        super().__init__(message, param="query")


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.position = 0

    def fail(self, message: str, position: int | None = None) -> QueryError:
        at = self.position if position is None else position
        return QueryError(f"Invalid search query: {message} (at position {at}).")

    def at_end(self) -> bool:
        return self.position >= len(self.text)

    def skip_space(self) -> bool:
        start = self.position
        while not self.at_end() and self.text[self.position].isspace():
            self.position += 1
        return self.position > start

    def query(self) -> Query:
        self.skip_space()
        if self.at_end():
            raise self.fail("the query is empty")
        clauses = [self.clause()]
        conjunction: str | None = None
        while True:
            spaced = self.skip_space()
            if self.at_end():
                break
            start = self.position
            word = _BARE.match(self.text, self.position)
            keyword = word.group().upper() if word else ""
            if spaced and word is not None and keyword in ("AND", "OR"):
                self.position = word.end()
                if not self.skip_space() or self.at_end():
                    raise self.fail(f"{keyword} must be followed by a space and a clause")
                this = keyword
            elif spaced:
                this = "AND"
            else:
                character = self.text[start]
                raise self.fail(
                    f"unexpected {character!r} after a clause; separate clauses with spaces, AND or OR"
                )
            if conjunction is not None and this != conjunction:
                raise self.fail(
                    "AND and OR cannot be mixed in one query (a space means AND)", start
                )
            conjunction = this
            if len(clauses) == MAX_CLAUSES:
                raise self.fail(f"a query combines at most {MAX_CLAUSES} clauses", start)
            clauses.append(self.clause())
        return Query(tuple(clauses), "OR" if conjunction == "OR" else "AND")

    def clause(self) -> Clause:
        negated = self.text.startswith("-", self.position)
        if negated:
            self.position += 1
        match = _FIELD.match(self.text, self.position)
        if match is None:
            raise self.fail(
                'expected a field name such as email, name, phone, created or metadata["key"]'
            )
        field = match.group()
        if field not in FIELD_TYPES:
            fields = ", ".join(sorted(FIELD_TYPES))
            raise self.fail(f"unknown field {field!r}; customers can be searched by {fields}")
        self.position = match.end()
        key = None
        if field == "metadata":
            if not self.text.startswith("[", self.position):
                raise self.fail('metadata needs a key in brackets, as in metadata["key"]')
            self.position += 1
            key = self.quoted("metadata key")
            if not self.text.startswith("]", self.position):
                raise self.fail("expected ']' after the metadata key")
            self.position += 1
        operator_at = self.position
        operator = next((op for op in _OPERATORS if self.text.startswith(op, self.position)), None)
        if operator is None:
            raise self.fail(f"expected an operator (one of {' '.join(_OPERATORS)}) after {field}")
        self.position += len(operator)
        kind = FIELD_TYPES[field]
        if operator not in _ALLOWED[kind]:
            raise self.fail(
                f"operator {operator!r} is not valid for the {kind} field {field}", operator_at
            )
        # Messages about the value show the field as written: metadata["plan"], not metadata.
        value = self.value(self.text[match.start() : operator_at], kind, operator)
        return Clause(field, operator, value, key, negated)

    def value(self, field: str, kind: str, operator: str) -> str | int | None:
        value_at = self.position
        if self.at_end() or self.text[self.position].isspace():
            raise self.fail(f"expected a value after {field}{operator}")
        if self.text[self.position] in "\"'":
            text = self.quoted("value")
            if kind == "numeric":
                return self.integer(field, text, value_at)
            if operator == "~" and len(text) < MIN_SUBSTRING:
                raise self.fail(
                    f"a substring search with '~' needs at least {MIN_SUBSTRING} characters",
                    value_at,
                )
            return text
        bare = _BARE.match(self.text, self.position)
        assert bare is not None
        word = bare.group()
        if word.lower() == "null":
            if operator != ":":
                raise self.fail(f"null can only be used with ':', not {operator!r}", value_at)
            self.position = bare.end()
            return None
        if kind == "numeric":
            value = self.integer(field, word, value_at)
            self.position = bare.end()
            return value
        raise self.fail(f'string values must be quoted, as in {field}{operator}"{word}"', value_at)

    def integer(self, field: str, text: str, at: int) -> int:
        value = parse_int64(text)
        if value is None:
            raise self.fail(f"{field} takes a 64-bit integer, not {text!r}", at)
        return value

    def quoted(self, what: str) -> str:
        if self.at_end() or self.text[self.position] not in "\"'":
            raise self.fail(f"expected a quoted {what}")
        quote = self.text[self.position]
        start = self.position
        self.position += 1
        characters = []
        while True:
            if self.at_end():
                raise self.fail(f"unterminated quoted {what}", start)
            character = self.text[self.position]
            if character == "\\" and self.position + 1 < len(self.text):
                characters.append(self.text[self.position + 1])
                self.position += 2
                continue
            self.position += 1
            if character == quote:
                return "".join(characters)
            characters.append(character)


def parse(text: str) -> Query:
    """Parse a customer search query; raise QueryError (param ``query``) when malformed."""
    return _Parser(text).query()
